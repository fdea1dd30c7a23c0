"""Builders with defaults that pass validation, so each test states only what it is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.actors import Actor
from booking.context import Context
from booking.services import catalog, customers, holds
from booking.services.catalog import AreaSpec, SeatSpec
from booking.views import BookingView, CustomerView

STAFF = Actor.staff(1, "Test Organizer")


@dataclass(frozen=True)
class Catalog:
    event_id: int
    performance_id: int
    ga_area: int
    seated_area: int
    ga_tariff: int
    seat_tariff: int
    starts_at: datetime


def seat_rows(rows: str = "ABC", per_row: int = 10) -> tuple[SeatSpec, ...]:
    return tuple(SeatSpec("Stalls", r, n) for r in rows for n in range(1, per_row + 1))


async def make_catalog(
    ctx: Context,
    *,
    capacity: int = 100,
    starts_in: timedelta = timedelta(days=30),
    policy: str = "firm",
    days_after_booking: int | None = 7,
    days_before_event: int | None = None,
    auto_extend_days: int = 0,
    cancellation_allowed: bool = False,
    timezone: str = "Europe/Zurich",
    max_per_order: int = 10,
    seats: tuple[SeatSpec, ...] | None = None,
    name: str = "Salle Test",
    currency: str = "CHF",
) -> Catalog:
    areas = await catalog.create_venue(
        ctx,
        actor=STAFF,
        name=name,
        areas=[
            AreaSpec("Floor", capacity=capacity),
            AreaSpec("Stalls", seats=seats or seat_rows()),
        ],
    )
    event_id = await catalog.create_event(
        ctx,
        actor=STAFF,
        title="Test Concert",
        venue_id=await _venue_id(ctx, name),
        timezone=timezone,
        currency=currency,
        policy=policy,
        days_after_booking=days_after_booking,
        days_before_event=days_before_event,
        auto_extend_days=auto_extend_days,
        cancellation_allowed=cancellation_allowed,
        max_per_order=max_per_order,
    )
    starts_at = ctx.clock.now() + starts_in
    performance_id = await catalog.add_performance(
        ctx, actor=STAFF, event_id=event_id, starts_at=starts_at
    )
    ga = await catalog.create_tariff(
        ctx,
        actor=STAFF,
        event_id=event_id,
        area_id=areas["Floor"],
        name="Standing",
        price_minor=4500,
    )
    seated = await catalog.create_tariff(
        ctx,
        actor=STAFF,
        event_id=event_id,
        area_id=areas["Stalls"],
        name="Seated",
        price_minor=6500,
    )
    # Prices are minor units of ``currency``: 4500 is CHF 45.00, or ¥4,500.
    return Catalog(event_id, performance_id, areas["Floor"], areas["Stalls"], ga, seated, starts_at)


async def _venue_id(ctx: Context, name: str) -> int:
    from sqlalchemy import select

    from booking.tables.catalog import Venue

    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.execute(select(Venue.id).where(Venue.name == name))).scalar_one()

    return int(await ctx.db.read(work))


async def make_customer(
    ctx: Context,
    *,
    email: str = "ana@example.org",
    name: str = "Ana Test",
    language: str = "en",
    organization_id: int | None = None,
    customer_type: str = "individual",
) -> CustomerView:
    customer, _ = await customers.find_or_create_customer(
        ctx,
        actor=STAFF,
        email=email,
        name=name,
        language=language,
        organization_id=organization_id,
        customer_type=customer_type,
    )
    return customer


def as_customer(customer: CustomerView, channel: str = "telegram") -> Actor:
    return Actor.customer(customer.id, customer.name, channel)  # type: ignore[arg-type]


async def make_held_booking(
    ctx: Context,
    cat: Catalog,
    customer: CustomerView,
    *,
    quantity: int = 2,
    channel: str = "telegram",
) -> BookingView:
    return await holds.hold(
        ctx,
        actor=as_customer(customer, channel),
        customer_id=customer.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=quantity)],
    )
