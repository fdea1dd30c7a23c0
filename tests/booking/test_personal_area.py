"""The personal area: what needs the customer's attention first (SPEC §3, "Personal area")."""

from __future__ import annotations

from datetime import timedelta

from booking.context import Context
from booking.services import (
    bookings,
    cancellations,
    catalog,
    customers,
    holds,
    payments,
    releases,
    tickets,
)
from booking.views import BookingView, CustomerView
from tests.builders import STAFF, Catalog, as_customer, make_catalog, make_customer


async def tariff(ctx: Context, cat: Catalog, name: str, days: int) -> int:
    """A standing tariff with its own "pay within N days" rule."""
    return await catalog.create_tariff(
        ctx,
        actor=STAFF,
        event_id=cat.event_id,
        area_id=cat.ga_area,
        name=name,
        price_minor=2000,
        days_after_booking=days,
    )


async def hold(
    ctx: Context,
    customer: CustomerView,
    performance_id: int,
    tariff_id: int,
    *,
    by_staff: bool = False,
) -> BookingView:
    return await holds.hold(
        ctx,
        actor=STAFF if by_staff else as_customer(customer),
        customer_id=customer.id,
        performance_id=performance_id,
        lines=[holds.Line(tariff_id, quantity=1)],
    )


async def paid(ctx: Context, booking: BookingView) -> BookingView:
    result = await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=booking.reference, method="card"
    )
    assert result.outcome == "confirmed"
    return result.booking


async def test_my_bookings_show_overdue_first_then_held_by_deadline_then_paid_by_date(ctx):
    cat = await make_catalog(ctx, policy="flexible")  # first date in 30 days
    later_date = await catalog.add_performance(
        ctx, actor=STAFF, event_id=cat.event_id, starts_at=cat.starts_at + timedelta(days=10)
    )
    ana = await make_customer(ctx)
    ben = await make_customer(ctx, email="ben@example.org")
    overdue = await hold(ctx, ana, cat.performance_id, cat.ga_tariff)  # 7 days to pay
    assert overdue.deadline is not None
    ctx.clock.set(overdue.deadline + timedelta(minutes=1))
    assert (await releases.release_due(ctx)).overdue == 1
    # made in an order that is none of the expected ones
    cancelled = await hold(ctx, ana, cat.performance_id, cat.ga_tariff)
    await cancellations.cancel(
        ctx, actor=as_customer(ana), reference=cancelled.reference, reason="price"
    )
    paid_later = await paid(ctx, await hold(ctx, ana, later_date, cat.ga_tariff))
    held_late = await hold(ctx, ana, cat.performance_id, await tariff(ctx, cat, "Late", 10))
    paid_sooner = await paid(ctx, await hold(ctx, ana, cat.performance_id, cat.ga_tariff))
    held_soon = await hold(ctx, ana, cat.performance_id, await tariff(ctx, cat, "Soon", 2))
    await hold(ctx, ben, cat.performance_id, cat.ga_tariff)  # someone else's

    mine = await bookings.my_bookings(ctx, customer_id=ana.id)

    assert [(b.reference, b.status) for b in mine] == [
        (overdue.reference, "overdue"),
        (held_soon.reference, "held"),
        (held_late.reference, "held"),
        (paid_sooner.reference, "confirmed"),
        (paid_later.reference, "confirmed"),
        (cancelled.reference, "cancelled"),
    ]
    assert held_soon.deadline is not None and held_late.deadline is not None
    assert held_soon.deadline < held_late.deadline
    assert paid_sooner.starts_at < paid_later.starts_at


async def test_my_bookings_leave_out_what_is_long_closed_or_already_played(ctx):
    cat = await make_catalog(ctx, starts_in=timedelta(days=40), days_after_booking=3)
    ana = await make_customer(ctx)
    gone = await hold(ctx, ana, cat.performance_id, cat.ga_tariff)
    await cancellations.cancel(
        ctx, actor=as_customer(ana), reference=gone.reference, reason="mistake"
    )
    played = await paid(ctx, await hold(ctx, ana, cat.performance_id, cat.ga_tariff))

    ctx.clock.advance(timedelta(days=31))
    assert [b.reference for b in await bookings.my_bookings(ctx, customer_id=ana.id)] == [
        played.reference
    ]
    ctx.clock.set(cat.starts_at + timedelta(hours=3))
    assert await bookings.my_bookings(ctx, customer_id=ana.id) == []


async def test_an_organization_contact_sees_every_booking_of_the_organization_by_deadline(ctx):
    cat = await make_catalog(ctx)
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    ana = await make_customer(ctx, email="ana@acme.example")
    ben = await make_customer(ctx, email="ben@acme.example")
    for person in (ana, ben):
        await customers.add_contact(ctx, actor=STAFF, organization_id=org, customer_id=person.id)
    ana = await customers.get_customer(ctx, customer_id=ana.id)
    ben = await customers.get_customer(ctx, customer_id=ben.id)
    eve = await make_customer(ctx, email="eve@example.org")
    # Ben books first, with ten days to pay; then the box office books for Ana, two days.
    by_colleague = await hold(ctx, ben, cat.performance_id, await tariff(ctx, cat, "Late", 10))
    by_staff = await hold(
        ctx, ana, cat.performance_id, await tariff(ctx, cat, "Soon", 2), by_staff=True
    )
    outsiders = await hold(ctx, eve, cat.performance_id, cat.ga_tariff)

    for contact in (ana, ben):
        seen = await bookings.my_bookings(ctx, customer_id=contact.id)
        assert [(b.reference, b.channel, b.customer_id) for b in seen] == [
            (by_staff.reference, "console", ana.id),
            (by_colleague.reference, "telegram", ben.id),
        ]
        assert {b.organization_id for b in seen} == {org}
        assert seen[0].deadline is not None and seen[1].deadline is not None
        assert seen[0].deadline < seen[1].deadline
    assert [b.reference for b in await bookings.my_bookings(ctx, customer_id=eve.id)] == [
        outsiders.reference
    ]


async def test_a_customer_who_becomes_an_organization_contact_still_sees_her_own_bookings(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, email="ana@acme.example")
    own_hold = await hold(ctx, ana, cat.performance_id, cat.ga_tariff)
    own_paid = await paid(ctx, await hold(ctx, ana, cat.performance_id, cat.ga_tariff))
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    await customers.add_contact(ctx, actor=STAFF, organization_id=org, customer_id=ana.id)
    ana = await customers.get_customer(ctx, customer_id=ana.id)
    for_org = await hold(ctx, ana, cat.performance_id, cat.ga_tariff)

    seen = await bookings.my_bookings(ctx, customer_id=ana.id)
    shown = await tickets.list_tickets(ctx, actor=as_customer(ana), customer_id=ana.id)

    assert {b.reference for b in seen} == {
        own_hold.reference,
        own_paid.reference,
        for_org.reference,
    }
    assert {t.reference for t in shown} == {own_paid.reference}
