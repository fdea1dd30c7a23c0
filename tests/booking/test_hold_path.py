"""The fast hold path keeps every guarantee: what it returns is what it stored, a clash of
random references is retried, duplicates in the outbox are counted right, a refused hold
leaves nothing, on SQLite a write waits for another process without stopping the loop, and on
PostgreSQL a connection lost under a prepared statement is discarded and the hold retried."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import chain

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from booking import db as booking_db
from booking import outbox, views
from booking.clock import FrozenClock
from booking.context import Context
from booking.errors import BookingError
from booking.services import holds
from booking.settings import CoreSettings
from booking.tables.bookings import Booking, HistoryEntry, Item
from booking.tables.catalog import Gauge, Seat
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage
from tests import databases
from tests.builders import (
    STAFF,
    Catalog,
    as_customer,
    make_catalog,
    make_customer,
    make_held_booking,
)


async def _count(ctx: Context, table: type) -> int:
    async def work(session):
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()

    return int(await ctx.db.read(work))


async def _stored(ctx: Context, booking_id: int) -> views.BookingView:
    async def work(session):
        booking = await session.get(Booking, booking_id)
        return await views.load_booking(session, booking)

    return await ctx.db.read(work)


async def _seat_ids(ctx: Context, cat: Catalog, *labels: str) -> tuple[int, ...]:
    async def work(session):
        rows = await session.execute(select(Seat).where(Seat.area_id == cat.seated_area))
        by_label = {f"{s.row}{s.number}": s.id for s in rows.scalars()}
        return tuple(by_label[label] for label in labels)

    return await ctx.db.read(work)


async def test_the_booking_a_hold_returns_is_the_one_stored(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    chosen = await _seat_ids(ctx, cat, "B4", "B5")

    booking = await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[
            holds.Line(cat.ga_tariff, quantity=2),
            holds.Line(cat.seat_tariff, seat_ids=chosen),
            holds.Line(cat.seat_tariff, quantity=3),
            holds.Line(cat.ga_tariff, quantity=1),
        ],
    )

    assert booking == await _stored(ctx, booking.id)
    assert [i.seat for i in booking.items].count(None) == 3
    assert len({i.id for i in booking.items}) == 8
    assert booking.total_minor == 3 * 4500 + 5 * 6500


async def test_a_clash_of_random_references_is_retried_with_a_new_one(ctx, monkeypatch, caplog):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    first = await make_held_booking(ctx, cat, ana)
    drawn = iter([first.reference, "ZZZ-ZZZ"])
    monkeypatch.setattr(holds, "new_reference", lambda: next(drawn))

    with caplog.at_level(logging.WARNING, logger="booking.db"):
        second = await make_held_booking(ctx, cat, ana)

    assert second.reference == "ZZZ-ZZZ"
    assert second == await _stored(ctx, second.id)
    assert await _count(ctx, Booking) == 2
    assert await _count(ctx, Item) == 4  # the first attempt's rows were rolled back
    assert await _count(ctx, HistoryEntry) == 2
    assert await _count(ctx, OutboxMessage) == 2
    assert any("reference was taken" in r.getMessage() for r in caplog.records)


async def test_the_outbox_counts_only_the_rows_that_were_new(ctx):
    ana = await make_customer(ctx)

    async def enqueue(*keys: str) -> int:
        async def work(session):
            customer = await session.get(Customer, ana.id)
            rows = chain.from_iterable(
                outbox.rows_for(
                    kind="booking_held",
                    customer=customer,
                    now=ctx.clock.now(),
                    key=key,
                    channels=["email"],
                )
                for key in keys
            )
            return await outbox.enqueue_rows(session, list(rows))

        return await ctx.db.write(work)

    assert await enqueue("a") == 1
    assert await enqueue("a") == 0
    assert await enqueue("b", "a", "c") == 2  # several rows: one statement, still counted
    assert await enqueue("a", "b") == 0
    assert await enqueue(*(f"n{i}" for i in range(150))) == 150
    assert await _count(ctx, OutboxMessage) == 153


async def test_a_hold_refused_when_sold_out_leaves_nothing_behind(ctx):
    # On PostgreSQL a GA hold writes its rows first and takes the gauge last.
    cat = await make_catalog(ctx, capacity=3)
    ana = await make_customer(ctx)
    await make_held_booking(ctx, cat, ana, quantity=2)
    before = {t: await _count(ctx, t) for t in (Booking, Item, HistoryEntry, OutboxMessage)}

    with pytest.raises(BookingError) as caught:
        await make_held_booking(ctx, cat, ana, quantity=2)

    assert caught.value.code == "not_enough_left"  # one left, two asked (issue 11)
    assert {t: await _count(ctx, t) for t in before} == before

    async def remaining(session):
        query = select(Gauge.remaining).where(Gauge.area_id == cat.ga_area)
        return (await session.execute(query)).scalar_one()

    assert await ctx.db.read(remaining) == 1


async def test_a_started_or_unknown_date_and_an_unknown_customer_are_refused_in_that_order(ctx):
    cat = await make_catalog(ctx, starts_in=timedelta(hours=1))
    ana = await make_customer(ctx)

    async def code(performance_id: int, customer_id: int) -> str:
        with pytest.raises(BookingError) as caught:
            await holds.hold(
                ctx,
                actor=STAFF,
                customer_id=customer_id,
                performance_id=performance_id,
                lines=[holds.Line(cat.ga_tariff, quantity=1)],
            )
        return caught.value.code

    assert await code(cat.performance_id + 99, ana.id + 99) == "unknown_performance"
    ctx.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    assert await code(cat.performance_id, ana.id + 99) == "performance_started"
    ctx.clock.advance(timedelta(hours=-2))  # type: ignore[attr-defined]
    assert await code(cat.performance_id, ana.id + 99) == "unknown_customer"


# --- SQLite: the write engine runs on the loop's thread -----------------------------------------


def _path(ctx: Context) -> str:
    return ctx.db.url.split(":///", 1)[1]


async def test_a_sqlite_write_waits_for_another_process_without_stopping_the_loop(sqlite_ctx):
    ctx = sqlite_ctx
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    other = sqlite3.connect(_path(ctx), isolation_level=None)  # "another process"
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.create_task(ticker())
    try:
        other.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
        held = asyncio.create_task(make_held_booking(ctx, cat, ana))
        await asyncio.sleep(0.5)
        assert not held.done()  # it waits for the lock …
        assert ticks >= 10  # … and the loop keeps running meanwhile
        other.execute("COMMIT")
        booking = await asyncio.wait_for(held, timeout=5)
    finally:
        running.cancel()
        other.close()
    assert booking.status == "held"


async def test_a_sqlite_write_gives_up_after_the_busy_timeout(sqlite_ctx, monkeypatch):
    ctx = sqlite_ctx
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    monkeypatch.setattr(booking_db, "BUSY_TIMEOUT_S", 0.2)
    ctx.db.attempts = 1
    other = sqlite3.connect(_path(ctx), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            await make_held_booking(ctx, cat, ana)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await _count(ctx, Booking) == 0


# --- PostgreSQL: prepared statements on the asyncpg connection ----------------------------------


@pytest.fixture
async def pg_ctx(pg_url: str, clock: FrozenClock) -> AsyncIterator[Context]:
    await databases.truncate_pg(pg_url)
    settings = CoreSettings(database_url=pg_url, secret_key="test-secret", _env_file=None)  # type: ignore[call-arg]
    context = Context.create(settings, clock=clock)
    yield context
    await context.close()


@pytest.mark.postgres
async def test_a_connection_lost_mid_hold_is_discarded_and_the_hold_retried(
    pg_ctx, monkeypatch, caplog
):
    import asyncpg

    ctx = pg_ctx

    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    original = asyncpg.Connection.fetch
    lost: list[object] = []

    async def fetch(self, query, *args, **kw):  # the statements Prepared sends directly
        if query.startswith("INSERT INTO booking") and not lost:
            lost.append(self)
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
        return await original(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "fetch", fetch)
    with caplog.at_level(logging.WARNING, logger="booking.db"):
        booking = await make_held_booking(ctx, cat, ana)

    assert lost and lost[0].is_closed()  # discarded, not handed out again
    assert booking == await _stored(ctx, booking.id)
    assert await _count(ctx, Booking) == 1
    assert any("connection lost" in r.getMessage() for r in caplog.records)
