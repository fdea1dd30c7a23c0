"""Holding places: reserve now, pay before the deadline (or buy now when it has passed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.deadlines import DeadlineRule, compute_deadline
from booking.rules.references import new_reference
from booking.services import places
from booking.services.common import notify_skip
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Area, Event, Performance, Seat, Tariff
from booking.tables.customers import Customer
from booking.views import BookingView, booking_view


@dataclass(frozen=True, slots=True)
class Line:
    """Places of one tariff: a GA quantity, chosen seats, or a quantity of best seats together."""

    tariff_id: int
    quantity: int = 0
    seat_ids: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        return len(self.seat_ids) or self.quantity


def effective_rule(tariff: Tariff, performance: Performance, event: Event) -> DeadlineRule:
    """The tariff's rule, else the date's, else the event's (the first that sets anything)."""
    for source in (tariff, performance):
        if source.days_after_booking is not None or source.days_before_event is not None:
            return DeadlineRule(source.days_after_booking, source.days_before_event)
    return DeadlineRule(event.days_after_booking, event.days_before_event)


def hold_deadline(
    tariff: Tariff, performance: Performance, event: Event, now: datetime
) -> datetime | None:
    """When a hold of this tariff made now must be paid; None: it can only be bought."""
    return compute_deadline(
        effective_rule(tariff, performance, event),
        booked_at=now,
        starts_at=performance.starts_at,
        timezone=event.timezone,
    )


async def hold(
    ctx: Context,
    *,
    actor: Actor,
    customer_id: int,
    performance_id: int,
    lines: Sequence[Line],
    buy: bool = False,
) -> BookingView:
    """Take the places and open a booking: ``held`` until its deadline.

    ``buy=True`` is the "pay now" path: a short checkout hold that is never reminded or made
    overdue. Raises BookingError (sold_out, seat_taken, buy_only, not_eligible_*, …).
    """
    if actor.kind == "customer" and actor.id != customer_id:
        raise BookingError("not_owner")
    if not lines or any(line.count <= 0 for line in lines):
        raise BookingError("bad_quantity", max=10)
    return await ctx.db.write(
        lambda s: _hold(s, ctx, actor, customer_id, performance_id, list(lines), buy)
    )


