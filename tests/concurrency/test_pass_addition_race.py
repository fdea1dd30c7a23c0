"""Adding new dates to every pass while a sale of the product runs (SQLite and PostgreSQL): the
sale reads the dates it includes before a new date is scheduled, and the organizer adds that
date to every pass before the sale commits. The product row, locked by both, makes one wait
for the other, so the new pass ends up with the new date either way: the addition, run after
the sale, finds the sold pass and completes it. The companion (PostgreSQL) takes the lock
away: the addition then reads the passes before the sale's pass exists, the sale commits
without the date, and the pass misses it.

Both run on one event loop, each in its own session, as in production. The sale is held in
its transaction, right after reading its dates, until the addition is done (or has waited half
a second on the lock), so the two truly overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.services import catalog, pass_additions, pass_products, passes
from booking.tables.bookings import Item
from booking.tables.passes import Pass, PassProduct
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF, make_customer

HOLD_S = 0.5  # how long the sale waits, mid-transaction, for the addition to finish


async def race(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, Any]:
    """(the sold pass's id, the new date's id, the addition's report)."""
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    ana = await make_customer(ctx)
    read_dates, added = asyncio.Event(), asyncio.Event()
    real = passes.included_dates

    async def slow_dates(session: AsyncSession, product_id: int, now: datetime) -> Any:
        dates = await real(session, product_id, now)
        read_dates.set()
        # The organizer schedules a date and adds it to every pass meanwhile; a time-out means
        # the addition waits for this sale (the lock): go on and commit.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(added.wait(), timeout=HOLD_S)
        return dates

    monkeypatch.setattr(passes, "included_dates", slow_dates)
    sale = asyncio.create_task(
        passes.sell(
            ctx, actor=STAFF, product_id=product_id, customer_id=ana.id,
            answers={"first_name": "Ana"},
        )
    )  # fmt: skip
    await read_dates.wait()
    late = await catalog.add_performance(
        ctx, actor=STAFF, event_id=ids["jazz"], starts_at=ctx.clock.now() + timedelta(days=20)
    )

    async def add() -> pass_additions.AdditionReport:
        try:
            return await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)
        finally:
            added.set()

    sold, report = await asyncio.gather(sale, add())
    return sold.id, late, report


async def dates_of_pass(ctx: Context, pass_id: int) -> set[int]:
    async def work(session: AsyncSession) -> set[int]:
        query = (
            select(col(Item.performance_id))
            .join(Pass, col(Pass.booking_id) == Item.booking_id)
            .where(col(Pass.id) == pass_id)
        )
        return set((await session.execute(query)).scalars())

    return await ctx.db.read(work)


async def test_a_pass_sold_while_dates_are_added_gets_the_new_date(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    sold, late, report = await race(ctx, monkeypatch)

    assert late in await dates_of_pass(ctx, sold)
    assert (report.passes, report.items_added) == (1, 1)  # added after the sale committed


async def test_without_the_product_lock_the_sold_pass_misses_the_new_date(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ctx.db.sqlite:
        pytest.skip("SQLite runs one writer at a time: the sale and the addition cannot overlap")

    async def unlocked(session: AsyncSession, product_id: int) -> PassProduct | None:
        return await session.get(PassProduct, product_id)  # no FOR UPDATE

    monkeypatch.setattr(passes, "locked_product", unlocked)
    monkeypatch.setattr(pass_additions, "locked_product", unlocked)
    sold, late, report = await race(ctx, monkeypatch)

    assert late not in await dates_of_pass(ctx, sold)
    assert report.items_added == 0  # it read the passes before the sale's pass existed
