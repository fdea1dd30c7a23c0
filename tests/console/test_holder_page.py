"""The holder page ``/account`` (issue 13, item 1), on SQLite and PostgreSQL, the code mailed
over real SMTP on loopback: email and pass code, then the mailed one-time code, then the
holder's passes (dates with check-in, credit, PDF, phone card); the same answer for an unknown
email, a wrong pass code and a stranger's pass code; a code tried too often, expired or used
twice; CSRF; a stranger's pass; the session ended by sign-out, by time, and when the pass is
cancelled, refunded or moved, or the address changes; email off. Each guard has a companion
that removes it and shows the attack getting through. French at the end; the Chromium walk
is in test_holder_page_browser.py, the bursts in tests/concurrency/test_holder_code_race.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from jinja2.ext import babel_extract
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.i18n import translations
from booking.queries import holder_passes
from booking.queries import passes as pass_queries
from booking.services import cancellations, checkin, holder_access
from booking.tables.bookings import Booking
from booking.tables.customers import Customer
from booking.tables.passes import Pass
from console.web import account
from tests.builders import STAFF
from tests.console.holder_page import (
    AccountClient,
    Mail,
    Season,
    app_for,
    code_mails,
    code_rows,
    end_reasons,
    forget_throttles,
    holder,
    open_sessions,
    season,
    text_of,
)
from tests.mail.conftest import PUBLIC_URL
from tests.support.english import english_in, visible_text
from tests.support.fixtures import smtp_server  # noqa: F401
from tests.support.mailservers import SmtpRecorder

DOOR = Actor(kind="staff", name="Door Test", channel="console")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "account"
DATA = ["Ana", "Test", "Abonnement", "Opera", "Jazz", "Stalls", "Guichet", "PDF", "Zoé"]


@pytest.fixture
async def mail(ctx: Context, smtp_server: SmtpRecorder) -> AsyncIterator[Mail]:  # noqa: F811
    await forget_throttles(ctx)
    found = Mail(ctx, smtp_server)
    yield found
    await found.close()


@pytest.fixture
async def browser(ctx: Context) -> AsyncIterator[AccountClient]:
    async with AccountClient(app_for(ctx)) as client:
        yield client


@pytest.fixture
async def sold(ctx: Context) -> Season:
    return await season(ctx)


def normalized(html: str) -> str:
    return re.sub(r'name="csrf" value="[^"]+"', 'name="csrf" value=""', html)


# -- the flow ---------------------------------------------------------------------------------


async def test_the_holder_signs_in_with_the_mailed_code_and_sees_their_passes(
    ctx: Context, clock: FrozenClock, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    detail = await pass_queries.pass_detail(ctx, pass_id=ana.pass_id)
    first = detail.dates[0]
    clock.set(first.starts_at - timedelta(minutes=30))
    admitted = await checkin.admit(
        ctx, actor=DOOR, secret=ana.secret, performance_id=first.performance_id, door="North"
    )
    assert admitted.outcome == "admitted"

    form = await browser.get()
    assert form.status_code == 200 and 'name="pass_code"' in form.text
    asked = await browser.ask("  Ana@Example.org ", ana.code.lower().replace("-", " "))
    assert asked.status_code == 303 and asked.headers["location"] == "/account/code"
    cookie = asked.headers["set-cookie"]
    assert f"{account.COOKIE}=" in cookie and "Path=/account" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    page = await browser.get("/account/code")
    assert "If this pass is yours, we have sent a code" in page.text
    [sent] = await mail.code_mails()
    assert sent.rcpt_tos == ["ana@example.org"]
    assert sent.message["Subject"] == "Your code for the holder page"
    assert ana.code in text_of(sent) and "valid for 15 minutes" in text_of(sent)
    code = re.search(r"^\s+(\d{6})\s*$", text_of(sent), re.MULTILINE)
    assert code is not None

    entered = await browser.enter(code.group(1))
    assert entered.status_code == 303 and entered.headers["location"] == "/account"
    overview = await browser.get()

    text = visible_text(overview.text)
    assert "Signed in as Ana Test (ana@example.org)" in text
    assert "Abonnement · 2026/27" in text and ana.code in text
    assert (
        "Stalls · row A · seat 3" in text
        and "Paid: this pass admits you" in text
        and "CHF\xa00.00" in text
    )
    assert text.count("Not checked in") == 4
    assert re.search(r"Checked in \w{3} \d+ \w{3} 2026, \d\d:\d\d .* at North", text)
    assert f'href="/t/{ana.secret}"' in overview.text
    assert overview.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in overview.headers["content-security-policy"]
    pdf = await browser.get(f"/account/passes/{ana.pass_id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert f"pass-{ana.code}.pdf" in pdf.headers["content-disposition"]
    assert ana.code in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    style = await browser.get("/account/style.css")
    assert style.status_code == 200 and "text/css" in style.headers["content-type"]


async def test_the_overview_reads_every_pass_and_its_check_ins(
    ctx: Context, clock: FrozenClock, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    unpaid = await holder(ctx, sold, seat=4, paid=False)  # the same customer, a second pass
    detail = await pass_queries.pass_detail(ctx, pass_id=ana.pass_id)
    clock.set(detail.dates[1].starts_at)
    await checkin.admit(
        ctx, actor=DOOR, secret=ana.secret, performance_id=detail.dates[1].performance_id
    )

    found = await holder_passes.holder_passes(ctx, customer_id=ana.customer.id)

    assert [p.detail.id for p in found] == [unpaid.pass_id, ana.pass_id]
    assert [p.admits for p in found] == [False, True]
    assert [d.admitted_at is not None for d in found[1].dates] == [False, True, False, False, False]


# -- enumeration ------------------------------------------------------------------------------


async def code_page_after(
    ctx: Context, email: str, pass_code: str, *, address: tuple[str, int]
) -> tuple[int, str, str, str]:
    """What a fresh browser sees asking with these: the answer, the code page, and the answer
    to a wrong code (as status and page text, the CSRF token blanked)."""
    async with AccountClient(app_for(ctx), client=address) as client:
        asked = await client.ask(email, pass_code)
        page = await client.get("/account/code")
        wrong = await client.enter("000000")
    return (
        asked.status_code,
        asked.headers.get("location", ""),
        normalized(page.text),
        (f"{wrong.status_code} {normalized(wrong.text)}"),
    )


async def test_unknown_email_wrong_pass_code_and_a_strangers_pass_code_answer_alike(
    ctx: Context, mail: Mail, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    zoe = await holder(ctx, sold, email="zoe@example.org", name="Zoé Test", seat=5)
    wrong_code = "ZZZ-ZZZ" if ana.code != "ZZZ-ZZZ" else "YYY-YYY"

    answers = [
        await code_page_after(ctx, email, code, address=(f"127.0.3.{n}", 5000))
        for n, (email, code) in enumerate(
            [
                (ana.email, ana.code),  # the real one
                ("nobody@example.org", ana.code),  # an unknown email
                (ana.email, wrong_code),  # a pass code nobody has
                (ana.email, zoe.code),  # a stranger's pass code with one's own address
                (zoe.email, ana.code),  # one's own pass code with a stranger's address
            ]
        )
    ]

    assert len(set(answers)) == 1, answers
    assert answers[0][:2] == (303, "/account/code")
    assert "That is not the code. 4 more tries." in answers[0][3]
    assert await code_mails(ctx) == 1  # only the real one mailed a code
    [sent] = await mail.code_mails()
    assert sent.rcpt_tos == [ana.email]


async def test_companion_without_decoys_a_stranger_tells_which_pass_codes_exist(
    ctx: Context, mail: Mail, sold: Season, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack the decoy rows stop: with no row for a request that matched nothing, its
    first wrong code is answered "expired" at once, a real one's "4 more tries"."""
    monkeypatch.setattr(holder_access, "answers_alike", lambda: False)
    ana = await holder(ctx, sold)
    real = await code_page_after(ctx, ana.email, ana.code, address=("127.0.3.1", 5000))
    unknown = await code_page_after(ctx, "nobody@example.org", ana.code, address=("127.0.3.2", 1))
    assert real[3] != unknown[3]
    assert real[3].startswith("400") and unknown[3].startswith("410")


