"""Every kind of bad input the issue lists gets a clear answer, and nothing half-done (SQLite)."""

from __future__ import annotations

from datetime import timedelta

from booking.outbox import DeliveryReport
from booking.services import cancellations, holds, payments, releases
from booking.services.holds import Line
from tests.bot import db
from tests.bot.conftest import Desk, Recorder, linked_customer
from tests.bot.test_flows import hold_two
from tests.builders import STAFF, as_customer, make_catalog, make_customer

ANA, BOB = 1001, 1002


async def test_free_text_photo_and_unknown_commands_get_a_hint_and_change_nothing(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")

    reply = await ana.send("two please")
    assert reply.texts == ["Please choose with the buttons above, or /events to start over."]
    photo = desk.fake.send_text(ANA, "", enqueue=False)
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 9, "height": 9}]
    reply = await desk.handle(ana, photo)
    assert reply.texts == ["Please choose with the buttons above, or /events to start over."]
    reply = await ana.send("/frobnicate")
    assert reply.texts == ["I do not know that command. /help lists what I can do."]

    reply = await ana.press("2")  # the wizard is still where it was
    assert "2 × Standing" in reply.text
    assert await db.references(desk.ctx) == []

    await ana.send("/start")
    for text in ("hello?", "thanks"):
        reply = await ana.send(text)
        assert reply.texts == ["I did not understand that. /help lists what I can do."]
    reply = await ana.press_data("w:nonsense:1")
    assert reply.alerts == [
        "This button is out of date. /mybookings and /events show where things stand now."
    ]


async def test_old_buttons_of_a_paid_cancelled_or_expired_booking_say_what_changed(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    ana_customer = await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    paid, cancelled, expired = (await hold_two(ana), await hold_two(ana), await hold_two(ana))
    await ana.send("/mybookings")
    cards = {}
    for reference in (paid, cancelled, expired):
        await ana.send("/mybookings")
        cards[reference] = (await ana.press(reference)).screen

    await payments.record_box_office_payment(desk.ctx, actor=STAFF, reference=paid, method="cash")
    await cancellations.cancel(
        desk.ctx, actor=as_customer(ana_customer), reference=cancelled, reason="price"
    )
    desk.ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    await releases.release_due(desk.ctx)

    reply = await ana.press("Pay", on=cards[paid])
    assert "This booking has changed in the meantime. Booking " + paid + " is already paid." in (
        reply.text
    )
    assert "Status: paid" in reply.text and "Show tickets" in ana.buttons()
    reply = await ana.press("Pay", on=cards[cancelled])
    assert "is cancelled and cannot be changed this way" in reply.text
    assert "Status: cancelled" in reply.text
    reply = await ana.press("Ask for more time", on=cards[expired])
    assert "This booking has changed in the meantime." in reply.text
    assert "Status: expired" in reply.text
    assert reply.alerts == ["This has changed in the meantime."]
    assert cat.performance_id  # nothing else moved: the paid booking keeps its places
    assert await db.remaining(desk.ctx, cat.performance_id, cat.ga_area) == 100 - 2


async def test_double_and_triple_clicks_hold_once_and_cancel_once(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")
    summary = (await ana.press("2")).screen
    assert summary is not None
    hold = next(data for label, data in summary.buttons() if label.startswith("Hold until"))
    message_id = ana.message_id(summary)

    clicks = [desk.fake.press_button(ANA, message_id, hold, enqueue=False) for _ in range(3)]
    reply = await desk.handle_many(ana, clicks)

    (reference,) = await db.references(desk.ctx)
    assert await db.remaining(desk.ctx, cat.performance_id, cat.ga_area) == 98
    assert sum("Your places are held" in t for t in reply.texts) == 1
    assert (
        reply.alerts.count(
            "This summary is out of date: your booking is already being "
            "handled, or you changed your choice. See /mybookings."
        )
        == 2
    )

    await ana.send("/mybookings")
    await ana.press(reference)
    await ana.press("Cancel booking")
    confirm = (await ana.press("Booked by mistake")).screen
    assert confirm is not None
    yes = next(data for label, data in confirm.buttons() if label.startswith("Yes"))
    clicks = [
        desk.fake.press_button(ANA, ana.message_id(confirm), yes, enqueue=False) for _ in range(3)
    ]
    reply = await desk.handle_many(ana, clicks)

    assert sum(f"Booking {reference} is cancelled." in t for t in reply.texts) == 1
    actions = [action for action, _, _ in await db.history(desk.ctx, reference)]
    assert actions.count("cancelled") == 1
    assert await db.remaining(desk.ctx, cat.performance_id, cat.ga_area) == 100


async def test_a_date_that_sold_out_while_choosing_sends_the_customer_back_to_the_dates(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx, capacity=3)
    await linked_customer(desk.ctx, ANA)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob")
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")
    await ana.press("2")
    await holds.hold(
        desk.ctx,
        actor=as_customer(bob),
        customer_id=bob.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 2)],
    )

    reply = await ana.press("Hold until")

    # One place is left: the quantity step again, saying how many (issue 11, point 6).
    assert reply.texts[0].startswith("Sorry, only 1 remaining for this date.")
    assert "How many places?" in reply.text
    assert await db.references(desk.ctx, "held") != [] and len(await db.references(desk.ctx)) == 1


