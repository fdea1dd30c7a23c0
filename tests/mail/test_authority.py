"""Email authority (issue 9, item 1): who may change a booking by email, with what proof.

Each attack runs through the real servers (Dovecot in, SMTP recorder out) and fails; its
companion removes the one guard (monkeypatched out, like the race tests' unguarded twins)
and shows the same attack succeeding, so each test proves its guard is what stops it."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from booking.context import Context
from booking.services import bookings, common
from booking.services import inbound as store
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView
from mail import inbound
from mail.inbound import process
from mail.parse import parse_message
from mail.settings import MailSettings
from mail.tokens import make_reply_token, reply_address
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import DESK, Desk, reply_to, settings_for, text_of
from tests.support.mailservers import ReceivedMessage, SmtpRecorder

sqlite = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
AUTHSERV = "mx.venue.example"


async def held(ctx: Context, desk: Desk) -> tuple[BookingView, ReceivedMessage]:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    [held_mail] = await desk.send_out()
    return booking, held_mail


async def status_of(ctx: Context, booking: BookingView) -> str:
    return (await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)).status


def new_message(body: str, *, sender: str = "ana@example.org", to: str = DESK,
                headers: dict[str, str] | None = None) -> bytes:  # fmt: skip
    """A new message (no reply token), as anyone may write one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "my booking"
    message["Message-ID"] = make_msgid(domain="mail.example.org")
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body)
    return message.as_bytes()


def with_auth(raw: bytes, *values: str) -> bytes:
    """``raw`` with Authentication-Results headers on top, as receiving servers add them."""
    return b"".join(f"Authentication-Results: {v}\r\n".encode() for v in values) + raw


async def _anyone(session: object, booking: object, actor: object) -> None:
    return None


@pytest.fixture
def checked(desk: Desk) -> Desk:
    """The desk with the operator's authserv-id configured: verdicts are read."""
    desk.settings = desk.settings.model_copy(update={"mail_authserv_id": AUTHSERV})
    return desk


# -- no token: nothing changes ------------------------------------------------------------------


