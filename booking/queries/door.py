"""What the door page reads: the performances to choose from, and per performance how many
have come in against how many are expected (the valid tickets of paid bookings).

The page after every scan reads both, so ``board`` reads them in one transaction: at the door
each session opened is a fixed cost paid on every scan (bench/passes.py). After a scan,
"expected" may be up to ``EXPECTED_KEEP_S`` old (``board_in(..., keep_expected=True)``):
counting it joins every ticket of the house (about a millisecond for 2,000, more than the
admission itself, and growing with the venue), while it changes only when a booking does;
"checked in" is always counted afresh, and the page itself (``board``, ``counts``) counts both.

What a ticket's page ``/t/<secret>`` asks for door staff (``tap_choice``): the dates that code
is for, and **the current performance**, the one its answer is given for when the staff member
has not chosen another. The door of a performance is open (``doors_open``) from 3 hours before
its start until the end of its start's local day (midnight in the event's time zone), and at
least 3 hours after the start (a show at 22:30 runs past midnight). The current performance is
the code's date whose door is open now (of two open the same evening, the later: its doors
opened last, the earlier show is over or nearly); with none open, the door's performance open
now, of any event (the answer is then "wrong date"); with none, there is no current
performance and the staff member chooses one of the code's dates: a code is never admitted to
a date whose door is shut unless somebody chose that date."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.listing import local_day, today
from booking.rules import states
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Booking, Item, Ticket
from booking.tables.catalog import Event, Performance
from booking.tables.checkin import CheckIn
from booking.tables.passes import Pass

SHOWN = 40  # performances in the door's menu: today's and the next ones
OPENS_BEFORE = timedelta(hours=3)  # doors open this long before the start
OPEN_AT_LEAST = timedelta(hours=3)  # and stay open at least this long after it
EXPECTED_KEEP_S = 5.0  # how old a scan's "expected" may be (the module docstring says why)


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


@dataclass(frozen=True, slots=True)
class TapChoice:
    # The code's dates from today on, then the other performances whose door is open now (at
    # another hall's door, staff choose theirs: a pass then says "not in the pass").
    dates: list[DoorPerformance]
    current: DoorPerformance | None  # the one answered for (chosen, else as the module says)


def doors_open(starts_at: datetime, timezone: str, now: datetime) -> bool:
    """Whether a performance's door is open at ``now`` (the window in the module's words)."""
    _start, end_of_day = local_day(today(starts_at, timezone), timezone)
    closes = max(end_of_day, starts_at + OPEN_AT_LEAST)
    return starts_at - OPENS_BEFORE <= now < closes


def current_of(shown: list[DoorPerformance], now: datetime) -> DoorPerformance | None:
    """Of ``shown`` (soonest first), the last whose door is open at ``now``."""
    return next((p for p in reversed(shown) if doors_open(p.starts_at, p.timezone, now)), None)


async def tap_choice(ctx: Context, *, secret: str, wanted: int | None) -> TapChoice:
    """The performances to offer for this secret (``TapChoice.dates``) and the one the answer
    is for: ``wanted`` when offered, else the current one (module docstring). One read."""
    now = ctx.clock.now()
    since = menu_start(ctx)

    async def work(session: AsyncSession) -> TapChoice:
        dates = await _dates_of(session, secret, since)
        door = await _performances(session, since)
        open_now = [p for p in door if doors_open(p.starts_at, p.timezone, now)]
        mine = {p.id for p in dates}
        offered = [*dates, *(p for p in open_now if p.id not in mine)]
        chosen = next((p for p in offered if p.id == wanted), None)
        return TapChoice(offered, chosen or current_of(dates, now) or current_of(open_now, now))

    return await ctx.db.read(work)


async def performances(ctx: Context) -> list[DoorPerformance]:
    """From the start of today (the desk's time zone) on, soonest first: the first is the
    door's default, today's first performance (or the next one when none is today)."""
    since = menu_start(ctx)
    return await ctx.db.read(lambda session: _performances(session, since))


async def board(ctx: Context, wanted: int | None) -> DoorBoard:
    """The performances, the chosen one (``wanted`` when among them, else the default) and
    its counts, in one read."""
    since = menu_start(ctx)
    return await ctx.db.read(lambda session: board_in(session, since, wanted))


async def board_in(
    session: AsyncSession, since: datetime, wanted: int | None, *, keep_expected: bool = False
) -> DoorBoard:
    """``board`` in the caller's transaction (``checkin.scan`` reads it where it admits, with
    ``keep_expected``: "expected" as counted within the last ``EXPECTED_KEEP_S``)."""
    shown = await _performances(session, since)
    chosen = next((p for p in shown if p.id == wanted), shown[0] if shown else None)
    if chosen is None:
        return DoorBoard(shown, None, None)
    counting = _kept_counts if keep_expected else _counts
    return DoorBoard(shown, chosen, await counting(session, chosen.id))


async def counts(ctx: Context, performance_id: int) -> DoorCounts:
    return await ctx.db.read(lambda session: _counts(session, performance_id))


def menu_start(ctx: Context) -> datetime:
    """Where the door's menu starts: today (the desk's time zone), and shows of last night."""
    start, _end = local_day(today(ctx.clock.now(), ctx.settings.timezone), ctx.settings.timezone)
    return start - timedelta(hours=6)  # a show running past midnight is still "tonight"


# Built once and prepared: the door reads them after every scan (booking.services.checkin).
_performances_query: Any = (
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
# A pass admits at each date its booking has an item for (no ticket per date): expected too.
_EXPECTED_PASSES = (
    select(func.count())
    .select_from(Item)
    .join(Pass, col(Pass.booking_id) == Item.booking_id)
    .join(Booking, col(Booking.id) == Item.booking_id)
    .where(
        col(Item.performance_id) == bindparam("performance"),
        col(Booking.status) == states.CONFIRMED,
        col(Booking.refund_due).is_(False),
    )
)
_CAME = (
    select(func.count())
    .select_from(CheckIn)
    .where(col(CheckIn.performance_id) == bindparam("performance"))
)
_counts_query: Any = select(
    _CAME.scalar_subquery(), _EXPECTED.scalar_subquery() + _EXPECTED_PASSES.scalar_subquery()
)
_PERFORMANCES = Prepared(_performances_query)
_COUNTS = Prepared(_counts_query)
_COME = Prepared(select(_CAME.scalar_subquery()))


# A ticket's one date, or every date of the passes sharing the secret (a renewal copies it into
# each season's pass), read from the bookings' items as the door admits them.
_TICKET_DATES = (
    select(col(Item.performance_id))
    .join(Ticket, col(Ticket.item_id) == Item.id)
    .where(col(Ticket.secret) == bindparam("secret"))
)
_PASS_DATES = (
    select(col(Item.performance_id))
    .join(Pass, col(Pass.booking_id) == Item.booking_id)
    .where(col(Pass.secret) == bindparam("secret"))
)
_DATES = (
    select(
        col(Performance.id),
        col(Event.title),
        col(Performance.starts_at),
        col(Event.timezone),
    )
    .join(Event, col(Event.id) == Performance.event_id)
    .where(
        col(Performance.id).in_(_TICKET_DATES.union(_PASS_DATES)),
        col(Performance.starts_at) >= bindparam("since"),
    )
    .order_by(col(Performance.starts_at), col(Performance.id))
    .limit(SHOWN)
)


async def _dates_of(session: AsyncSession, secret: str, since: datetime) -> list[DoorPerformance]:
    rows = (await session.execute(_DATES, {"secret": secret, "since": since})).all()
    return [DoorPerformance(r[0] or 0, r[1], r[2], r[3]) for r in rows]


async def _performances(session: AsyncSession, since: datetime) -> list[DoorPerformance]:
    conn = await connection_of(session)
    rows = (await _PERFORMANCES.run(conn, {"since": since})).rows
    return [DoorPerformance(r[0] or 0, r[1], r[2], r[3]) for r in rows]


async def _counts(session: AsyncSession, performance_id: int) -> DoorCounts:
    conn = await connection_of(session)
    both = (await _COUNTS.run(conn, {"performance": performance_id})).rows[0]
    counted = DoorCounts(checked_in=int(both[0]), expected=int(both[1]))
    _expected_of(session)[performance_id] = (_monotonic(), counted.expected)
    return counted


async def _kept_counts(session: AsyncSession, performance_id: int) -> DoorCounts:
    """``_counts`` with "expected" as counted within ``EXPECTED_KEEP_S``, when it was."""
    kept = _expected_of(session).get(performance_id)
    if kept is None or _monotonic() - kept[0] > EXPECTED_KEEP_S:
        return await _counts(session, performance_id)
    conn = await connection_of(session)
    come = (await _COME.run(conn, {"performance": performance_id})).rows[0][0]
    return DoorCounts(checked_in=int(come), expected=kept[1])


_monotonic: Callable[[], float] = time.monotonic  # a test moves it
# performance id -> (when counted, expected), per database engine (each test has its own).
_EXPECTED_KEPT: weakref.WeakKeyDictionary[Any, dict[int, tuple[float, int]]] = (
    weakref.WeakKeyDictionary()
)


def _expected_of(session: AsyncSession) -> dict[int, tuple[float, int]]:
    return _EXPECTED_KEPT.setdefault(session.get_bind(), {})