async def test_too_many_requests_for_one_pass_are_refused_alike_matched_or_not(
    ctx: Context, mail: Mail, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    for email in (ana.email, "nobody@example.org"):
        statuses = []
        for n in range(holder_access.CODES_PER_PAIR + 1):
            async with AccountClient(app_for(ctx), client=(f"127.0.4.{n}", 1)) as client:
                answer = await client.ask(email, ana.code)
                statuses.append(answer.status_code)
        assert statuses == [303] * holder_access.CODES_PER_PAIR + [429], (email, statuses)
        assert "Too many codes were asked for" in answer.text
    assert await code_mails(ctx) == holder_access.CODES_PER_PAIR


# -- the code ----------------------------------------------------------------------------------


async def test_a_code_tried_too_often_dies_and_the_holder_must_ask_again(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.ask(ana.email, ana.code)
    code = await mail.code_for(ana.email)
    wrong = "000000" if code != "000000" else "111111"
    copied = dict(browser.http.cookies)  # the challenge, kept by whoever guesses
    pages = [await browser.enter(wrong) for _ in range(holder_access.MAX_ATTEMPTS)]

    assert [p.status_code for p in pages] == [400] * 4 + [410]
    assert "That is not the code. 1 more try." in pages[3].text
    assert "tried too many times and no longer works" in pages[4].text
    assert 'href="/account"' in pages[4].text  # ask again
    # The code is dead, even typed right: this browser is sent back to ask again ...
    right = await browser.enter(code)
    assert right.status_code == 303 and right.headers["location"] == "/account"
    # ... and a copy of the cookie holding the challenge is refused too.
    async with AccountClient(app_for(ctx)) as guesser:
        guesser.http.cookies.update(copied)
        await guesser.get("/account/code")
        again = await guesser.enter(code)
    assert again.status_code == 410 and "tried too many times" in again.text
    assert await open_sessions(ctx) == 0


async def test_companion_without_the_try_count_a_code_can_be_guessed_on_and_on(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def uncounted(session: AsyncSession, code_id: int) -> int:
        return 1

    monkeypatch.setattr(holder_access, "count_try", uncounted)
    ana = await holder(ctx, sold)
    await browser.ask(ana.email, ana.code)
    code = await mail.code_for(ana.email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(holder_access.MAX_ATTEMPTS * 2):
        await browser.enter(wrong)
    guessed = await browser.enter(code)
    assert guessed.status_code == 303 and await open_sessions(ctx) == 1


async def test_an_expired_code_is_refused(
    ctx: Context, clock: FrozenClock, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.ask(ana.email, ana.code)
    code = await mail.code_for(ana.email)
    clock.advance(holder_access.CODE_TTL + timedelta(seconds=1))

    late = await browser.enter(code)

    assert late.status_code == 410 and "has expired or was used already" in late.text
    assert await open_sessions(ctx) == 0


async def test_a_used_code_signs_in_once(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.ask(ana.email, ana.code)
    code = await mail.code_for(ana.email)
    copied = dict(browser.http.cookies)  # the cookie with the challenge, before the code

    assert (await browser.enter(code)).status_code == 303
    async with AccountClient(app_for(ctx)) as replay:
        replay.http.cookies.update(copied)
        await replay.get("/account/code")
        again = await replay.enter(code)

    assert again.status_code == 410 and "was used already" in again.text
    assert await open_sessions(ctx) == 1


async def test_companion_without_the_single_use_guard_a_copied_code_signs_in_twice(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always(session: AsyncSession, code_id: int, now: Any) -> bool:
        return True

    ana = await holder(ctx, sold)
    await browser.ask(ana.email, ana.code)
    code = await mail.code_for(ana.email)
    copied = dict(browser.http.cookies)
    # Both single-use guards gone: the used mark read first, and the compare-and-set.
    monkeypatch.setattr(holder_access, "use_code_once", always)
    monkeypatch.setattr(holder_access, "spent", lambda row, now: row.expires_at <= now)
    await browser.enter(code)
    async with AccountClient(app_for(ctx)) as replay:
        replay.http.cookies.update(copied)
        await replay.get("/account/code")
        again = await replay.enter(code)
    assert again.status_code == 303
    assert await open_sessions(ctx) == 2


# -- CSRF --------------------------------------------------------------------------------------


async def test_a_form_without_its_csrf_token_changes_nothing(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    for token in ("", "forged"):
        refused = await browser.ask(ana.email, ana.code, csrf=token)
        assert refused.status_code == 403 and "This form has expired" in refused.text
    assert await code_mails(ctx) == 0 and await code_rows(ctx) == 0
    await browser.sign_in(mail, ana)
    for path in ("/account/signout", "/account/code"):
        refused = await browser.post(path, {"code": "123456"}, csrf="")
        assert refused.status_code == 403
    assert await open_sessions(ctx) == 1
    assert "Signed in as" in (await browser.get()).text


async def test_companion_without_the_csrf_check_a_cross_site_form_signs_the_holder_out(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    monkeypatch.setattr(account.AccountCookie, "csrf_ok", lambda self, sent: True)
    attack = await browser.post("/account/signout", {}, csrf="")
    assert attack.status_code == 303 and await open_sessions(ctx) == 0


# -- a stranger's pass -----------------------------------------------------------------------


async def test_a_strangers_pass_is_neither_listed_nor_printed(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    zoe = await holder(ctx, sold, email="zoe@example.org", name="Zoé Test", seat=5)
    overview = await browser.sign_in(mail, ana)
    assert zoe.code not in overview.text and zoe.secret not in overview.text

    pdf = await browser.get(f"/account/passes/{zoe.pass_id}/pdf")

    assert pdf.status_code == 404 and "There is no such pass among yours" in pdf.text
    assert (await browser.get("/account/passes/999999/pdf")).status_code == 404


async def test_companion_without_the_owner_filter_a_strangers_pdf_is_printed(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await holder(ctx, sold)
    zoe = await holder(ctx, sold, email="zoe@example.org", name="Zoé Test", seat=5)
    await browser.sign_in(mail, ana)

    async def anyones(ctx: Context, *, customer_id: int, pass_id: int) -> Any:
        owner = (await pass_queries.pass_detail(ctx, pass_id=pass_id)).customer_id
        found = await holder_passes.holder_passes(ctx, customer_id=owner)
        return next(p for p in found if p.detail.id == pass_id)

    monkeypatch.setattr(holder_passes, "holder_pass", anyones)
    pdf = await browser.get(f"/account/passes/{zoe.pass_id}/pdf")
    assert pdf.status_code == 200 and zoe.code in pdf.headers["content-disposition"]


# -- the session ends --------------------------------------------------------------------------


async def set_in(ctx: Context, statement: Any) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(statement)

    await ctx.db.write(work)


async def test_the_session_ends_when_the_pass_is_cancelled(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    await cancellations.cancel(ctx, actor=STAFF, reference=ana.reference, reason="illness")

    page = await browser.get()

    assert "Your session has ended" in page.text and 'name="pass_code"' in page.text
    assert (await browser.get(f"/account/passes/{ana.pass_id}/pdf")).status_code == 303
    assert await end_reasons(ctx) == ["owner_changed"]


async def test_companion_without_the_owner_check_a_cancelled_pass_keeps_the_page_open(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    await cancellations.cancel(ctx, actor=STAFF, reference=ana.reference, reason="illness")

    async def holds(session: AsyncSession, customer_id: int, key: str, pass_code: str) -> bool:
        return True

    monkeypatch.setattr(holder_access, "owner_still_holds", holds)
    assert "Signed in as" in (await browser.get()).text


@pytest.mark.parametrize("change", ["refunded", "moved", "email"])
async def test_the_session_ends_when_the_proof_no_longer_holds(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season, change: str
) -> None:
    ana = await holder(ctx, sold)
    zoe = await holder(ctx, sold, email="zoe@example.org", name="Zoé Test", seat=5)
    await browser.sign_in(mail, ana)
    statements: dict[str, Any] = {
        "refunded": update(Booking)
        .where(col(Booking.reference) == ana.reference)
        .values(refund_due=True),
        "moved": update(Pass)  # the pass changed hands
        .where(col(Pass.id) == ana.pass_id)
        .values(customer_id=zoe.customer.id),
        "email": update(Customer)
        .where(col(Customer.id) == ana.customer.id)
        .values(email="ana@new.example", email_key="ana@new.example"),
    }
    await set_in(ctx, statements[change])
    assert "Your session has ended" in (await browser.get()).text
    assert await open_sessions(ctx) == 0


async def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    copied = dict(browser.http.cookies)

    out = await browser.post("/account/signout", {})
    assert out.status_code == 303
    assert "You are signed out." in (await browser.get()).text
    async with AccountClient(app_for(ctx)) as thief:
        thief.http.cookies.update(copied)
        stolen = await thief.get()
    assert "Signed in as" not in stolen.text and "Your session has ended" in stolen.text
    assert await end_reasons(ctx) == ["signed_out"]


async def test_the_session_ends_after_a_while_without_a_request(
    ctx: Context, clock: FrozenClock, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    clock.advance(holder_access.IDLE - timedelta(minutes=1))
    assert "Signed in as" in (await browser.get()).text  # a request moves the idle clock
    clock.advance(holder_access.IDLE - timedelta(minutes=1))
    assert "Signed in as" in (await browser.get()).text
    clock.advance(holder_access.IDLE + timedelta(seconds=1))
    assert "Your session has ended" in (await browser.get()).text
    assert await end_reasons(ctx) == ["expired"]


async def test_a_forged_cookie_is_nobody(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    value = browser.http.cookies[account.COOKIE]
    async with AccountClient(app_for(ctx)) as forger:
        forger.http.cookies.set(account.COOKIE, value[:-2] + "AA", domain="tickets.venue.example")
        page = await forger.get()
    assert "Signed in as" not in page.text and 'name="pass_code"' in page.text


# -- email off -----------------------------------------------------------------------------------


async def test_when_no_email_can_be_sent_the_page_says_so_and_sends_nothing(
    ctx: Context, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    assert 'name="pass_code"' in (await browser.get()).text
    del ctx.channels["email"]  # mail off (or out) since the form was shown

    form = await browser.get()
    assert "cannot send sign-in codes at the moment" in form.text
    assert 'name="pass_code"' not in form.text
    asked = await browser.ask(ana.email, ana.code)

    assert asked.status_code == 503 and "cannot send sign-in codes" in asked.text
    assert "we have sent" not in asked.text
    assert await code_rows(ctx) == 0 and await code_mails(ctx) == 0


async def test_bad_input_is_answered_beside_its_field(
    ctx: Context, mail: Mail, browser: AccountClient
) -> None:
    cases = {
        ("", ""): ["Type your email address.", "Type the pass code printed on your pass."],
        ("ana", "K7M-4QX"): ["This is not an email address"],
        ("ana@example.org", "12"): ["A pass code has six letters and digits, like K7M-4QX."],
        ("a" * 300 + "@example.org", "K7M-4QX"): ["This is not an email address"],
    }
    for (email, code), messages in cases.items():
        page = await browser.ask(email, code)
        assert page.status_code == 400
        for message in messages:
            assert message in page.text
    assert await code_rows(ctx) == 0


# -- French --------------------------------------------------------------------------------------


async def test_the_holder_page_and_its_mail_in_french(
    ctx: Context, clock: FrozenClock, mail: Mail, sold: Season
) -> None:
    zoe = await holder(ctx, sold, email="zoe@example.org", name="Zoé Test", first_name="Zoé",
                       language="fr")  # fmt: skip
    french = {"accept-language": "fr-CH,fr;q=0.9"}
    async with AccountClient(app_for(ctx)) as browser:
        pages = [await browser.get(headers=french)]
        pages.append(await browser.ask("zoe@example.org", "12", headers=french))
        await browser.ask(zoe.email, zoe.code, headers=french)
        pages.append(await browser.get("/account/code", headers=french))
        [sent] = await mail.code_mails()
        pages.append(await browser.enter("000000", headers=french))
        code = re.search(r"^\s+(\d{6})\s*$", text_of(sent), re.MULTILINE)
        assert code is not None
        await browser.enter(code.group(1), headers=french)
        pages.append(await browser.get(headers=french))
        pages.append(await browser.get(f"/account/passes/{zoe.pass_id + 99}/pdf", headers=french))
    assert sent.message["Subject"] == "Votre code pour l'espace abonné"
    assert not english_in(text_of(sent), DATA), english_in(text_of(sent), DATA)
    assert "Espace abonné" in pages[0].text
    assert "Connecté en tant que Zoé Test" in visible_text(pages[4].text)
    assert "Payé" in visible_text(pages[4].text)
    for page in pages:
        text = visible_text(page.text)
        assert not english_in(text, DATA), (page.url, english_in(text, DATA))


async def test_the_language_can_be_switched(ctx: Context, browser: AccountClient) -> None:
    french = await browser.get("/account?lang=fr")
    assert 'lang="fr"' in french.text
    assert 'lang="fr"' in (await browser.get()).text  # kept in the cookie
    assert 'lang="en"' in (await browser.get("/account?lang=en")).text
    assert PUBLIC_URL.startswith("https://")


async def test_the_session_ends_at_last_however_busy(
    ctx: Context, clock: FrozenClock, mail: Mail, browser: AccountClient, sold: Season
) -> None:
    ana = await holder(ctx, sold)
    await browser.sign_in(mail, ana)
    signed_in_at = clock.now()
    step = holder_access.IDLE - timedelta(minutes=5)
    while clock.now() + step < signed_in_at + holder_access.ABSOLUTE:
        clock.advance(step)
        assert "Signed in as" in (await browser.get()).text
    clock.advance(step)
    assert "Your session has ended" in (await browser.get()).text
    assert await end_reasons(ctx) == ["expired"]


def test_every_holder_page_string_has_a_french_translation() -> None:
    known = translations("fr")._catalog  # type: ignore[attr-defined]  # msgid -> msgstr
    missing = []
    for path in sorted(TEMPLATES.glob("*.html")):
        with path.open("rb") as template:
            for _, _, message, _ in babel_extract(
                template, ("_", "ngettext"), [],
                {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "1"},
            ):  # fmt: skip
                singular = message if isinstance(message, str) else message[0]
                plural = (singular, 1) if isinstance(message, tuple) and message[1] else None
                if (plural or singular) not in known:
                    missing.append(singular)
    assert not missing, missing
