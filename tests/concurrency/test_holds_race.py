"""Holds under contention: the gauge's conditional update and the seat claim's unique
constraint, each proven necessary by an unguarded twin of the same step that does go wrong.

Every race runs on SQLite and PostgreSQL (the ``ctx`` fixture). All tasks share one event loop
and each service call opens its own session, as in production.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services import holds
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Gauge, Seat, SeatClaim
from booking.views import BookingView, CustomerView
from tests.builders import Catalog, as_customer, make_catalog, make_customer, seat_rows

T = TypeVar("T")

CAPACITY = 500
ATTEMPTS = 2_000
# PostgreSQL: the engine lends 10 + 20 connections and makes a waiter give up after 30 s, so
# the tasks queue on a semaphore instead. SQLite: the service's own write lock queues them.
PG_IN_FLIGHT = 20


@pytest.fixture(autouse=True)
def no_open_holds_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """One customer holds here again and again: the limit of open holds per customer (issue
    11, raced in test_open_holds_race.py) is off, so these races stay about places."""
    monkeypatch.setenv("GUICHET_MAX_OPEN_HOLDS", "0")


def in_flight(ctx: Context, tasks: int) -> int:
    return tasks if ctx.db.sqlite else PG_IN_FLIGHT


async def gather_bounded(
    calls: Sequence[Callable[[], Awaitable[T]]], limit: int
) -> list[T | BaseException]:
    """Start every call at once on this loop, at most ``limit`` of them inside at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls), return_exceptions=True)


def split(
    outcomes: Sequence[BookingView | BaseException],
) -> tuple[list[BookingView], Counter[str], list[BaseException]]:
    """Bookings made, refusals by code, and anything else (which must never happen)."""
    made = [o for o in outcomes if isinstance(o, BookingView)]
    refused = Counter(o.code for o in outcomes if isinstance(o, BookingError))
    other = [o for o in outcomes if not isinstance(o, BookingView | BookingError)]
    return made, refused, other


async def gauge_of(ctx: Context, performance_id: int, area_id: int) -> Gauge:
    async def work(session: AsyncSession) -> Gauge:
        query = select(Gauge).where(
            col(Gauge.performance_id) == performance_id,
            col(Gauge.area_id) == area_id,
        )
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


async def count_rows(ctx: Context, query: object) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]

    return await ctx.db.read(work)


async def seat_ids(ctx: Context, cat: Catalog) -> list[int]:
    async def work(session: AsyncSession) -> list[int]:
        query = (
            select(col(Seat.id))
            .where(col(Seat.area_id) == cat.seated_area)
            .order_by(col(Seat.row), col(Seat.position))
        )
        return [i for i in (await session.execute(query)).scalars() if i is not None]

    return await ctx.db.read(work)


# --- the gauge -----------------------------------------------------------------------------


async def test_two_thousand_concurrent_holds_sell_exactly_the_five_hundred_places(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx, capacity=CAPACITY)
    ana = await make_customer(ctx)
    actor = as_customer(ana)

    async def hold_one() -> BookingView:
        return await holds.hold(
            ctx,
            actor=actor,
            customer_id=ana.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.ga_tariff, quantity=1)],
        )

    outcomes = await gather_bounded([hold_one] * ATTEMPTS, in_flight(ctx, ATTEMPTS))

    made, refused, other = split(outcomes)
    assert other == []
    assert len(made) == CAPACITY
    assert refused == {"sold_out": ATTEMPTS - CAPACITY}
    assert len({b.reference for b in made}) == CAPACITY
    assert (await gauge_of(ctx, cat.performance_id, cat.ga_area)).remaining == 0
    held = select(func.count()).select_from(Booking).where(col(Booking.status) == states.HELD)
    assert await count_rows(ctx, held) == CAPACITY
    assert await count_rows(ctx, select(func.count()).select_from(Item)) == CAPACITY


