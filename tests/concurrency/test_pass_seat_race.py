"""Two buyers for one fixed pass seat at the same moment (SQLite and PostgreSQL): the unique
(performance, seat) of the seat claims lets exactly one pass through, and the other buyer is
refused with every place given back. The companion takes the claims away (the guard), and the
same race then sells the seat twice.

Both sales start on one event loop, each in its own session, as in production. On PostgreSQL
the two transactions truly overlap: both read the seat as free before either writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.errors import BookingError
from booking.services import pass_products, passes, places
from booking.tables.bookings import Booking
from booking.tables.catalog import Seat, SeatClaim
from booking.tables.passes import Pass
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF, make_customer

BUYERS = 2


async def count(ctx: Context, query: Any) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


async def race(ctx: Context) -> tuple[list[passes.SoldPass], list[BaseException], int]:
    """Two customers buy the same seat's pass at once: (sold, refused, the seat's id)."""
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    buyers = [await make_customer(ctx, email=f"buyer{k}@example.org") for k in range(BUYERS)]

    async def first_seat(session: AsyncSession) -> int:
        query = select(Seat.id).where(Seat.area_id == ids["Stalls"]).order_by(Seat.id)
        return int((await session.execute(query)).scalars().first() or 0)

    seat = await ctx.db.read(first_seat)
    start = asyncio.Event()

    async def buy(customer_id: int) -> passes.SoldPass:
        await start.wait()
        return await passes.sell(
            ctx, actor=STAFF, product_id=product_id, customer_id=customer_id,
            answers={"first_name": "Camille"}, seat_id=seat,
        )  # fmt: skip

    tasks = [asyncio.create_task(buy(b.id)) for b in buyers]
    await asyncio.sleep(0)
    start.set()
    outcomes: Sequence[passes.SoldPass | BaseException] = await asyncio.gather(
        *tasks, return_exceptions=True
    )
    sold = [o for o in outcomes if isinstance(o, passes.SoldPass)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    return sold, refused, seat


async def test_two_buyers_for_one_fixed_seat_get_exactly_one_pass(ctx: Context) -> None:
    sold, refused, seat = await race(ctx)

    assert len(sold) == 1
    assert [type(e) for e in refused] == [BookingError]
    assert isinstance(refused[0], BookingError)
    assert refused[0].code in ("seat_taken", "pass_seat_taken")
    assert await count(ctx, select(func.count()).select_from(Pass)) == 1
    assert await count(ctx, select(func.count()).select_from(Booking)) == 1
    claims = select(func.count()).select_from(SeatClaim).where(SeatClaim.seat_id == seat)
    assert await count(ctx, claims) == 5  # one per included date, all the winner's


async def test_without_the_seat_claims_the_same_race_sells_the_seat_twice(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unguarded(session: AsyncSession, performance_id: int, claims: Any) -> None:
        return None  # no claim row, so no unique (performance, seat) to refuse the second

    monkeypatch.setattr(places, "claim_seats", unguarded)
    sold, refused, seat = await race(ctx)

    assert (len(sold), refused) == (2, [])
    same_seat = select(func.count()).select_from(Pass).where(Pass.seat_id == seat)
    assert await count(ctx, same_seat) == 2
