"""Issue 11, points 5 and 22: a colleague pays or cancels a B2B booking in the bot; its owner
is told in Telegram (and by email), with the colleague named. Real dispatcher, real payment
path, real outbox delivery to the fake Bot API."""

from __future__ import annotations

import pytest

from booking.services import customers, holds
from booking.services.holds import Line
from bot.callbacks import BookingCb
from tests.bot.conftest import Desk, Person, Recorder, linked_customer
from tests.builders import STAFF, make_catalog
from tests.support.english import english_in

OWNER, COLLEAGUE = 2001, 2002
# What each language says, so one test reads the same in English and French.
SAYS = {
    "en": {
        "paid": "Booking {ref} is paid",
        "paid_by": "Paid by Bo Keller (Acme SA).",
        "cancelled": "Booking {ref} is cancelled",
        "cancelled_by": "Cancelled by Bo Keller (Acme SA).",
        "illness": "Illness",
        "yes": "Yes, cancel it",
        "cancel": "Cancel booking",
    },
    "fr": {
        "paid": "La réservation {ref} est payée",
        "paid_by": "Payée par Bo Keller (Acme SA).",
        "cancelled": "La réservation {ref} est annulée",
        "cancelled_by": "Annulée par Bo Keller (Acme SA).",
        "illness": "Maladie",
        "yes": "Oui, annuler",
        "cancel": "Annuler la réservation",
    },
}
DATA = ("Ana Owner", "Bo Keller", "Acme SA", "Test Concert", "Standing")


async def b2b_booking(desk: Desk, language: str) -> tuple[str, Person, Recorder]:
    """Ana owns a booking of Acme SA; Bo, her colleague, is in the bot. Emails are recorded."""
    email = Recorder()
    desk.ctx.channels["email"] = email
    cat = await make_catalog(desk.ctx)
    org = await customers.create_organization(desk.ctx, actor=STAFF, name="Acme SA")
    ana = await linked_customer(
        desk.ctx, OWNER, name="Ana Owner", language=language, organization_id=org,
        customer_type="b2b",
    )  # fmt: skip
    await linked_customer(
        desk.ctx, COLLEAGUE, email="bo@acme.example", name="Bo Keller", language=language,
        organization_id=org, customer_type="b2b",
    )  # fmt: skip
    held = await holds.hold(
        desk.ctx, actor=STAFF, customer_id=ana.id, performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 2)],
    )  # fmt: skip
    await desk.deliver()  # the hold's own notices, out of the way
    email.messages.clear()
    return held.reference, desk.person(COLLEAGUE, language=language, first_name="Bo"), email


async def pay_in_the_bot(desk: Desk, payer: Person, reference: str) -> None:
    """Pay, pre-checkout, successful payment: the bot's whole payment path."""
    await payer.send("/mybookings")
    reply = await payer.press_data(BookingCb(action="pay", ref=reference).pack())
    (invoice,) = reply.of("sendInvoice")
    payload = invoice.params["payload"]
    amount = sum(p["amount"] for p in invoice.params["prices"])
    query = desk.fake.pre_checkout(payer.user_id, payload, amount, "CHF", enqueue=False)
    check = await desk.handle(payer, query)
    assert check.of("answerPreCheckoutQuery")[0].params["ok"] is True
    paid = desk.fake.successful_payment(payer.user_id, payload, amount, "CHF", enqueue=False)
    reply = await desk.handle(payer, paid)
    assert len(reply.of("sendPhoto")) == 2  # the payer has the tickets in their chat, as before


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_owner_is_told_in_telegram_when_a_colleague_pays(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    reference, bo, email = await b2b_booking(desk, language)

    await pay_in_the_bot(desk, bo, reference)
    _, delivered = await desk.deliver()

    to_owner = [c for c in delivered.calls if c.params.get("chat_id") == OWNER]
    (notice,) = [c for c in to_owner if c.method == "sendMessage"]
    assert says["paid"].format(ref=reference) in (notice.text or "")
    assert says["paid_by"] in (notice.text or "")
    assert len([c for c in to_owner if c.method == "sendPhoto"]) == 2  # the owner's tickets
    # The colleague was answered in their own chat; the outbox adds nothing there.
    assert not [c for c in delivered.calls if c.params.get("chat_id") == COLLEAGUE]
    # Every channel the owner has: the email too, saying the same.
    (mail,) = email.messages
    assert (mail.kind, mail.customer.name, mail.payload["by"]) == (
        "payment_confirmed", "Ana Owner", "Bo Keller (Acme SA)",
    )  # fmt: skip
    if language == "fr":
        assert english_in(notice.text or "", DATA) == []


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_owner_is_told_in_telegram_when_a_colleague_cancels(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    reference, bo, email = await b2b_booking(desk, language)

    await bo.send("/mybookings")
    await bo.press_data(BookingCb(action="open", ref=reference).pack())
    await bo.press(says["cancel"])
    await bo.press(says["illness"])
    reply = await bo.press(says["yes"])
    assert says["cancelled"].format(ref=reference) in reply.text
    _, delivered = await desk.deliver()

    (notice,) = [c for c in delivered.of("sendMessage") if c.params.get("chat_id") == OWNER]
    assert says["cancelled"].format(ref=reference) in (notice.text or "")
    assert says["cancelled_by"] in (notice.text or "")
    assert not [c for c in delivered.calls if c.params.get("chat_id") == COLLEAGUE]
    assert [(m.kind, m.payload["by"]) for m in email.messages] == [
        ("booking_cancelled", "Bo Keller (Acme SA)")
    ]
    if language == "fr":
        assert english_in(notice.text or "", DATA) == []


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_an_owner_paying_in_the_bot_is_not_told_twice_nor_named(
    desk: Desk, language: str
) -> None:
    """Their own chat answered them: the outbox skips it, and the email says no "by you"."""
    reference, _, email = await b2b_booking(desk, language)
    ana = desk.person(OWNER, language=language, first_name="Ana")

    await pay_in_the_bot(desk, ana, reference)
    _, delivered = await desk.deliver()

    assert not delivered.of("sendMessage")
    (mail,) = email.messages
    assert mail.kind == "payment_confirmed" and "by" not in mail.payload