async def _hold(
    session: AsyncSession,
    ctx: Context,
    actor: Actor,
    customer_id: int,
    performance_id: int,
    lines: list[Line],
    buy: bool,
) -> BookingView:
    now = ctx.clock.now()
    performance, event = await _on_sale(session, performance_id, now)
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise BookingError("unknown_customer")
    tariffs = await _tariffs(session, event, lines)
    total_places = sum(line.count for line in lines)
    if total_places > event.max_per_order:
        raise BookingError("bad_quantity", max=event.max_per_order)
    deadline = _deadline(ctx, actor, customer, performance, event, tariffs, now, buy)
    seats = await _take(session, performance, tariffs, lines)
    booking = Booking(
        reference=await _free_reference(session),
        customer_id=customer_id,
        organization_id=customer.organization_id,
        event_id=event.id or 0,
        performance_id=performance_id,
        channel=actor.channel,
        status=states.HELD,
        checkout=buy,
        deadline=deadline,
        deadline_set_at=now,
        starts_at=performance.starts_at,
        total_minor=sum(tariffs[line.tariff_id].price_minor * line.count for line in lines),
        currency=tariffs[lines[0].tariff_id].currency,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    await session.flush()
    assert booking.id is not None
    items = [
        (
            Item(
                booking_id=booking.id,
                performance_id=performance_id,
                tariff_id=tariff.id or 0,
                area_id=tariff.area_id,
                seat_id=seat.id if seat else None,
                price_minor=tariff.price_minor,
            ),
            tariff,
            seat,
        )
        for tariff, seat in seats
    ]
    session.add_all(item for item, _, _ in items)
    await session.flush()
    claims = [(seat.id or 0, item.id or 0) for item, _, seat in items if seat is not None]
    if claims:
        await places.claim_seats(session, performance_id, claims)
    history.record(
        session,
        booking_id=booking.id,
        actor=actor,
        at=now,
        action="bought" if buy else "held",
        deadline=deadline,
        places=total_places,
    )
    if not buy:
        await outbox.enqueue(
            session,
            kind="booking_held",
            customer=customer,
            now=now,
            booking_id=booking.id,
            key=f"held:{booking.id}",
            skip_channel=notify_skip(actor),
        )
    return booking_view(booking, event, items)


async def _on_sale(
    session: AsyncSession, performance_id: int, now: datetime
) -> tuple[Performance, Event]:
    row = (
        await session.execute(
            select(Performance, Event)
            .join(Event, col(Event.id) == Performance.event_id)
            .where(col(Performance.id) == performance_id)
        )
    ).one_or_none()
    if row is None or not row[0].on_sale:
        raise BookingError("unknown_performance")
    if row[0].starts_at <= now:
        raise BookingError("performance_started")
    return row[0], row[1]


async def _tariffs(session: AsyncSession, event: Event, lines: list[Line]) -> dict[int, Tariff]:
    wanted = {line.tariff_id for line in lines}
    found = (
        await session.execute(select(Tariff).where(Tariff.id.in_(wanted)))  # type: ignore[union-attr]
    ).scalars()
    tariffs = {t.id or 0: t for t in found if t.event_id == event.id and t.active}
    if set(tariffs) != wanted:
        raise BookingError("unknown_tariff")
    return tariffs


def _deadline(
    ctx: Context,
    actor: Actor,
    customer: Customer,
    performance: Performance,
    event: Event,
    tariffs: dict[int, Tariff],
    now: datetime,
    buy: bool,
) -> datetime:
    channel = actor.channel
    if buy:
        if any(channel not in t.buy_channels.split(",") for t in tariffs.values()):
            raise BookingError("not_eligible_channel", mode="bought")
        return min(now + timedelta(minutes=ctx.settings.checkout_minutes), performance.starts_at)
    if any(channel not in t.hold_channels.split(",") for t in tariffs.values()):
        raise BookingError("not_eligible_channel", mode="held")
    if any(customer.customer_type not in t.customer_types.split(",") for t in tariffs.values()):
        raise BookingError("not_eligible_customer")
    deadlines = [hold_deadline(t, performance, event, now) for t in tariffs.values()]
    if any(d is None for d in deadlines):
        raise BookingError("buy_only")
    return min(d for d in deadlines if d is not None)


async def _take(
    session: AsyncSession, performance: Performance, tariffs: dict[int, Tariff], lines: list[Line]
) -> list[tuple[Tariff, Seat | None]]:
    """Decrement each gauge once and pick seats; returns one (tariff, seat) per place."""
    assert performance.id is not None
    per_area = Counter[int]()
    for line in lines:
        per_area[tariffs[line.tariff_id].area_id] += line.count
    for area_id, n in sorted(per_area.items()):
        if not await places.take_gauge(session, performance.id, area_id, n):
            raise BookingError("sold_out")
    taken: list[tuple[Tariff, Seat | None]] = []
    for line in lines:
        tariff = tariffs[line.tariff_id]
        area = await session.get(Area, tariff.area_id)
        assert area is not None
        if area.kind != "seated":
            taken += [(tariff, None)] * line.count
            continue
        seats = await _seats(session, performance.id, area.id or 0, line, taken)
        taken += [(tariff, seat) for seat in seats]
    return taken


async def _seats(
    session: AsyncSession,
    performance_id: int,
    area_id: int,
    line: Line,
    already: list[tuple[Tariff, Seat | None]],
) -> list[Seat]:
    free = await places.free_seats(session, performance_id, area_id)
    mine = {seat.id for _, seat in already if seat is not None}
    free = [s for s in free if s.id not in mine]
    if line.seat_ids:
        by_id = {s.id: s for s in free}
        missing = [i for i in line.seat_ids if i not in by_id]
        if missing:
            seat = await session.get(Seat, missing[0])
            if seat is None or seat.area_id != area_id:
                raise BookingError("bad_seats")
            raise BookingError("seat_taken", seat=f"{seat.row}{seat.number}")
        return [by_id[i] for i in line.seat_ids]
    run = places.adjacent_run(free, line.quantity)
    if run is None:
        raise BookingError("sold_out")
    return run


async def _free_reference(session: AsyncSession) -> str:
    """A reference nobody has; three candidates in one query make a clash practically nil."""
    candidates = {new_reference() for _ in range(3)}
    used = set(
        (
            await session.execute(
                select(col(Booking.reference)).where(col(Booking.reference).in_(candidates))
            )
        ).scalars()
    )
    free = sorted(candidates - used)
    return free[0] if free else new_reference()  # the unique constraint and a retry settle it
