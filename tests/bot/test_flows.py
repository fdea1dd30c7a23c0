"""The main flows end to end: polling on SQLite and PostgreSQL, and webhook mode (any_desk)."""

from __future__ import annotations

from datetime import timedelta

from booking.actors import Actor
from booking.services import customers, extensions, holds, reminders
from booking.services.holds import Line
from tests.bot import db
from tests.bot.conftest import PROVIDER_TOKEN, Desk, Person, deep_link, linked_customer
from tests.builders import STAFF, Catalog, make_catalog, make_customer

ANA = 1001


async def hold_two(ana: Person) -> str:
    """/events → date → Standing → 2 → Hold; returns the new booking's reference."""
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")
    await ana.press("2")
    reply = await ana.press("Hold until")
    assert "Done! Your places are held until" in reply.text
    return reply.text.split("Booking ")[1].split(" ")[0]


async def test_link_by_deep_link_shows_box_office_bookings_which_can_be_paid(
    any_desk: Desk,
) -> None:
    desk = any_desk
    cat = await make_catalog(desk.ctx)
    ana = await make_customer(desk.ctx)
    box_office = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=3)],
    )
    chat = desk.person(ANA)

    reply = await chat.send(f"/start {await deep_link(desk.ctx, ana)}")

    assert "this chat is linked to Ana Test (ana@example.org)" in reply.text
    assert box_office.reference in reply.text
    reply = await chat.press(box_office.reference)
    assert "3 × Standing" in reply.text and "Pay by:" in reply.text
    reply = await chat.press("Pay")
    (invoice,) = reply.of("sendInvoice")
    assert invoice.params["payload"] == f"booking:{box_office.reference}"
    assert invoice.params["provider_token"] == PROVIDER_TOKEN
    assert sum(p["amount"] for p in invoice.params["prices"]) == 13500
    assert invoice.params["currency"] == "CHF"


async def test_hold_then_reminder_then_telegram_payment_then_qr_tickets(any_desk: Desk) -> None:
    desk = any_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    reference = await hold_two(ana)

    desk.ctx.clock.advance(timedelta(days=4, hours=16))  # 3 days before the deadline # type: ignore[attr-defined]
    assert await reminders.plan_reminders(desk.ctx) == 1
    report, sent = await desk.deliver()
    assert report.sent == 1
    (reminder,) = sent.of("sendMessage")
    assert reminder.params["chat_id"] == ANA
    assert reminder.text is not None and reminder.text.startswith(f"Reminder: booking {reference}")
    assert reminder.params["entities"][0]["type"] == "bold"

    reply = await ana.press("Pay", on=reminder)
    (invoice,) = reply.of("sendInvoice")
    payload, amount = invoice.params["payload"], 9000
    query = desk.fake.pre_checkout(ANA, payload, amount, "CHF", enqueue=False)
    reply = await desk.handle(ana, query)
    (answer,) = reply.of("answerPreCheckoutQuery")
    assert answer.params["ok"] is True

    paid = desk.fake.successful_payment(ANA, payload, amount, "CHF", enqueue=False)
    reply = await desk.handle(ana, paid)

    assert f"Thank you! Booking {reference} is paid." in reply.text
    photos = reply.of("sendPhoto")
    assert len(photos) == 2
    assert all(p.files["photo"].startswith(b"\x89PNG") for p in photos)
    assert "show this code at the entrance" in (photos[0].text or "")
    assert [a for a, _, _ in await db.history(desk.ctx, reference)][-1] == "payment_confirmed"
    # The same successful_payment delivered again (Telegram retries) confirms once, silently.
    again = await desk.handle(ana, {**paid, "update_id": paid["update_id"] + 1000})
    assert again.of("sendMessage") == [] and await db.payments_count(desk.ctx) == 1

    reply = await ana.send("/tickets")
    assert "Your tickets (2):" in reply.text and len(reply.of("sendPhoto")) == 2


