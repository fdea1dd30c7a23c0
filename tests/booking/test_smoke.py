from datetime import timedelta

from booking.services import cancellations, holds, payments, releases, reminders, bookings
from booking import outbox
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking


async def test_hold_pay_flow(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    b = await make_held_booking(ctx, cat, ana)
    assert b.status == "held" and b.total_minor == 9000
    seats = await holds.hold(ctx, actor=as_customer(ana), customer_id=ana.id,
                             performance_id=cat.performance_id,
                             lines=[holds.Line(cat.seat_tariff, quantity=3)])
    assert [i.seat for i in seats.items][0].startswith("Stalls")
    r = await payments.record_payment(ctx, actor=STAFF, reference=b.reference, provider="test",
                                      provider_event_id="e1", amount_minor=9000, currency="CHF")
    assert r.outcome == "confirmed"
    r2 = await payments.record_payment(ctx, actor=STAFF, reference=b.reference, provider="test",
                                       provider_event_id="e1", amount_minor=9000, currency="CHF")
    assert r2.outcome == "duplicate"
    c = await cancellations.cancel(ctx, actor=as_customer(ana), reference=seats.reference, reason="illness")
    assert c.status == "cancelled"
    mine = await bookings.my_bookings(ctx, customer_id=ana.id)
    assert [m.status for m in mine] == ["confirmed", "cancelled"]
    ctx.clock.advance(timedelta(days=5))
    b3 = await make_held_booking(ctx, cat, ana)
    ctx.clock.advance(timedelta(days=1, hours=20))
    n = await reminders.plan_reminders(ctx)
    assert n == 0 or n >= 0
    ctx.clock.advance(timedelta(days=10))
    rep = await releases.release_due(ctx)
    assert rep.expired == 1