async def naive_take_one_place(ctx: Context, gauge_id: int) -> bool:
    """The unguarded step: check the gauge in one transaction, write ``read - 1`` in another."""

    async def read(session: AsyncSession) -> int:
        return int((await session.get_one(Gauge, gauge_id)).remaining)

    remaining = await ctx.db.read(read)
    if remaining < 1:
        return False
    await asyncio.sleep(0)  # other tasks check the same number meanwhile

    async def write(session: AsyncSession) -> None:
        await session.execute(
            update(Gauge).where(col(Gauge.id) == gauge_id).values(remaining=remaining - 1)
        )

    await ctx.db.write(write)
    return True


async def test_check_then_decrement_without_the_conditional_update_oversells(
    ctx: Context,
) -> None:
    """The same step without its guard, at a tenth of the scale (the race shows at any scale;
    the full 2,000 would only add some twenty seconds per backend)."""
    capacity, attempts = CAPACITY // 10, ATTEMPTS // 10
    cat = await make_catalog(ctx, capacity=capacity)
    gauge = await gauge_of(ctx, cat.performance_id, cat.ga_area)
    assert gauge.id is not None
    gauge_id = gauge.id

    async def take() -> bool:
        return await naive_take_one_place(ctx, gauge_id)

    outcomes = await gather_bounded([take] * attempts, in_flight(ctx, attempts))

    assert [o for o in outcomes if not isinstance(o, bool)] == []
    sold = sum(1 for o in outcomes if o is True)
    remaining = (await gauge_of(ctx, cat.performance_id, cat.ga_area)).remaining
    assert sold > capacity, f"the naive path sold {sold} of {capacity}: no race was observed"
    assert sold + remaining > capacity  # lost updates: the books no longer balance


# --- the seat claim ------------------------------------------------------------------------

CONTESTED = 20  # seats, each wanted by two customers at once; the block has 40


async def test_two_concurrent_holds_of_the_same_seat_leave_one_winner_and_one_seat_taken(
    ctx: Context,
) -> None:
    """Twenty seats, each wanted by two customers at the same moment.

    Holds of one area also queue on its gauge row (SQLite: the write lock; PostgreSQL: the
    conditional UPDATE's row lock until commit), so the loser usually reads the winner's claim
    and is refused by the check; the unique constraint is what still holds when that check
    is raced (see the companion below) or bypassed."""
    cat = await make_catalog(ctx, seats=seat_rows("ABCD", 10))
    ana = await make_customer(ctx)
    ben = await make_customer(ctx, email="ben@example.org", name="Ben Test")
    seats = (await seat_ids(ctx, cat))[:CONTESTED]

    def hold_seat(customer: CustomerView, seat: int) -> Callable[[], Awaitable[BookingView]]:
        async def call() -> BookingView:
            return await holds.hold(
                ctx,
                actor=as_customer(customer),
                customer_id=customer.id,
                performance_id=cat.performance_id,
                lines=[holds.Line(cat.seat_tariff, seat_ids=(seat,))],
            )

        return call

    # Both claimants of a seat start back to back; the seated gauge (40) never runs out.
    calls = [hold_seat(c, seat) for seat in seats for c in (ana, ben)]
    outcomes = await gather_bounded(calls, in_flight(ctx, len(calls)))

    for n, seat in enumerate(seats):
        pair = outcomes[2 * n : 2 * n + 2]
        made, refused, other = split(pair)
        assert other == [], seat
        assert len(made) == 1, f"seat {seat}: {pair}"
        assert refused == {"seat_taken": 1}, f"seat {seat}: {pair}"

    claims = await _claims_per_seat(ctx, SeatClaim.__table__)  # type: ignore[attr-defined]
    assert claims == dict.fromkeys(seats, 1)
    remaining = (await gauge_of(ctx, cat.performance_id, cat.seated_area)).remaining
    assert remaining == 40 - CONTESTED