async def test_a_deadline_that_passed_during_the_wizard_leaves_only_pay_now(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    # The hold deadline is the end of the day before the performance, two days from now.
    await make_catalog(
        desk.ctx, starts_in=timedelta(days=2), days_after_booking=None, days_before_event=1
    )
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 25 Nov")
    await ana.press("Standing")
    await ana.press("2")
    assert any(label.startswith("Hold until") for label in ana.buttons())
    desk.ctx.clock.advance(timedelta(days=1, hours=15))  # type: ignore[attr-defined]

    reply = await ana.press("Hold until")

    assert reply.texts[0].startswith("This ticket can no longer be held; it can only be bought")
    assert not any(label.startswith("Hold until") for label in ana.buttons())
    assert any(label.startswith("Pay now") for label in ana.buttons())
    assert await db.references(desk.ctx) == []
    reply = await ana.press("Pay now")
    assert len(reply.of("sendInvoice")) == 1
    assert "Your places are kept while you pay." in reply.text


async def test_typed_extension_dates_in_the_past_after_the_show_or_unreadable_are_refused(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    reference = await hold_two(ana)
    await ana.send("/mybookings")
    await ana.press(reference)
    await ana.press("Ask for more time")
    reply = await ana.press("Another date")
    # Issue 11: the example is a date that would be accepted (after the deadline of 30 Nov).
    prompt = (
        "Type the date you need, day first (day.month.year), for example 07.12.2026. Any day "
        "from Tue 1 Dec 2026 to Tue 22 Dec 2026 is possible."
    )
    assert prompt in reply.text

    reply = await ana.send("01.11.2026")
    assert reply.texts == [f"That date has already passed.\nPlease type another date.\n{prompt}"]
    reply = await ana.send("2027-01-15")
    assert reply.texts == [
        f"That date is after the performance.\nPlease type another date.\n{prompt}"
    ]
    reply = await ana.send("next friday")
    assert reply.texts == [f"I could not read that date.\n{prompt}"]
    reply = await ana.send("18.12")
    assert "Asking for more time until Fri 18 Dec 2026." in reply.text
    reply = await ana.press("Send without a reason")
    assert "Your request was sent to the organizer." in reply.text


async def test_another_customers_reference_is_refused_typed_or_in_a_forged_button(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob")
    theirs = await holds.hold(
        desk.ctx,
        actor=as_customer(bob),
        customer_id=bob.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 1)],
    )
    ana = desk.person(ANA)

    reply = await ana.send(theirs.reference.lower().replace("-", " "))
    assert reply.texts == ["This booking does not belong to you."]
    for action in ("open", "pay", "cancel", "extend", "tickets"):
        reply = await ana.press_data(f"b:{action}:{theirs.reference}")
        assert reply.alerts == ["This booking does not belong to you."]
    reply = await ana.press_data(f"c:yes:{theirs.reference}")
    assert reply.alerts == ["This booking does not belong to you."]
    assert (await holds_status(desk, theirs.reference)) == "held"
    reply = await ana.send("ZZZ-ZZZ")
    assert reply.texts == ["There is no booking ZZZ-ZZZ."]


async def holds_status(desk: Desk, reference: str) -> str:
    from booking.services import bookings

    booking = await bookings.get_booking(desk.ctx, actor=STAFF, reference=reference)
    return booking.status


async def test_pre_checkout_for_an_expired_hold_or_a_changed_amount_is_refused_with_a_reason(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    reference = await hold_two(ana)
    payload = f"booking:{reference}"

    reply = await desk.handle(ana, desk.fake.pre_checkout(ANA, payload, 4500, "CHF", enqueue=False))
    (answer,) = reply.of("answerPreCheckoutQuery")
    assert answer.params == {
        "pre_checkout_query_id": answer.params["pre_checkout_query_id"],
        "ok": False,
        "error_message": "The amount does not match the booking total.",
    }

    desk.ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    reply = await desk.handle(ana, desk.fake.pre_checkout(ANA, payload, 9000, "CHF", enqueue=False))
    assert reply.of("answerPreCheckoutQuery")[0].params["error_message"] == (
        "The payment deadline has passed."
    )
    await releases.release_due(desk.ctx)
    reply = await desk.handle(ana, desk.fake.pre_checkout(ANA, payload, 9000, "CHF", enqueue=False))
    assert reply.of("answerPreCheckoutQuery")[0].params["error_message"] == (
        f"Booking {reference} is expired and cannot be changed this way."
    )
    bob = desk.person(BOB)
    reply = await desk.handle(bob, desk.fake.pre_checkout(BOB, payload, 9000, "CHF", enqueue=False))
    assert reply.of("answerPreCheckoutQuery")[0].params["error_message"] == (
        "This booking does not belong to you."
    )


async def test_a_user_who_blocked_the_bot_is_marked_unreachable_and_told_by_email(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    ana_customer = await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    reference = await hold_two(ana)
    mail = Recorder()
    desk.ctx.channels["email"] = mail
    desk.fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await cancellations.cancel(
        desk.ctx, actor=STAFF, reference=reference, reason="other", note="show moved"
    )

    report, _ = await desk.deliver()
    assert (report.sent, report.dead) == (0, 1)
    assert await db.telegram_unreachable(desk.ctx, ana_customer.id)
    report, _ = await desk.deliver()  # the fallback row, by email
    assert isinstance(report, DeliveryReport) and report.sent == 1
    (notice,) = mail.messages
    assert (notice.kind, notice.channel) == ("booking_cancelled", "email")
    assert [(k, c, s) for k, c, s, _ in await db.outbox(desk.ctx)] == [
        ("booking_cancelled", "telegram", "dead"),
        ("booking_cancelled", "email", "sent"),
    ]

    await ana.send("/help")  # writing to the bot again makes the chat reachable again
    assert not await db.telegram_unreachable(desk.ctx, ana_customer.id)
