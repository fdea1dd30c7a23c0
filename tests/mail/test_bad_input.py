"""Every bad input of the issue, through the real servers: quotes, HTML-only mail, charsets,
foreign and spoofed senders, auto-replies, bounces, chit-chat, missing reasons, impossible
dates, duplicates, oversized and tampered messages. Nothing is lost, nothing acts twice, and
machine mail is never answered."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from booking.context import Context
from booking.services import bookings, customers, extensions
from booking.views import BookingView, CustomerView
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, bounced, reply_address, reply_to, sample, text_of
from tests.support.mailservers import ReceivedMessage

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
LONG_QUOTE = "\n".join(f"> line {n} of an earlier message, quoted" for n in range(300))


async def booked(
    ctx: Context, desk: Desk, email: str = "ana@example.org", *, language: str = "en",
    name: str = "Ana Test", starts_in: timedelta = timedelta(days=30),
    organization_id: int | None = None,
) -> tuple[CustomerView, BookingView, ReceivedMessage]:  # fmt: skip
    cat = await make_catalog(ctx, starts_in=starts_in, name=f"Salle {email}")
    customer = await make_customer(ctx, email=email, name=name, language=language,
                                   organization_id=organization_id)  # fmt: skip
    booking = await make_held_booking(ctx, cat, customer)
    [held_mail] = await desk.send_out()
    return customer, booking, held_mail


async def status_of(ctx: Context, booking: BookingView) -> str:
    return (await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)).status


async def test_command_under_a_long_quote_is_read(ctx: Context, desk: Desk) -> None:
    _, booking, held = await booked(ctx, desk)
    body = f"On Mon, Guichet wrote:\n{LONG_QUOTE}\n\nCANCEL booked by mistake\n"
    report = await desk.receive(reply_to(held, body, quote=False))
    assert dict(report.outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"


async def test_command_over_a_long_quote_is_read(ctx: Context, desk: Desk) -> None:
    _, _booking, held = await booked(ctx, desk)
    body = f"PAY\n\nOn Mon, Guichet wrote:\n{LONG_QUOTE}\n"
    assert dict((await desk.receive(reply_to(held, body, quote=False))).outcomes) == {"acted": 1}
    [answer] = await desk.send_out()
    assert "/pay/" in text_of(answer)


async def test_apple_mail_bottom_post_pay(ctx: Context, desk: Desk) -> None:
    await booked(ctx, desk, "sophie.bernard@icloud.com", name="Sophie Bernard")
    held = desk.smtp.messages[-1]
    report = await desk.receive(sample("apple_mail_bottom_post.eml", reply_address(held)))
    assert dict(report.outcomes) == {"acted": 1}
    [answer] = await desk.send_out()
    assert "payment link" in text_of(answer)


async def test_outlook_html_only_windows_1252_annuler(ctx: Context, desk: Desk) -> None:
    _, booking, held = await booked(ctx, desk, "celine.dupre@cabinet-dupre.fr", language="fr")
    report = await desk.receive(sample("outlook_html_only_cp1252.eml", reply_address(held)))
    assert dict(report.outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"
    [cancelled] = await desk.send_out()
    assert "annulée" in str(cancelled.message["Subject"])


async def test_thunderbird_iso_8859_1_annuler_maladie_reads_as_illness(
    ctx: Context, desk: Desk
) -> None:
    _, booking, held = await booked(ctx, desk, "marie.lefevre@orange.fr", language="fr")
    report = await desk.receive(sample("thunderbird_fr_latin1.eml", reply_address(held)))
    assert dict(report.outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"
    assert await _cancel_reason(ctx, booking) == "illness"


@pytest.mark.parametrize(("charset", "cte"), [("utf-8", "base64"), ("utf-8", "quoted-printable"),
                                              ("iso-8859-1", "quoted-printable"),
                                              ("cp1252", "quoted-printable")])  # fmt: skip
async def test_any_declared_charset_and_encoding(
    ctx: Context, desk: Desk, charset: str, cte: str
) -> None:
    _, _booking, held = await booked(ctx, desk)
    raw = reply_to(held, "Prolonger jusqu'au 10 décembre, déplacement à Genève", quote=False,
                   charset=charset, cte=cte)  # fmt: skip
    assert dict((await desk.receive(raw)).outcomes) == {"acted": 1}
    [request] = await extensions.list_requests(ctx)
    assert request.reason == "déplacement à Genève"


async def test_html_only_reply_with_blockquote(ctx: Context, desk: Desk) -> None:
    _, booking, held = await booked(ctx, desk)
    html = (
        "<html><body><div>Cancel: price went up</div><br><div class=gmail_quote>"
        "<blockquote>PAY to receive a payment link<br>CANCEL and a reason</blockquote></div>"
        "</body></html>"
    )
    assert dict((await desk.receive(reply_to(held, "", html=html))).outcomes) == {"acted": 1}
    assert await _cancel_reason(ctx, booking) == "price"


async def test_reply_from_another_address_is_refused_and_the_owner_told(
    ctx: Context, desk: Desk
) -> None:
    _, booking, held = await booked(ctx, desk, "paul.martin@gmail.com", name="Paul Martin")
    # "thanks!" from paul.martin@proton.me: an address we do not know.
    report = await desk.receive(sample("thanks.eml", reply_address(held)))
    assert dict(report.outcomes) == {"answered": 1}
    [told] = await desk.send_out()
    assert told.rcpt_tos == ["paul.martin@gmail.com"]  # only the owner; no mail to strangers
    assert "paul.martin@proton.me" in text_of(told)
    assert await status_of(ctx, booking) == "held"


async def test_spoofed_from_with_someone_elses_valid_token_changes_nothing(
    ctx: Context, desk: Desk
) -> None:
    _, booking, held = await booked(ctx, desk)  # Ana's booking and token
    await make_customer(ctx, email="mallory@example.org", name="Mallory")
    raw = reply_to(held, "CANCEL because I say so", sender="mallory@example.org", name="Mallory")
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    assert await status_of(ctx, booking) == "held"
    sent = await desk.send_out()
    assert sorted(m.rcpt_tos[0] for m in sent) == ["ana@example.org", "mallory@example.org"]
    refusal = next(m for m in sent if m.rcpt_tos == ["mallory@example.org"])
    assert "may not act on the booking" in text_of(refusal)
    assert booking.reference not in text_of(refusal)  # a stranger learns nothing of it


async def test_a_contact_of_the_organization_may_act_on_a_colleagues_booking(
    ctx: Context, desk: Desk
) -> None:
    org = await customers.create_organization(ctx, actor=STAFF, name="Leroy Events")
    _, booking, held = await booked(ctx, desk, "marc@leroy-events.fr", organization_id=org)
    anne = await make_customer(ctx, email="anne@leroy-events.fr", name="Anne")
    await customers.add_contact(ctx, actor=STAFF, organization_id=org, customer_id=anne.id)
    raw = reply_to(held, "CANCEL the team cannot come", sender="anne@leroy-events.fr")
    assert dict((await desk.receive(raw)).outcomes) == {"acted": 1}
    assert await status_of(ctx, booking) == "cancelled"
    sent = {m.rcpt_tos[0]: m for m in await desk.send_out()}
    assert "is cancelled" in text_of(sent["anne@leroy-events.fr"])  # the colleague hears it


@pytest.mark.parametrize("name", ["outlook_oof.eml", "ooo_french_auto_submitted.eml",
                                  "mailing_list.eml"])  # fmt: skip
async def test_auto_replies_and_lists_are_recorded_and_never_answered(
    ctx: Context, desk: Desk, name: str
) -> None:
    _, booking, held = await booked(ctx, desk, "thomas.girard@contoso-events.com")
    report = await desk.receive(sample(name, reply_address(held)))
    assert dict(report.outcomes) == {"ignored": 1} and report.flagged == 1
    assert await desk.send_out() == []
    assert await status_of(ctx, booking) == "held"


async def test_a_bounce_marks_the_address_undeliverable_on_the_booking_and_is_not_answered(
    ctx: Context, desk: Desk
) -> None:
    _customer, booking, held = await booked(ctx, desk, "old.address@example.net")
    report = await desk.receive(bounced(sample("dsn_bounce.eml"), held.mail_from))
    assert dict(report.outcomes) == {"ignored": 1}
    assert await desk.send_out() == []
    assert "email_bounced" in await _history(ctx, booking)
    # From now on the customer's notices skip email (no Telegram here: nothing to send).
    await bookings_cancel(ctx, booking)
    assert await desk.send_out() == []


async def test_thanks_gets_nothing_and_free_text_gets_help_and_neither_changes_anything(
    ctx: Context, desk: Desk
) -> None:
    _, booking, held = await booked(ctx, desk)
    assert dict((await desk.receive(reply_to(held, "thanks!"))).outcomes) == {"ignored": 1}
    body = "je veux peut-être annuler ?"
    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"answered": 1}
    [help_mail] = await desk.send_out()
    assert "nothing was changed" in text_of(help_mail)
    assert await status_of(ctx, booking) == "held"


async def test_cancel_without_a_reason_asks_for_one(ctx: Context, desk: Desk) -> None:
    _, booking, held = await booked(ctx, desk, language="fr")
    assert dict((await desk.receive(reply_to(held, "ANNULER"))).outcomes) == {"answered": 1}
    [ask] = await desk.send_out()
    assert "Merci d'écrire le motif après ANNULER" in text_of(ask)
    assert await status_of(ctx, booking) == "held"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("EXTEND 01/11/2026 please", "That date has already passed."),
        ("EXTEND 20 January 2027", "That date is after the performance."),
        ("EXTEND 45/45 sorry", "We could not read the date after EXTEND."),
    ],
)
async def test_extend_with_an_impossible_date_is_refused(
    ctx: Context, desk: Desk, body: str, expected: str
) -> None:
    _, _booking, held = await booked(ctx, desk)
    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"answered": 1}
    [refusal] = await desk.send_out()
    assert expected in text_of(refusal)
    assert await extensions.list_requests(ctx) == []


async def test_a_second_identical_reply_acts_once(ctx: Context, desk: Desk) -> None:
    _, _booking, held = await booked(ctx, desk)
    raw = reply_to(held, "EXTEND 5 December, salary comes then")
    first = await desk.receive(raw, raw)  # delivered twice by the mail system
    again = await desk.receive(raw)  # and once more later
    assert dict(first.outcomes) == {"acted": 1, "duplicate": 1}
    assert dict(again.outcomes) == {"duplicate": 1}
    assert len(await extensions.list_requests(ctx)) == 1
    assert len(await desk.send_out()) == 1
    assert desk.flagged() == 3


async def test_an_oversized_message_gets_a_short_answer_and_acts_not(
    ctx: Context, desk: Desk
) -> None:
    _, booking, held = await booked(ctx, desk)
    raw = reply_to(held, "CANCEL too big\n" + "x" * 300_000, quote=False)
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    assert "too large" in text_of(answer)
    assert await status_of(ctx, booking) == "held"


async def test_a_tampered_token_acts_not(ctx: Context, desk: Desk) -> None:
    _, booking, held = await booked(ctx, desk)
    address = reply_address(held)
    local, domain = address.split("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    raw = reply_to(held, "CANCEL ill").replace(address.encode(), f"{flipped}@{domain}".encode())
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    [refusal] = await desk.send_out()
    assert "could not tell which booking" in text_of(refusal)
    assert await status_of(ctx, booking) == "held"


async def test_new_message_without_token_acts_on_nothing_and_pay_gets_the_status(
    ctx: Context, desk: Desk
) -> None:
    """No token, no booking: even "the sender's only open booking" is never guessed. PAY is
    answered like STATUS (every booking and its pay link, to the registered address)."""
    _, booking, held = await booked(ctx, desk)
    raw = reply_to(held, "PAY", headers={}).replace(reply_address(held).encode(),
                                                     b"desk@venue.example")  # fmt: skip
    assert dict((await desk.receive(raw)).outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    assert answer.rcpt_tos == ["ana@example.org"]
    assert booking.reference in text_of(answer)


async def test_unknown_sender_without_token_is_recorded_and_not_answered(
    ctx: Context, desk: Desk
) -> None:
    _, _, held = await booked(ctx, desk)
    raw = reply_to(held, "STATUS", sender="stranger@example.com").replace(
        reply_address(held).encode(), b"desk@venue.example"
    )
    assert dict((await desk.receive(raw)).outcomes) == {"ignored": 1}
    assert await desk.send_out() == []


async def bookings_cancel(ctx: Context, booking: BookingView) -> None:
    from booking.services import cancellations

    await cancellations.cancel(ctx, actor=STAFF, reference=booking.reference, reason="other",
                               note="bounced")  # fmt: skip


async def _history(ctx: Context, booking: BookingView) -> list[str]:
    from sqlalchemy import select

    from booking.tables.bookings import HistoryEntry

    async def work(session):  # type: ignore[no-untyped-def]
        query = select(HistoryEntry.action).where(HistoryEntry.booking_id == booking.id)
        return list((await session.execute(query)).scalars())

    return list(await ctx.db.read(work))


async def _cancel_reason(ctx: Context, booking: BookingView) -> str:
    from sqlalchemy import select

    from booking.tables.bookings import HistoryEntry

    async def work(session):  # type: ignore[no-untyped-def]
        query = select(HistoryEntry.detail).where(
            HistoryEntry.booking_id == booking.id, HistoryEntry.action == "cancelled"
        )
        return (await session.execute(query)).scalar_one()

    return str(json.loads(await ctx.db.read(work))["reason"])
