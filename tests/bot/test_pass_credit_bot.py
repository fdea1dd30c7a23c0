"""Paying with pass credit in the bot (issue 12 item 7): the real dispatcher over HTTP against
the fake Bot API, on SQLite and PostgreSQL. The booking card's pay step offers the holder's
credit first: in full (paid, tickets sent, no invoice), in part (the invoice and Telegram's
pre-checkout ask for what is left, and "Pay" again says so), or not at all (the invoice for the
total); an old credit button once the booking is paid; the same steps in French."""

from __future__ import annotations

from booking.services import customers
from booking.views import BookingView
from tests.booking.test_pass_credit import Holder, balance, holder_with_credit, tickets_of
from tests.bot import db
from tests.bot.conftest import Desk, Person, Reply
from tests.builders import STAFF

ANA = 4101


async def holder_in_chat(desk: Desk, credit_minor: int, *, language: str = "en") -> Holder:
    holder = await holder_with_credit(desk.ctx, credit_minor, language=language)
    await customers.link_telegram(
        desk.ctx, actor=STAFF, customer_id=holder.customer.id, telegram_user_id=ANA, chat_id=ANA
    )
    return holder


async def open_pay_step(person: Person, booking: BookingView, pay: str = "Pay") -> Reply:
    await person.send("/mybookings")
    await person.press(booking.reference)
    return await person.press(pay)


async def pay_invoice(desk: Desk, person: Person, reply: Reply, amount: int) -> Reply:
    (invoice,) = reply.of("sendInvoice")
    assert sum(p["amount"] for p in invoice.params["prices"]) == amount
    query = desk.fake.pre_checkout(ANA, invoice.params["payload"], amount, "CHF", enqueue=False)
    (answer,) = (await desk.handle(person, query)).of("answerPreCheckoutQuery")
    assert answer.params["ok"] is True
    paid = desk.fake.successful_payment(
        ANA, invoice.params["payload"], amount, "CHF", enqueue=False
    )
    return await desk.handle(person, paid)


async def test_credit_covering_the_booking_pays_it_and_sends_the_tickets(desk: Desk) -> None:
    ana = await holder_in_chat(desk, 10_000)
    held = await tickets_of(desk.ctx, ana)
    chat = desk.person(ANA)

    reply = await open_pay_step(chat, held)

    assert reply.of("sendInvoice") == []  # the credit is offered before any invoice
    assert f"Booking {held.reference}: CHF\u00a090.00 to pay." in reply.text
    assert f"Pass {ana.code} (Abonnement) has CHF\u00a0100.00 of credit." in reply.text
    assert chat.buttons() == [
        "Pay with pass credit (CHF\u00a090.00)",
        "Pay CHF\u00a090.00 without credit",
        "« Back",
    ]
    reply = await chat.press("Pay with pass credit")

    assert (
        f"Thank you! Booking {held.reference} is paid with CHF\u00a090.00 of credit from pass "
        f"{ana.code}." in reply.text
    )
    assert reply.of("sendInvoice") == []
    photos = reply.of("sendPhoto")
    assert len(photos) == 2 and all(p.files["photo"].startswith(b"\x89PNG") for p in photos)
    assert await balance(desk.ctx, ana.pass_id) == 1000
    actions = [a for a, _, _ in await db.history(desk.ctx, held.reference)]
    assert actions[-2:] == ["pass_credit_applied", "payment_confirmed"]


async def test_part_credit_then_an_invoice_for_the_rest(desk: Desk) -> None:
    ana = await holder_in_chat(desk, 2500)
    held = await tickets_of(desk.ctx, ana)
    chat = desk.person(ANA)
    await open_pay_step(chat, held)

    reply = await chat.press("Use CHF\u00a025.00 credit, pay CHF\u00a065.00")

    assert (
        f"CHF\u00a025.00 of credit from pass {ana.code} is applied to booking {held.reference}."
        in reply.text
    )
    (invoice,) = reply.of("sendInvoice")
    assert invoice.params["prices"] == [
        {"label": f"Booking {held.reference}, after pass credit", "amount": 6500}
    ]
    # An invoice for the old total (sent before the credit was used) is refused at checkout.
    old = desk.fake.pre_checkout(ANA, invoice.params["payload"], 9000, "CHF", enqueue=False)
    (answer,) = (await desk.handle(chat, old)).of("answerPreCheckoutQuery")
    assert answer.params["ok"] is False

    # "Pay" on the card again: no second credit offer, what is left is said and invoiced.
    reply = await open_pay_step(chat, held)
    assert (
        f"CHF\u00a025.00 of pass credit is applied to booking {held.reference}: CHF\u00a065.00 "
        "left to pay." in reply.text
    )
    reply = await pay_invoice(desk, chat, reply, 6500)

    assert f"Thank you! Booking {held.reference} is paid." in reply.text
    assert len(reply.of("sendPhoto")) == 2
    assert await balance(desk.ctx, ana.pass_id) == 0


async def test_paying_without_credit_keeps_it(desk: Desk) -> None:
    ana = await holder_in_chat(desk, 10_000)
    held = await tickets_of(desk.ctx, ana)
    chat = desk.person(ANA)
    await open_pay_step(chat, held)

    reply = await chat.press("without credit")
    reply = await pay_invoice(desk, chat, reply, 9000)

    assert f"Thank you! Booking {held.reference} is paid." in reply.text
    assert await balance(desk.ctx, ana.pass_id) == 10_000


async def test_no_credit_goes_straight_to_the_invoice(desk: Desk) -> None:
    ana = await holder_in_chat(desk, 0)
    held = await tickets_of(desk.ctx, ana)

    reply = await open_pay_step(desk.person(ANA), held)

    (invoice,) = reply.of("sendInvoice")
    assert sum(p["amount"] for p in invoice.params["prices"]) == 9000
    assert "credit" not in reply.text


async def test_an_old_credit_button_after_paying_changes_nothing(desk: Desk) -> None:
    ana = await holder_in_chat(desk, 20_000)
    held = await tickets_of(desk.ctx, ana)
    chat = desk.person(ANA)
    await open_pay_step(chat, held)
    offer = chat.screen
    await chat.press("Pay with pass credit")

    reply = await chat.press("Pay with pass credit", on=offer)  # a double tap, or later

    assert reply.alerts == [f"Booking {held.reference} is already paid."]
    assert "Status: paid" in reply.text  # the booking as it is now
    assert await balance(desk.ctx, ana.pass_id) == 11_000
    assert await db.payments_count(desk.ctx) == 2  # the pass's, and the credit's once


async def test_the_credit_steps_in_french(desk: Desk) -> None:
    ana = await holder_in_chat(desk, 2500, language="fr")
    held = await tickets_of(desk.ctx, ana)
    chat = desk.person(ANA, language="fr")

    reply = await open_pay_step(chat, held, pay="Payer")

    assert f"Réservation {held.reference} : 90,00\u00a0CHF à payer." in reply.text
    assert f"L'abonnement {ana.code} (Abonnement) a 25,00\u00a0CHF de crédit." in reply.text
    assert chat.buttons() == [
        "Utiliser 25,00\u00a0CHF de crédit, payer 65,00\u00a0CHF",
        "Payer 90,00\u00a0CHF sans le crédit",
        "« Retour",
    ]
    reply = await chat.press("Utiliser")
    assert "sont déduits de la réservation" in reply.text
    (invoice,) = reply.of("sendInvoice")
    assert invoice.params["prices"][0]["label"] == f"Réservation {held.reference}, après crédit"
