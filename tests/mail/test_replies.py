"""End to end against real servers: booking email out, a reply in, the service acts, the answer
goes out in the same thread, the message is flagged. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx

from booking.context import Context
from booking.services import bookings, customers, extensions
from console.payments.test_provider import TestProvider
from console.web import pay
from console.web.app import build_app
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import PUBLIC_URL, Desk, pay_path, reply_address, reply_to, sample, text_of


async def test_held_email_reply_pay_pay_link_test_provider_tickets_emailed(
    ctx: Context, desk: Desk
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = await make_held_booking(ctx, cat, ana)
    [held_mail] = await desk.send_out()
    assert held_mail.rcpt_tos == ["ana@example.org"]
    assert held_mail.message["Message-ID"] == f"<booking.{held.reference}@venue.example>"

    report = await desk.receive(reply_to(held_mail, "PAY please"))
    assert dict(report.outcomes) == {"acted": 1} and report.flagged == 1
    assert desk.flagged() == 1
    [link_mail] = await desk.send_out()
    assert link_mail.message["Subject"].startswith("Re: ")
    assert f"<booking.{held.reference}@venue.example>" in link_mail.message["References"]
    assert link_mail.message["In-Reply-To"] != held_mail.message["Message-ID"]  # their reply

    app = build_app(ctx, {}, extra_routes=pay.routes(ctx, TestProvider(PUBLIC_URL)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as web:
        page = await web.get(pay_path(link_mail))
        assert held.reference in page.text and "90.00" in page.text
        checkout = await web.post(f"{pay_path(link_mail)}/checkout")
        paid = await web.post(checkout.headers["location"])
        assert "is paid" in paid.text

    [tickets_mail] = await desk.send_out()
    assert (await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)).status == (
        "confirmed"
    )
    message = tickets_mail.message
    assert "is paid" in message["Subject"]
    html = message.get_body(("html",))
    assert html is not None
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    inline = [p for p in images if p["Content-ID"]]
    attached = [p for p in images if p.get_filename()]
    assert len(inline) == len(attached) == 2  # one QR per place, inline and attached
    for part in inline:
        assert f"cid:{part['Content-ID'].strip('<>')}" in html.get_content()  # type: ignore[attr-defined]
    assert all(p.get_content().startswith(b"\x89PNG") for p in images)  # type: ignore[attr-defined]
    assert "ticket-" in attached[0].get_filename()  # type: ignore[operator]


async def test_reply_cancel_with_a_reason_cancels_and_answers_in_the_thread(
    ctx: Context, desk: Desk
) -> None:
    cat = await make_catalog(ctx)
    paul = await make_customer(ctx, email="paul.martin@gmail.com", name="Paul Martin")
    held = await make_held_booking(ctx, cat, paul)
    [held_mail] = await desk.send_out()

    report = await desk.receive(sample("gmail_top_post.eml", reply_address(held_mail)))

    assert dict(report.outcomes) == {"acted": 1}
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "cancelled"
    [cancelled] = await desk.send_out()
    assert cancelled.rcpt_tos == ["paul.martin@gmail.com"]
    assert "is cancelled" in cancelled.message["Subject"]
    assert f"<booking.{held.reference}@venue.example>" in cancelled.message["References"]
    assert await _history_note(ctx, held.id) == "my sister's wedding was moved to that weekend"


async def test_reply_extend_with_a_date_reaches_the_organizer(ctx: Context, desk: Desk) -> None:
    cat = await make_catalog(ctx, starts_in=timedelta(days=45))
    julien = await make_customer(ctx, email="julien.roux@free.fr", name="Julien Roux",
                                 language="fr")  # fmt: skip
    held = await make_held_booking(ctx, cat, julien)
    [held_mail] = await desk.send_out()

    # A phone's reply: base64 UTF-8, "Prolonger 24 décembre, je suis en déplacement".
    report = await desk.receive(sample("phone_base64_utf8.eml", reply_address(held_mail)))

    assert dict(report.outcomes) == {"acted": 1}
    [request] = await extensions.list_requests(ctx)
    assert request.reference == held.reference
    assert request.reason == "je suis en déplacement"
    assert request.requested_until is not None
    assert request.requested_until.date().isoformat() == "2026-12-24"
    [answer] = await desk.send_out()
    assert "transmise à l'organisateur" in text_of(answer)
    assert "24 déc. 2026" in text_of(answer)


async def test_status_lists_every_booking_of_a_b2b_contact_by_deadline(
    ctx: Context, desk: Desk
) -> None:
    org = await customers.create_organization(ctx, actor=STAFF, name="Leroy Events")
    anne = await make_customer(ctx, email="anne.leroy@leroy-events.fr", name="Anne Leroy",
                               organization_id=org, customer_type="b2b")  # fmt: skip
    marc = await make_customer(ctx, email="marc@leroy-events.fr", name="Marc Leroy",
                               organization_id=org, customer_type="b2b")  # fmt: skip
    late = await make_catalog(ctx, name="Salle Tard", starts_in=timedelta(days=40))
    soon = await make_catalog(ctx, name="Salle Tôt", starts_in=timedelta(days=3))
    later = await make_held_booking(ctx, late, marc)  # a colleague's booking: listed too
    sooner = await make_held_booking(ctx, soon, anne)
    await desk.send_out()

    # A new message (a forwarded booking email), no reply token: routed by the sender.
    report = await desk.receive(sample("forwarded_booking.eml"))

    assert dict(report.outcomes) == {"answered": 1}
    [status] = await desk.send_out()
    assert status.rcpt_tos == ["anne.leroy@leroy-events.fr"]
    text = text_of(status)
    assert text.index(sooner.reference) < text.index(later.reference)  # by deadline
    assert text.count("/pay/") == 2


async def _history_note(ctx: Context, booking_id: int) -> str:
    import json

    from sqlalchemy import select

    from booking.tables.bookings import HistoryEntry

    async def work(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(
            select(HistoryEntry.detail).where(
                HistoryEntry.booking_id == booking_id, HistoryEntry.action == "cancelled"
            )
        )
        return [json.loads(d) for d in rows.scalars()]

    [detail] = await ctx.db.read(work)
    assert detail["reason"] == "other"
    return str(detail["note"])
