"""Reports for organizers: sales and holds per event and day, cancellation reasons, expiries.

Days are the organizer's days (GUICHET_TIMEZONE), so rows are grouped here rather than with
each database's own date functions; a report covers at most a year of rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries.dashboard import PAID
from booking.queries.listing import local_day
from booking.queries.search import BookingRow, row_columns, to_row
from booking.rules import states
from booking.tables.bookings import Booking, Item, Payment
from booking.tables.catalog import Event

MAX_DAYS = 366
EXPIRED_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive
    event_id: int | None = None

    def __post_init__(self) -> None:
        if self.end < self.start or (self.end - self.start).days >= MAX_DAYS:
            raise BookingError("bad_value", field="period")


@dataclass(frozen=True, slots=True)
class DayRow:
    event_id: int
    event_title: str
    day: date
    bookings: int
    places: int
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class ReasonRow:
    event_id: int
    event_title: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class ExpiredReport:
    rows: tuple[BookingRow, ...]  # the most recent first, at most EXPIRED_LIMIT
    total: int
    amount_minor: dict[str, int]


def _range(period: Period, timezone: str) -> tuple[datetime, datetime]:
    return local_day(period.start, timezone)[0], local_day(period.end, timezone)[1]


def _group(
    rows: list[tuple[int, str, datetime, int, int, str]], timezone: str
) -> tuple[DayRow, ...]:
    """(event, title, at, places, amount, currency) rows -> one row per event, day, currency."""
    tz = ZoneInfo(timezone)
    sums: dict[tuple[int, str, date, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for event_id, title, at, places, amount, currency in rows:
        bucket = sums[(event_id, title, at.astimezone(tz).date(), currency)]
        bucket[0] += 1
        bucket[1] += places
        bucket[2] += amount
    return tuple(
        DayRow(e, t, d, n, p, a, c)
        for (e, t, d, c), (n, p, a) in sorted(sums.items(), key=lambda kv: (kv[0][2], kv[0][1]))
    )


def _places() -> Any:
    return (
        select(func.count())
        .where(col(Item.booking_id) == Booking.id)
        .correlate(Booking)
        .scalar_subquery()
    )


async def sales(ctx: Context, *, period: Period) -> tuple[DayRow, ...]:
    """Payments that confirmed or re-instated a booking, by the day they arrived."""
    start, end = _range(period, ctx.settings.timezone)
    query = (
        select(
            col(Booking.event_id),
            col(Event.title),
            col(Payment.received_at),
            _places(),
            col(Payment.amount_minor),
            col(Payment.currency),
        )
        .join(Booking, col(Booking.id) == Payment.booking_id)
        .join(Event, col(Event.id) == Booking.event_id)
        .where(
            col(Payment.received_at) >= start,
            col(Payment.received_at) < end,
            col(Payment.outcome).in_(PAID),
        )
    )
    return await _per_day(ctx, query, period)


async def holds(ctx: Context, *, period: Period) -> tuple[DayRow, ...]:
    """Holds made (not "buy now" checkouts), by the day they were made, whatever became of them."""
    start, end = _range(period, ctx.settings.timezone)
    query = (
        select(
            col(Booking.event_id),
            col(Event.title),
            col(Booking.created_at),
            _places(),
            col(Booking.total_minor),
            col(Booking.currency),
        )
        .join(Event, col(Event.id) == Booking.event_id)
        .where(
            col(Booking.created_at) >= start,
            col(Booking.created_at) < end,
            col(Booking.checkout).is_(False),
        )
    )
    return await _per_day(ctx, query, period)


async def _per_day(ctx: Context, query: Any, period: Period) -> tuple[DayRow, ...]:
    """Run a (event, title, moment, places, amount, currency) query for the period's event, if
    any, and group its rows by event and local day: what the sales and holds reports share."""
    if period.event_id is not None:
        query = query.where(col(Booking.event_id) == period.event_id)

    async def work(session: AsyncSession) -> tuple[DayRow, ...]:
        rows = [(e, t, at, int(n), int(a), c) for e, t, at, n, a, c in await session.execute(query)]
        return _group(rows, ctx.settings.timezone)

    return await ctx.db.read(work)


async def cancellation_reasons(ctx: Context, *, period: Period) -> tuple[ReasonRow, ...]:
    """Cancelled bookings per event and reason, by the day they were cancelled."""
    start, end = _range(period, ctx.settings.timezone)
    query = (
        select(col(Booking.event_id), col(Event.title), col(Booking.cancel_reason), func.count())
        .join(Event, col(Event.id) == Booking.event_id)
        .where(
            col(Booking.status) == states.CANCELLED,
            col(Booking.updated_at) >= start,
            col(Booking.updated_at) < end,
        )
        .group_by(col(Booking.event_id), col(Event.title), col(Booking.cancel_reason))
        .order_by(col(Event.title), col(Booking.cancel_reason))
    )
    if period.event_id is not None:
        query = query.where(col(Booking.event_id) == period.event_id)

    async def work(session: AsyncSession) -> tuple[ReasonRow, ...]:
        return tuple(
            ReasonRow(e, t, r or "other", int(n)) for e, t, r, n in (await session.execute(query))
        )

    return await ctx.db.read(work)


async def expired(ctx: Context, *, period: Period) -> ExpiredReport:
    """Holds that expired or were released in the period: the places that went back on sale."""
    start, end = _range(period, ctx.settings.timezone)
    scope = (
        col(Booking.status) == states.EXPIRED,
        col(Booking.updated_at) >= start,
        col(Booking.updated_at) < end,
    )
    listing = row_columns().where(*scope)
    totals = (
        select(col(Booking.currency), func.count(), func.sum(col(Booking.total_minor)))
        .where(*scope)
        .group_by(col(Booking.currency))
    )
    if period.event_id is not None:
        listing = listing.where(col(Booking.event_id) == period.event_id)
        totals = totals.where(col(Booking.event_id) == period.event_id)
    listing = listing.order_by(col(Booking.updated_at).desc()).limit(EXPIRED_LIMIT)

    async def work(session: AsyncSession) -> ExpiredReport:
        rows = tuple(to_row(r) for r in (await session.execute(listing)).all())
        sums = (await session.execute(totals)).all()
        return ExpiredReport(
            rows=rows,
            total=sum(int(n) for _, n, _ in sums),
            amount_minor={c: int(s or 0) for c, _, s in sums},
        )

    return await ctx.db.read(work)


def default_period(now: datetime, timezone: str, days: int = 30) -> Period:
    last = now.astimezone(ZoneInfo(timezone)).date()
    return Period(last - timedelta(days=days - 1), last)
