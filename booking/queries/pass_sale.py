"""What the box office reads to sell a pass of either kind (read only; issue 12 items 1-2):
the products it may sell, a pass with choice's dates with the places left at each, the seats
free at every picked date, and a sold pass's photo for its page.

The sale itself (``services.passes.sell``) checks all of it again in one transaction: these
reads give the form its choices and a clear answer, the conditional gauge updates and the
unique seat claims of the hold decide when two desks race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.pass_choices import choosable
from booking.queries.passes import IncludedDate, SeatChoice, free_everywhere
from booking.tables.catalog import Gauge, Season
from booking.tables.passes import Pass, PassPhoto, PassProduct
from booking.views import seat_place

DESK = "console"  # the channel a staff actor sells through (Actor.staff)


@dataclass(frozen=True, slots=True)
class ProductOnSale:
    id: int
    name: str
    season_name: str
    includes: str  # "automatic" | "choice"
    choice_count: int | None


@dataclass(frozen=True, slots=True)
class ChoosableDate:
    """A date a pass with choice may pick at its sale, and the places left in its area."""

    date: IncludedDate
    remaining: int

    @property
    def sold_out(self) -> bool:
        return self.remaining <= 0


async def products_on_sale(ctx: Context) -> list[ProductOnSale]:
    """Every active product sold at the desk (its channels name the console), automatic or
    with choice, latest season first."""

    async def work(session: AsyncSession) -> list[ProductOnSale]:
        rows = await session.execute(
            select(PassProduct, col(Season.name))
            .join(Season, col(Season.id) == PassProduct.season_id)
            .where(col(PassProduct.active).is_(True))
            .order_by(col(Season.starts_on).desc(), col(PassProduct.name))
        )
        return [
            ProductOnSale(p.id or 0, p.name, str(season), p.includes, p.choice_count)
            for p, season in rows.all()
            if DESK in p.buy_channels.split(",")
        ]

    return await ctx.db.read(work)


async def choice_dates(ctx: Context, *, product_id: int) -> list[ChoosableDate]:
    """The dates a pass of this product may pick now, earliest first, each with the places
    left in the product's area (0 when sold out, or when the date has no gauge there: the
    hold would refuse it). Empty for an automatic product or an unknown id."""

    async def work(session: AsyncSession) -> list[ChoosableDate]:
        product = await session.get(PassProduct, product_id)
        if product is None or product.includes != "choice":
            return []
        dates = await choosable(session, product, ctx.clock.now())
        left = await _remaining(session, product.area_id, [p.id or 0 for p, _e in dates])
        return [
            ChoosableDate(
                IncludedDate(p.id or 0, p.starts_at, e.timezone, e.title), left.get(p.id or 0, 0)
            )
            for p, e in dates
        ]

    return await ctx.db.read(work)


async def _remaining(
    session: AsyncSession, area_id: int, performance_ids: Sequence[int]
) -> dict[int, int]:
    query = select(col(Gauge.performance_id), col(Gauge.remaining)).where(
        col(Gauge.area_id) == area_id, col(Gauge.performance_id).in_(list(performance_ids))
    )
    return {int(p): int(r) for p, r in (await session.execute(query)).all()}


async def seats_free_at(
    ctx: Context, *, area_id: int, performance_ids: Sequence[int]
) -> list[SeatChoice]:
    """The area's seats nobody holds at any of these dates, best first (none asked: none)."""
    if not performance_ids:
        return []

    async def work(session: AsyncSession) -> list[SeatChoice]:
        seats = await free_everywhere(session, area_id, performance_ids)
        return [SeatChoice(s.id or 0, seat_place(s)) for s in seats]

    return await ctx.db.read(work)


async def pass_photo(ctx: Context, *, pass_id: int) -> bytes | None:
    """The holder's photo of this pass (a JPEG), or None when it has none."""

    async def work(session: AsyncSession) -> bytes | None:
        found = await session.execute(
            select(col(PassPhoto.data))
            .join(Pass, col(Pass.photo_id) == PassPhoto.id)
            .where(col(Pass.id) == pass_id)
        )
        data = found.scalar_one_or_none()
        return None if data is None else bytes(data)

    return await ctx.db.read(work)
