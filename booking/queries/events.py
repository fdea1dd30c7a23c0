"""Sold, held and left per date for the console's events pages: one grouped statement for
every date of every event (never one query per event or per date)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.listing import AnySelect
from booking.rules import states
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Gauge, Performance

# An overdue hold still keeps its places until the organizer releases it; a checkout ("buy
# now") keeps them for its few minutes too: both count as held.
HOLDING = (states.HELD, states.OVERDUE)


@dataclass(frozen=True, slots=True)
class DateFigures:
    performance_id: int
    event_id: int
    starts_at: datetime
    on_sale: bool
    capacity: int  # places of every area at this date
    sold: int  # places of paid bookings (taken by the gauges, less the held ones)
    held: int  # places of held or overdue bookings
    left: int  # what the gauges still offer

    @property
    def taken(self) -> int:
        return self.capacity - self.left


def figures_query(event_id: int | None = None) -> AnySelect:
    """Per date: the gauges' capacity and remaining places, and the places of open holds.

    Places are taken only by holds and sales (one hold engine; expiry and cancellation give
    back in the same transaction), so what is sold is what the gauges gave minus what is held.
    Counting the open holds walks the status index and their items only, not every item of a
    season: most bookings of a big season are paid, expired or cancelled. Each side is summed in
    its own grouped subquery so the two joins do not multiply.
    """
    gauges = (
        select(
            col(Gauge.performance_id).label("performance_id"),
            func.sum(Gauge.capacity).label("capacity"),
            func.sum(Gauge.remaining).label("remaining"),
        )
        .group_by(col(Gauge.performance_id))
        .subquery()
    )
    # "booking_id IN (open holds)" rather than a join, so that the planner starts from the
    # status index and reads only those bookings' items (a join scans every item of the season
    # to save a sort).
    open_holds = select(col(Booking.id)).where(col(Booking.status).in_(HOLDING))
    if event_id is not None:  # a booking is for one event: its (event, status) index
        open_holds = open_holds.where(col(Booking.event_id) == event_id)
    held = (
        select(col(Item.performance_id).label("performance_id"), func.count().label("held"))
        .where(col(Item.booking_id).in_(open_holds))
        .group_by(col(Item.performance_id))
        .subquery()
    )
    query = (
        select(
            col(Performance.id),
            col(Performance.event_id),
            col(Performance.starts_at),
            col(Performance.on_sale),
            func.coalesce(gauges.c.capacity, 0),
            func.coalesce(gauges.c.remaining, 0),
            func.coalesce(held.c.held, 0),
        )
        .outerjoin(gauges, gauges.c.performance_id == Performance.id)
        .outerjoin(held, held.c.performance_id == Performance.id)
        .order_by(col(Performance.event_id), col(Performance.starts_at), col(Performance.id))
    )
    if event_id is not None:
        query = query.where(col(Performance.event_id) == event_id)
    return query


async def date_figures(
    ctx: Context, *, event_id: int | None = None
) -> Mapping[int, tuple[DateFigures, ...]]:
    """Event id -> its dates, soonest first, with their figures (every event, or one)."""

    async def work(session: AsyncSession) -> dict[int, tuple[DateFigures, ...]]:
        found: dict[int, list[DateFigures]] = {}
        for pid, eid, starts_at, on_sale, capacity, left, held in (
            await session.execute(figures_query(event_id))
        ).all():
            found.setdefault(int(eid), []).append(
                DateFigures(
                    performance_id=int(pid),
                    event_id=int(eid),
                    starts_at=starts_at,
                    on_sale=bool(on_sale),
                    capacity=int(capacity),
                    sold=max(0, int(capacity) - int(left) - int(held)),
                    held=int(held),
                    left=int(left),
                )
            )
        return {k: tuple(v) for k, v in found.items()}

    return await ctx.db.read(work)