async def test_cancel_with_a_reason_and_with_a_typed_one(any_desk: Desk) -> None:
    desk = any_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    first = await hold_two(ana)
    second = await hold_two(ana)

    await ana.send("/mybookings")
    await ana.press(first)
    reply = await ana.press("Cancel booking")
    assert f"Why do you want to cancel booking {first}?" in reply.text
    reply = await ana.press("Illness")
    assert f"Cancel booking {first} (Illness)?" in reply.text
    reply = await ana.press("Yes, cancel it")
    assert f"Booking {first} is cancelled." in reply.text
    assert "Status: cancelled" in reply.text

    await ana.send("/mybookings")
    await ana.press(second)
    await ana.press("Cancel booking")
    reply = await ana.press("Other reason")
    assert "Tell me in a few words" in reply.text
    reply = await ana.send("My sister's wedding moved")
    assert "(My sister's wedding moved)?" in reply.text
    reply = await ana.press("Yes, cancel it")
    assert f"Booking {second} is cancelled." in reply.text

    (_, _, detail), *_ = [h for h in await db.history(desk.ctx, first) if h[0] == "cancelled"]
    assert detail["reason"] == "illness"
    (_, channel, detail), *_ = [
        h for h in await db.history(desk.ctx, second) if h[0] == "cancelled"
    ]
    assert (channel, detail["reason"], detail["note"]) == (
        "telegram",
        "other",
        "My sister's wedding moved",
    )


async def test_extension_request_approved_by_the_organizer_is_told_in_the_chat(
    any_desk: Desk,
) -> None:
    desk = any_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    reference = await hold_two(ana)

    await ana.send("/mybookings")
    await ana.press(reference)
    reply = await ana.press("Ask for more time")
    assert "Until when do you need to pay" in reply.text
    assert ana.buttons()[:2] == ["Until Thu 3 Dec 2026", "Until Mon 7 Dec 2026"]
    reply = await ana.press("Until Mon 7 Dec")
    assert "Why do you need it?" in reply.text
    reply = await ana.send("Salary comes on the 5th")
    assert "Your request was sent to the organizer" in reply.text

    (request,) = await extensions.list_requests(desk.ctx)
    assert (request.reference, request.reason) == (reference, "Salary comes on the 5th")
    assert request.requested_until is not None
    await extensions.approve_extension(desk.ctx, actor=STAFF, request_id=request.id)
    report, sent = await desk.deliver()

    assert report.sent == 1
    (told,) = sent.of("sendMessage")
    assert told.params["chat_id"] == ANA
    assert "Good news: you now have until Mon 7 Dec 2026, 23:59" in (told.text or "")
    assert told.buttons()[0][0].startswith("Pay")


async def test_b2b_contact_sees_the_organizations_bookings_by_deadline(any_desk: Desk) -> None:
    desk = any_desk
    cat = await make_catalog(desk.ctx)
    org = await customers.create_organization(desk.ctx, actor=STAFF, name="Acme SA")
    ana = await linked_customer(desk.ctx, ANA, organization_id=org, customer_type="b2b")
    colleague = await make_customer(
        desk.ctx, email="bo@acme.example", name="Bo", organization_id=org, customer_type="b2b"
    )
    # The colleague's booking is made later but falls due first (a shorter tariff rule).
    later = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 2)],
    )
    soon = await short_deadline_hold(desk, cat, colleague.id)
    assert soon.deadline is not None and later.deadline is not None
    assert soon.deadline < later.deadline

    reply = await desk.person(ANA).send("/mybookings")

    text = reply.text
    assert text.index(soon.reference) < text.index(later.reference)
    assert "pay by Wed 25 Nov" in text and "pay by Mon 30 Nov" in text


async def short_deadline_hold(desk: Desk, cat: Catalog, customer_id: int) -> holds.BookingView:
    from booking.services import catalog

    tariff = await catalog.create_tariff(
        desk.ctx,
        actor=STAFF,
        event_id=cat.event_id,
        area_id=cat.ga_area,
        name="Group",
        price_minor=3000,
        days_after_booking=2,
    )
    return await holds.hold(
        desk.ctx,
        actor=Actor.staff(1, "Desk"),
        customer_id=customer_id,
        performance_id=cat.performance_id,
        lines=[Line(tariff, 4)],
    )


async def test_a_restart_in_the_middle_of_the_wizard_resumes_where_the_customer_was(
    desk: Desk,
) -> None:
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")
    quantity_screen = ana.screen

    await desk.restart()  # a new Bot, a new Dispatcher, the same database

    reply = await ana.press("3", on=quantity_screen)
    assert "3 × Standing (Floor)" in reply.text and "Total: CHF\u00a0135.00" in reply.text
    reply = await ana.press("Hold until")
    assert "3 × Standing" in reply.text and "held until" in reply.text
