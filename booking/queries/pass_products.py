"""Pass products as the console reads them: the list per season with what each includes, and
one product's detail for its edit form and its preview (read only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.rules import pass_products as rules
from booking.rules.pass_products import PassProductSettings
from booking.tables.catalog import Area, Event, Performance, Season, Seat, Venue
from booking.tables.passes import PassProduct, PassProductEvent


@dataclass(frozen=True, slots=True)
class PassProductRow:
    id: int
    season_id: int
    season_name: str
    area_name: str
    venue_name: str
    settings: PassProductSettings
    events: int  # included (automatic) or allowed (choice; 0: any of the season)
    performances: int  # the dates of those events

    @property
    def version(self) -> str:
        return rules.fingerprint(self.settings)


@dataclass(frozen=True, slots=True)
class PassProductDetail:
    row: PassProductRow
    event_titles: tuple[str, ...]
    sample_seat: str  # the area's best seat ("Balcon A 1"), or the GA area's name


def settings_of(product: PassProduct, event_ids: Iterable[int]) -> PassProductSettings:
    """The stored product as the settings a form edits (and the fingerprint covers)."""

    def split(text: str) -> tuple[str, ...]:
        return tuple(p for p in text.split(",") if p)

    return PassProductSettings(
        season_id=product.season_id,
        name=product.name,
        price_minor=product.price_minor,
        currency=product.currency,
        customer_types=split(product.customer_types),
        buy_channels=split(product.buy_channels),
        seating=product.seating,
        area_id=product.area_id,
        includes=product.includes,
        choice_count=product.choice_count,
        event_ids=tuple(sorted(event_ids)),
        holder_fields=rules.holder_fields_from_json(product.holder_fields),
        free_field_label=product.free_field_label,
        accent_colour=product.accent_colour,
        note=product.note,
        active=product.active,
    )


async def event_ids_of(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {p: [] for p in product_ids}
    if product_ids:
        rows = await session.execute(
            select(col(PassProductEvent.product_id), col(PassProductEvent.event_id)).where(
                col(PassProductEvent.product_id).in_(product_ids)
            )
        )
        for product_id, event_id in rows.all():
            found[int(product_id)].append(int(event_id))
    return found


async def list_products(ctx: Context, *, season_id: int | None = None) -> list[PassProductRow]:
    """Every product (of one season when given), newest season first, then by name."""

    async def work(session: AsyncSession) -> list[PassProductRow]:
        return await _rows(session, season_id=season_id)

    return await ctx.db.read(work)


async def product_detail(ctx: Context, *, product_id: int) -> PassProductDetail:
    async def work(session: AsyncSession) -> PassProductDetail:
        rows = await _rows(session, product_id=product_id)
        if not rows:
            raise BookingError("unknown_item")
        row = rows[0]
        titles = await session.execute(
            select(col(Event.title))
            .where(col(Event.id).in_(row.settings.event_ids))
            .order_by(col(Event.title))
        )
        return PassProductDetail(
            row=row,
            event_titles=tuple(str(t) for t in titles.scalars()),
            sample_seat=await _sample_seat(session, row),
        )

    return await ctx.db.read(work)


async def _rows(
    session: AsyncSession, *, season_id: int | None = None, product_id: int | None = None
) -> list[PassProductRow]:
    query = (
        select(PassProduct, col(Season.name), col(Area.name), col(Venue.name))
        .join(Season, col(Season.id) == PassProduct.season_id)
        .join(Area, col(Area.id) == PassProduct.area_id)
        .join(Venue, col(Venue.id) == Area.venue_id)
        .order_by(col(Season.starts_on).desc(), col(PassProduct.name))
    )
    if season_id is not None:
        query = query.where(col(PassProduct.season_id) == season_id)
    if product_id is not None:
        query = query.where(col(PassProduct.id) == product_id)
    found = (await session.execute(query)).all()
    events = await event_ids_of(session, [p.id or 0 for p, *_ in found])
    dates = await _dates(session, {e for ids in events.values() for e in ids})
    return [
        PassProductRow(
            id=p.id or 0,
            season_id=p.season_id,
            season_name=str(season),
            area_name=str(area),
            venue_name=str(venue),
            settings=settings_of(p, events[p.id or 0]),
            events=len(events[p.id or 0]),
            performances=sum(dates.get(e, 0) for e in events[p.id or 0]),
        )
        for p, season, area, venue in found
    ]


async def _dates(session: AsyncSession, event_ids: set[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    rows = await session.execute(
        select(col(Performance.event_id), func.count())
        .where(col(Performance.event_id).in_(event_ids))
        .group_by(col(Performance.event_id))
    )
    return {int(e): int(n) for e, n in rows.all()}


async def _sample_seat(session: AsyncSession, row: PassProductRow) -> str:
    if row.settings.seating != "fixed_seat":
        return row.area_name
    seat = (
        await session.execute(
            select(Seat)
            .where(col(Seat.area_id) == row.settings.area_id)
            .order_by(col(Seat.position))
            .limit(1)
        )
    ).scalar_one_or_none()
    if seat is None:
        return row.area_name
    return f"{seat.section} {seat.row} {seat.number}"
