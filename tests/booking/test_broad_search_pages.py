"""A broad search (one surname's root shared by many customers) cuts its page from the
matching booking ids before joining the rows (``search.page_by_id``), and the release screen
tests those ids through one shared CTE (``release_screen.shared_matches``): the pages, their
order and the totals are the ones the plain one-statement queries give, on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import literal, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries import release_screen, search
from booking.queries.release_screen import ReleaseFilter
from booking.queries.search import BookingFilter
from booking.services import customers
from booking.tables.bookings import Booking
from tests.builders import STAFF, make_catalog, make_held_booking

pytestmark = pytest.mark.asyncio

BROAD = "cuch"  # every customer below; "cuch lea" half of them


async def seeded(ctx: Context) -> None:
    cat = await make_catalog(ctx, capacity=500)
    for i in range(12):
        first = "Léa" if i % 2 else "Tom"
        found, _ = await customers.find_or_create_customer(
            ctx, actor=STAFF, email=f"c{i}@example.org", name=f"{first} Cuche{'x' * (i % 3)}"
        )
        for _ in range(1 + i % 3):  # bookings made at the same instant: the id breaks ties
            await make_held_booking(ctx, cat, found, quantity=1)


async def plain_page(ctx: Context, flt: BookingFilter, offset: int, limit: int) -> list[Any]:
    """The one-statement shape: every matching row joined, sorted, then cut."""
    query = (
        search._filtered(search.row_columns(), flt, ctx.settings.timezone)
        .order_by(col(Booking.created_at).desc(), col(Booking.id).desc())
        .offset(offset)
        .limit(limit)
    )

    async def work(session: AsyncSession) -> list[Any]:
        return [search.to_row(r) for r in (await session.execute(query)).all()]

    return await ctx.db.read(work)


@pytest.mark.parametrize("text", [BROAD, "cuch lea", "cuchex tom"])
async def test_every_page_of_a_broad_search_is_the_plain_querys(ctx: Context, text: str) -> None:
    await seeded(ctx)
    flt = BookingFilter(text=text)
    everything = await plain_page(ctx, flt, 0, 1000)
    assert everything  # the search finds something to page through
    listed: list[Any] = []
    for number in range(1, 20):
        page = await search.search_bookings(ctx, flt=flt, page=number, per_page=4)
        assert list(page.rows) == await plain_page(ctx, flt, (number - 1) * 4, 4)
        listed += page.rows
        if not page.has_next:
            break
    assert listed == everything  # same rows, same order, and has_next ends the walk there


async def test_the_release_screens_totals_through_the_shared_ids_are_the_per_part_ones(
    ctx: Context,
) -> None:
    await seeded(ctx)
    for text in (BROAD, "cuch lea", "nobody"):
        flt = ReleaseFilter(customer=text, horizon_days=366)
        now = ctx.clock.now()
        chosen = release_screen.parts(flt, now, ctx.settings.timezone)
        found = release_screen.shared_matches(flt)
        assert found is not None
        shared = union_all(
            *(
                release_screen.totals_query(p, flt, found).add_columns(literal(i))
                for i, p in enumerate(chosen)
            )
        )
        apart = union_all(
            *(
                release_screen.totals_query(p, flt).add_columns(literal(i))
                for i, p in enumerate(chosen)
            )
        )

        async def work(session: AsyncSession, a: Any = shared, b: Any = apart) -> Any:
            return sorted((await session.execute(a)).all()), sorted(
                (await session.execute(b)).all()
            )

        with_cte, per_part = await ctx.db.read(work)
        assert with_cte == per_part, text
        screen = await release_screen.release_screen(ctx, flt=flt, per_page=200)
        expected = sum(int(n) for _, n, _, _ in per_part)
        assert screen.count == expected == len(screen.page.rows), text
        if text != "nobody":
            assert expected > 0
