"""Passes with choice as their holders and the box office read them (read only): the dates a
pass may still pick, and the pass a typed code stands for (SPEC §9, issue 12 item 6).

A product with choice lets the holder pick among the dates of its linked events, or of every
event of its season at its area's venue when none is linked (docs/passes.md), in the
product's currency, on sale and not started.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.passes import IncludedDate
from booking.rules.references import normalize_reference
from booking.tables.bookings import Item
from booking.tables.catalog import Area, Event, Performance
from booking.tables.passes import Pass, PassProduct, PassProductEvent


async def choosable(
    session: AsyncSession, product: PassProduct, now: datetime
) -> list[tuple[Performance, Event]]:
    """Every date a pass of this product may pick now, earliest first."""
    linked = select(col(PassProductEvent.event_id)).where(
        col(PassProductEvent.product_id) == product.id
    )
    has_links = (await session.execute(linked.limit(1))).first() is not None
    query = (
        select(Performance, Event)
        .join(Event, col(Event.id) == Performance.event_id)
        .where(
            col(Performance.on_sale).is_(True),
            col(Performance.starts_at) > now,
            col(Event.currency) == product.currency,
        )
        .order_by(col(Performance.starts_at), col(Performance.id))
    )
    if has_links:
        query = query.where(col(Event.id).in_(linked))
    else:
        venue = select(col(Area.venue_id)).where(col(Area.id) == product.area_id)
        query = query.where(
            col(Event.season_id) == product.season_id, col(Event.venue_id).in_(venue)
        )
    return [(p, e) for p, e in (await session.execute(query)).all()]


async def dates_in(session: AsyncSession, booking_id: int) -> set[int]:
    """The performances a pass's booking already holds a place at."""
    query = select(col(Item.performance_id)).where(col(Item.booking_id) == booking_id)
    return {int(p) for p in (await session.execute(query)).scalars()}


async def choosable_dates(ctx: Context, *, pass_id: int) -> list[IncludedDate]:
    """The dates this pass may still add (none for an automatic pass or an unknown id)."""

    async def work(session: AsyncSession) -> list[IncludedDate]:
        row = (
            await session.execute(
                select(Pass, PassProduct)
                .join(PassProduct, col(PassProduct.id) == Pass.product_id)
                .where(col(Pass.id) == pass_id)
            )
        ).one_or_none()
        if row is None or row[1].includes != "choice":
            return []
        found, product = row
        have = await dates_in(session, found.booking_id)
        return [
            IncludedDate(p.id or 0, p.starts_at, e.timezone, e.title)
            for p, e in await choosable(session, product, ctx.clock.now())
            if p.id not in have
        ]

    return await ctx.db.read(work)


async def product_choosable_dates(ctx: Context, *, product_id: int) -> list[IncludedDate]:
    """The dates a pass of this product may pick at its sale (a sale form's choices; none for
    an automatic product or an unknown id)."""

    async def work(session: AsyncSession) -> list[IncludedDate]:
        product = await session.get(PassProduct, product_id)
        if product is None or product.includes != "choice":
            return []
        return [
            IncludedDate(p.id or 0, p.starts_at, e.timezone, e.title)
            for p, e in await choosable(session, product, ctx.clock.now())
        ]

    return await ctx.db.read(work)


async def pass_id_by_code(ctx: Context, *, code: str, customer_id: int | None) -> int | None:
    """The pass a typed code stands for, held by ``customer_id`` (None: the box office, any
    holder). A renewal copies the code into the new season, so one code may name a pass per
    season: the newest is the one dates are added to. None for a code nobody of that customer
    holds, so a stranger's code and a mistyped one read alike."""
    typed = normalize_reference(code)
    if typed is None:
        return None

    async def work(session: AsyncSession) -> int | None:
        return await pass_of_code(session, typed, customer_id)

    return await ctx.db.read(work)


async def pass_of_code(session: AsyncSession, code: str, customer_id: int | None) -> int | None:
    """``pass_id_by_code`` on a normalized code, inside the caller's transaction."""
    query = select(col(Pass.id)).where(col(Pass.code) == code)
    if customer_id is not None:
        query = query.where(col(Pass.customer_id) == customer_id)
    found = (await session.execute(query.order_by(col(Pass.id).desc()).limit(1))).scalar()
    return None if found is None else int(found)


async def choices_left(ctx: Context, *, pass_id: int) -> int | None:
    """How many dates the pass may still pick (None: an automatic pass, or no such pass)."""

    async def work(session: AsyncSession) -> int | None:
        query = select(col(Pass.choices_left)).where(col(Pass.id) == pass_id)
        left = (await session.execute(query)).scalar_one_or_none()
        return None if left is None else int(left)

    return await ctx.db.read(work)