@sqlite
async def test_forged_from_without_a_token_cancels_nothing(ctx: Context, desk: Desk) -> None:
    booking, _ = await held(ctx, desk)
    # Mallory knows Ana's address and her only open booking: that used to be enough.
    report = await desk.receive(new_message("CANCEL I am ill"))
    assert dict(report.outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"
    [refusal] = await desk.send_out()
    assert refusal.rcpt_tos == ["ana@example.org"]
    assert "could not tell which booking" in text_of(refusal)


@sqlite
async def test_companion_forged_from_without_a_token_cancels_when_the_booking_is_guessed(
    ctx: Context, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, _ = await held(ctx, desk)
    # The unguarded twin: the old "sender's only open booking" guess.
    guessed = await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)
    monkeypatch.setattr(inbound, "target_booking", lambda route: guessed)
    assert dict((await desk.receive(new_message("CANCEL I am ill"))).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"


@sqlite
async def test_status_without_a_token_goes_to_the_registered_address_only(
    ctx: Context, desk: Desk
) -> None:
    booking, _ = await held(ctx, desk)
    raw = new_message("STATUS", sender="Ana <ANA@Example.org>",
                      headers={"Reply-To": "mallory@evil.example"})  # fmt: skip
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    [status] = await desk.send_out()
    assert status.rcpt_tos == ["ana@example.org"]  # the customer record's address
    assert booking.reference in text_of(status) and "/pay/" in text_of(status)


# -- a leaked token -----------------------------------------------------------------------------


@sqlite
async def test_leaked_token_from_the_attackers_own_address_is_refused_and_the_owner_told(
    ctx: Context, desk: Desk
) -> None:
    booking, held_mail = await held(ctx, desk)
    raw = reply_to(held_mail, "CANCEL not coming", sender="mallory@evil.example", name="M")
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"
    [told] = await desk.send_out()
    assert told.rcpt_tos == ["ana@example.org"]  # the stranger gets nothing
    assert "mallory@evil.example" in text_of(told)


@sqlite
async def test_companion_leaked_token_cancels_without_the_from_check(
    ctx: Context, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, held_mail = await held(ctx, desk)
    await make_customer(ctx, email="mallory@evil.example", name="Mallory")
    # Two guards stand in the way: the email channel's From check and the core's owner
    # check on the acting customer (defence in depth); both are removed here.
    monkeypatch.setattr(store, "may_act", lambda sender, booking, holder: True)
    monkeypatch.setattr(common, "check_owner", _anyone)
    raw = reply_to(held_mail, "CANCEL not coming", sender="mallory@evil.example", name="M")
    assert dict((await desk.receive(raw)).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"


@sqlite
async def test_leaked_token_with_the_customers_from_forged_and_dmarc_fail_is_refused(
    ctx: Context, checked: Desk
) -> None:
    booking, held_mail = await held(ctx, checked)
    raw = with_auth(
        reply_to(held_mail, "CANCEL not coming"),
        f"{AUTHSERV}; dmarc=fail (p=none) header.from=example.org; spf=fail "
        "smtp.mailfrom=example.org; dkim=none",
    )
    assert dict((await checked.receive(raw)).outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"
    [told] = await checked.send_out()
    assert told.rcpt_tos == ["ana@example.org"]
    assert "found it forged" in text_of(told)


@sqlite
async def test_companion_dmarc_fail_cancels_without_the_dmarc_check(
    ctx: Context, checked: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, held_mail = await held(ctx, checked)
    monkeypatch.setattr(inbound, "dmarc_failed", lambda parsed, authserv_id: False)
    raw = with_auth(reply_to(held_mail, "CANCEL not coming"),
                    f"{AUTHSERV}; dmarc=fail header.from=example.org")  # fmt: skip
    assert dict((await checked.receive(raw)).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"


@sqlite
async def test_spf_and_dkim_both_failing_is_refused(ctx: Context, checked: Desk) -> None:
    booking, held_mail = await held(ctx, checked)
    raw = with_auth(reply_to(held_mail, "CANCEL not coming"),
                    f"{AUTHSERV}; spf=fail smtp.mailfrom=example.org; dkim=fail")  # fmt: skip
    assert dict((await checked.receive(raw)).outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"


@pytest.mark.parametrize(
    "headers",
    [
        # Somebody else's server (or the sender) says fail: not our verdict, ignored.
        ("elsewhere.example; dmarc=fail header.from=example.org",),
        # Ours says pass; one added below it by the sender says fail: still ours only.
        (f"{AUTHSERV}; dmarc=pass header.from=example.org",
         f"{AUTHSERV.upper()}x; dmarc=fail header.from=example.org"),
    ],
)  # fmt: skip
@sqlite
async def test_authentication_results_of_another_authserv_id_are_ignored(
    ctx: Context, checked: Desk, headers: tuple[str, ...]
) -> None:
    booking, held_mail = await held(ctx, checked)
    raw = with_auth(reply_to(held_mail, "CANCEL not coming"), *headers)
    assert dict((await checked.receive(raw)).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"


@sqlite
async def test_a_forged_pass_of_another_authserv_id_does_not_hide_our_fail(
    ctx: Context, checked: Desk
) -> None:
    booking, held_mail = await held(ctx, checked)
    raw = with_auth(
        reply_to(held_mail, "CANCEL not coming"),
        f"{AUTHSERV}; dmarc=fail header.from=example.org",
        "attacker.example; dmarc=pass header.from=example.org; spf=pass; dkim=pass",
    )
    assert dict((await checked.receive(raw)).outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"


def test_without_an_authserv_id_no_verdict_is_read() -> None:
    raw = with_auth(new_message("CANCEL"), "mx.venue.example; dmarc=fail header.from=example.org")
    parsed = parse_message(raw, max_bytes=100_000)
    assert inbound.dmarc_failed(parsed, "mx.venue.example")
    assert not inbound.dmarc_failed(parsed, "")
    assert not inbound.dmarc_failed(parsed, "other.example")


@pytest.mark.parametrize("garbage", ["", ";;;", "mx.venue.example; dmarc", "x" * 10_000, "(((("])
def test_unreadable_authentication_results_count_as_no_verdict(garbage: str) -> None:
    parsed = parse_message(with_auth(new_message("HELP"), garbage), max_bytes=100_000)
    assert not inbound.dmarc_failed(parsed, AUTHSERV)


# -- the token is bound to the booking and its customer ----------------------------------------


@sqlite
async def test_a_genuine_token_for_another_customer_does_not_open_the_booking(
    ctx: Context, desk: Desk
) -> None:
    booking, _ = await held(ctx, desk)
    paul = await make_customer(ctx, email="paul@example.org", name="Paul")
    # Signed with the real key but made for Paul: e.g. a booking moved to Ana since.
    token = make_reply_token(b"test-secret", booking.reference, paul.id)
    raw = new_message("CANCEL not coming", sender="paul@example.org",
                      to=reply_address(DESK, token))  # fmt: skip
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"


@sqlite
async def test_companion_an_unbound_token_cancels_without_the_binding_check(
    ctx: Context, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking, _ = await held(ctx, desk)
    paul = await make_customer(ctx, email="paul@example.org", name="Paul")
    monkeypatch.setattr(store, "token_binds", lambda booking, holder: True)
    monkeypatch.setattr(common, "check_owner", _anyone)  # the core's check, as above
    token = make_reply_token(b"test-secret", booking.reference, paul.id)
    raw = new_message("CANCEL not coming", sender="paul@example.org",
                      to=reply_address(DESK, token))  # fmt: skip
    assert dict((await desk.receive(raw)).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"


# -- answers are rate-limited per recipient -----------------------------------------------------


async def _answers_to_fifty_forgeries(ctx: Context, settings: MailSettings) -> int:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await make_held_booking(ctx, cat, ana)
    for n in range(50):
        raw = new_message(f"STATUS {n}", sender="ana@example.org")
        await process(ctx, raw, settings=settings, secret=b"test-secret")

    async def count(session):  # type: ignore[no-untyped-def]
        query = select(func.count()).where(OutboxMessage.dedupe_key.startswith("inbound:"))  # type: ignore[attr-defined]
        return (await session.execute(query)).scalar_one()

    return int(await ctx.db.read(count))


@sqlite
async def test_fifty_forged_messages_get_at_most_the_hourly_limit_of_answers(
    ctx: Context, smtp_server: SmtpRecorder
) -> None:
    answers = await _answers_to_fifty_forgeries(ctx, settings_for(smtp_server))
    assert answers == store.ANSWERS_PER_HOUR


@sqlite
async def test_companion_fifty_forged_messages_get_fifty_answers_without_the_limit(
    ctx: Context, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unlimited(session, customer_id, now):  # type: ignore[no-untyped-def]
        return True

    monkeypatch.setattr(store, "within_answer_limit", unlimited)
    assert await _answers_to_fifty_forgeries(ctx, settings_for(smtp_server)) == 50
