"""Two holders adding the last choice of one pass at the same moment (SQLite and PostgreSQL):
the conditional ``UPDATE … SET choices_left = choices_left - 1 WHERE … choices_left >= 1``
lets exactly one date in, and the other is told no choice is left, with nothing taken. The
companion replaces it with a read-then-write (read how many are left, then write one less,
the way a form showing "1 left" would), and the same race adds both dates.

Both adds start on one event loop, each in its own session, as in production. With the guard
on PostgreSQL the two transactions truly overlap: the second's update waits on the first's
row lock, then finds no choice left. The companion's reads both happen before either write,
on both databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries import pass_choices as choice_queries
from booking.services import pass_choices
from booking.tables.bookings import Item
from booking.tables.passes import Pass
from tests.booking.test_pass_choice import choice_product, sell
from tests.booking.test_pass_products import season_with_events
from tests.booking.test_pass_sale import dates_of
from tests.builders import STAFF, as_customer, make_customer


async def scalar(ctx: Context, query: Any) -> Any:
    async def work(session: AsyncSession) -> Any:
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


Add = Callable[[Context, Any, str, int], Awaitable[pass_choices.AddedDate]]


async def guarded(ctx: Context, actor: Any, code: str, performance_id: int) -> Any:
    return await pass_choices.add_date(ctx, actor=actor, code=code, performance_id=performance_id)


async def race(
    ctx: Context, add: Add = guarded
) -> tuple[list[pass_choices.AddedDate], list[BaseException], int]:
    """One pass with one choice left; its holder (bot) and the box office add a date each at
    once. Returns (added, refused, the pass's booking id)."""
    ids = await season_with_events(ctx)
    product_id = await choice_product(ctx, ids)
    ana = await make_customer(ctx)
    opera = await dates_of(ctx, ids["opera"])
    jazz = await dates_of(ctx, ids["jazz"])
    sold = await sell(ctx, product_id, ana, [opera[0], opera[1]])
    start = asyncio.Event()

    async def one(actor: Any, performance_id: int) -> pass_choices.AddedDate:
        await start.wait()
        return await add(ctx, actor, sold.code, performance_id)

    tasks = [
        asyncio.create_task(one(as_customer(ana), jazz[0])),
        asyncio.create_task(one(STAFF, jazz[1])),
    ]
    await asyncio.sleep(0)
    start.set()
    outcomes: Sequence[pass_choices.AddedDate | BaseException] = await asyncio.gather(
        *tasks, return_exceptions=True
    )
    booking_id = await scalar(ctx, select(Pass.booking_id).where(col(Pass.id) == sold.id))
    added = [o for o in outcomes if isinstance(o, pass_choices.AddedDate)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    return added, refused, int(booking_id)


async def items(ctx: Context, booking_id: int) -> int:
    query = select(func.count()).select_from(Item).where(col(Item.booking_id) == booking_id)
    return int(await scalar(ctx, query))


async def test_two_adds_of_the_last_choice_let_exactly_one_date_in(ctx: Context) -> None:
    added, refused, booking_id = await race(ctx)

    assert len(added) == 1 and added[0].choices_left == 0
    assert [type(e) for e in refused] == [BookingError]
    assert isinstance(refused[0], BookingError) and refused[0].code == "pass_no_choice_left"
    assert await items(ctx, booking_id) == 3  # two picked at the sale, one added
    assert await scalar(ctx, select(Pass.choices_left)) == 0


async def test_with_a_read_then_write_both_adds_get_in(ctx: Context) -> None:
    read_both = asyncio.Barrier(2)

    async def read_then_write(
        ctx: Context, actor: Any, code: str, performance_id: int
    ) -> pass_choices.AddedDate:
        """add_date with its guard replaced: how many are left is read, then one less is
        written; the rest (the checks, the item, the seat) is the real code."""
        pass_id = await choice_queries.pass_id_by_code(ctx, code=code, customer_id=None)
        left = await scalar(ctx, select(Pass.choices_left).where(col(Pass.id) == pass_id))
        await asyncio.wait_for(read_both.wait(), timeout=5)  # the other add reads meanwhile
        if not left:
            raise BookingError("pass_no_choice_left", pass_code=code)

        async def work(session: AsyncSession) -> pass_choices.AddedDate:
            found = await pass_choices.find_pass(session, code, actor, code)
            await session.execute(
                update(Pass).where(col(Pass.id) == pass_id).values(choices_left=left - 1)
            )
            return await pass_choices.add_item(session, ctx, actor, found, performance_id, left - 1)

        return await ctx.db.write(work)

    added, refused, booking_id = await race(ctx, read_then_write)

    assert (len(added), refused) == (2, [])
    assert await items(ctx, booking_id) == 4  # one date more than the pass was sold for
