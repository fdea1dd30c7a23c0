"""What the door page reads: the performances to choose from, and per performance how many
have come in against how many are expected (the valid tickets of paid bookings).

The page after every scan reads both, so ``board`` reads them in one transaction: at the door
each session opened is a fixed cost paid on every scan (bench/passes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.listing import local_day, today
from booking.rules import states
from booking.tables.bookings import Booking, Item, Ticket
from booking.tables.catalog import Event, Performance
from booking.tables.checkin import CheckIn

SHOWN = 40  # performances in the door's menu: today's and the next ones


@dataclass(frozen=True, slots=True)
class DoorPerformance:
    id: int
    event_title: str
    starts_at: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class DoorCounts:
    checked_in: int
    expected: int


@dataclass(frozen=True, slots=True)
class DoorBoard:
    performances: list[DoorPerformance]
    chosen: DoorPerformance | None  # the one asked for when shown, else the default
    counts: DoorCounts | None


async def performances(ctx: Context) -> list[DoorPerformance]:
    """From the start of today (the desk's time zone) on, soonest first: the first is the
    door's default, today's first performance (or the next one when none is today)."""
    since = _since(ctx)
    return await ctx.db.read(lambda session: _performances(session, since))


async def board(ctx: Context, wanted: int | None) -> DoorBoard:
    """The performances, the chosen one (``wanted`` when among them, else the default) and
    its counts, in one read."""
    since = _since(ctx)

    async def work(session: AsyncSession) -> DoorBoard:
        shown = await _performances(session, since)
        chosen = next((p for p in shown if p.id == wanted), shown[0] if shown else None)
        counted = await _counts(session, chosen.id) if chosen else None
        return DoorBoard(shown, chosen, counted)

    return await ctx.db.read(work)


async def counts(ctx: Context, performance_id: int) -> DoorCounts:
    return await ctx.db.read(lambda session: _counts(session, performance_id))


def _since(ctx: Context) -> datetime:
    start, _end = local_day(today(ctx.clock.now(), ctx.settings.timezone), ctx.settings.timezone)
    return start - timedelta(hours=6)  # a show running past midnight is still "tonight"


# Built once: the door reads them after every scan (see booking.services.checkin).
_PERFORMANCES = (
    select(
        col(Performance.id),
        col(Event.title),
        col(Performance.starts_at),
        col(Event.timezone),
    )
    .join(Event, col(Event.id) == Performance.event_id)
    .where(col(Performance.starts_at) >= bindparam("since"))
    .order_by(col(Performance.starts_at), col(Performance.id))
    .limit(SHOWN)
)
_EXPECTED = (
    select(func.count())
    .select_from(Ticket)
    .join(Item, col(Item.id) == Ticket.item_id)
    .join(Booking, col(Booking.id) == Ticket.booking_id)
    .where(
        col(Item.performance_id) == bindparam("performance"),
        col(Booking.status) == states.CONFIRMED,
        col(Ticket.voided_at).is_(None),
    )
)
_CAME = (
    select(func.count())
    .select_from(CheckIn)
    .where(col(CheckIn.performance_id) == bindparam("performance"))
)
_COUNTS = select(_CAME.scalar_subquery(), _EXPECTED.scalar_subquery())


async def _performances(session: AsyncSession, since: datetime) -> list[DoorPerformance]:
    rows = (await session.execute(_PERFORMANCES, {"since": since})).all()
    return [DoorPerformance(r[0] or 0, r[1], r[2], r[3]) for r in rows]


async def _counts(session: AsyncSession, performance_id: int) -> DoorCounts:
    both = (await session.execute(_COUNTS, {"performance": performance_id})).one()
    return DoorCounts(checked_in=int(both[0]), expected=int(both[1]))