async def test_concurrent_best_available_holds_never_share_a_seat(ctx: Context) -> None:
    cat = await make_catalog(ctx, seats=seat_rows("ABCD", 10))  # 20 pairs side by side
    ana = await make_customer(ctx)
    actor = as_customer(ana)

    async def hold_pair() -> BookingView:
        return await holds.hold(
            ctx,
            actor=actor,
            customer_id=ana.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.seat_tariff, quantity=2)],
        )

    outcomes = await gather_bounded([hold_pair] * 25, in_flight(ctx, 25))

    made, refused, other = split(outcomes)
    assert other == []
    assert len(made) == 20
    assert refused == {"sold_out": 5}
    labels = [item.seat for booking in made for item in booking.items]
    assert len(labels) == 40 and len(set(labels)) == 40
    claims = await _claims_per_seat(ctx, SeatClaim.__table__)  # type: ignore[attr-defined]
    assert len(claims) == 40 and set(claims.values()) == {1}


async def _claims_per_seat(ctx: Context, table: Table) -> dict[int, int]:
    async def work(session: AsyncSession) -> dict[int, int]:
        rows = await session.execute(
            select(table.c.seat_id, func.count()).group_by(table.c.seat_id)
        )
        return {int(seat): int(n) for seat, n in rows.all()}

    return await ctx.db.read(work)


async def naive_claim(ctx: Context, table: Table, performance_id: int, seat_id: int) -> bool:
    """The unguarded step: SELECT whether the seat is claimed, then INSERT the claim."""

    async def claimed(session: AsyncSession) -> bool:
        query = select(table.c.id).where(
            table.c.performance_id == performance_id, table.c.seat_id == seat_id
        )
        return (await session.execute(query)).first() is not None

    if await ctx.db.read(claimed):
        return False
    await asyncio.sleep(0)  # the other claimant checks meanwhile

    async def claim(session: AsyncSession) -> None:
        await session.execute(insert(table).values(performance_id=performance_id, seat_id=seat_id))

    await ctx.db.write(claim)
    return True


async def test_seat_claim_checked_by_select_double_books_without_the_unique_constraint(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx, seats=seat_rows("ABCD", 10))
    seats = (await seat_ids(ctx, cat))[:CONTESTED]
    # The same columns as seatclaim, without its unique (performance_id, seat_id).
    unguarded = Table(
        f"seatclaim_unguarded_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("performance_id", Integer, nullable=False),
        Column("seat_id", Integer, nullable=False),
        Column("item_id", Integer),
    )
    async with ctx.db.engine.begin() as conn:
        await conn.run_sync(unguarded.create)
    try:
        calls = [
            lambda s=seat: naive_claim(ctx, unguarded, cat.performance_id, s)
            for seat in seats
            for _ in range(2)
        ]
        outcomes = await gather_bounded(calls, in_flight(ctx, len(calls)))
        assert [o for o in outcomes if not isinstance(o, bool)] == []
        per_seat = await _claims_per_seat(ctx, unguarded)
    finally:
        async with ctx.db.engine.begin() as conn:
            await conn.run_sync(unguarded.drop)

    doubled = [seat for seat, n in per_seat.items() if n > 1]
    assert doubled, "the naive claim never double-booked a seat: no race was observed"

    # The very same naive code on the real table: the unique constraint refuses the loser.
    real: Table = SeatClaim.__table__  # type: ignore[attr-defined]
    calls = [
        lambda s=seat: naive_claim(ctx, real, cat.performance_id, s)
        for seat in seats
        for _ in range(2)
    ]
    outcomes = await gather_bounded(calls, in_flight(ctx, len(calls)))
    assert [o for o in outcomes if not isinstance(o, bool | IntegrityError)] == []
    assert any(isinstance(o, IntegrityError) for o in outcomes)
    assert await _claims_per_seat(ctx, real) == dict.fromkeys(seats, 1)
