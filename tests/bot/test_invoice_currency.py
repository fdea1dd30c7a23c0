"""The Telegram invoice is in the booking's currency and its minor unit: Telegram counts
amounts like CLDR for these (``exp`` 0 for JPY, 2 for CHF), so ¥4,500 is sent as 4500."""

from __future__ import annotations

from booking.services import holds
from booking.services.holds import Line
from tests.bot.conftest import Desk, deep_link
from tests.builders import STAFF, make_catalog, make_customer

ANA = 1001


async def test_a_yen_booking_is_invoiced_in_whole_yen(any_desk: Desk) -> None:
    desk = any_desk
    cat = await make_catalog(desk.ctx, currency="JPY")
    ana = await make_customer(desk.ctx)
    booking = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=3)],
    )
    chat = desk.person(ANA)
    await chat.send(f"/start {await deep_link(desk.ctx, ana)}")
    reply = await chat.press(booking.reference)
    assert "¥13,500" in reply.text
    reply = await chat.press("Pay")
    (invoice,) = reply.of("sendInvoice")
    assert invoice.params["currency"] == "JPY"
    assert [p["amount"] for p in invoice.params["prices"]] == [13500]  # not 1350000
