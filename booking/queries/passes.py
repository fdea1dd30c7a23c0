"""Sold season passes as the console reads them (read only): what a sale form offers (the
dates included, the seats free at every one of them), the passes on sale, one pass's page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries.pass_products import PassProductDetail, product_detail
from booking.rules import pass_holders
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Event, Performance, Season, Seat, SeatClaim
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassProduct, PassProductEvent
from booking.views import SeatPlace, seat_place


@dataclass(frozen=True, slots=True)
class IncludedDate:
    performance_id: int
    starts_at: datetime
    timezone: str
    event_title: str


@dataclass(frozen=True, slots=True)
class SeatChoice:
    id: int
    place: SeatPlace


@dataclass(frozen=True, slots=True)
class SaleForm:
    """What the box office needs to sell one product now."""

    product: PassProductDetail
    dates: tuple[IncludedDate, ...]
    seats: tuple[SeatChoice, ...]  # free at every included date; empty for GA


@dataclass(frozen=True, slots=True)
class PassDetail:
    id: int
    code: str
    secret: str  # for the QR: the page is staff only
    product: PassProductDetail
    customer_id: int
    customer_name: str
    customer_email: str | None
    holder: dict[str, str]  # the answers, keyed by HOLDER_FIELDS names
    holder_name: str
    seat: SeatPlace | None
    reference: str  # the booking's
    status: str  # the booking's: held, overdue, confirmed, cancelled, expired
    deadline: datetime | None
    total_minor: int
    currency: str
    dates: tuple[IncludedDate, ...]
    season_name: str
    credit_minor: int  # in ``currency``, the product's
    choices_left: int | None  # a pass with choice: the dates still to pick; None: automatic
    photo_id: int | None  # the holder's PassPhoto (services.pass_photos.photo_data)


async def included_dates(
    session: AsyncSession, product_id: int, now: datetime
) -> list[Performance]:
    """The dates an automatic pass sold now includes: every date of its events on sale and
    not started, earliest first."""
    query = (
        select(Performance)
        .join(PassProductEvent, col(PassProductEvent.event_id) == Performance.event_id)
        .where(
            col(PassProductEvent.product_id) == product_id,
            col(Performance.on_sale).is_(True),
            col(Performance.starts_at) > now,
        )
        .order_by(col(Performance.starts_at), col(Performance.id))
    )
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class DateRow:
    """An included date as the hold path needs it (``included_date_rows``)."""

    id: int
    event_id: int
    starts_at: datetime


_P: Any = Performance.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
_PPE: Any = PassProductEvent.__table__  # type: ignore[attr-defined]
_INCLUDED = Prepared(
    select(_P.c.id, _P.c.event_id, _P.c.starts_at)
    .join(_PPE, _PPE.c.event_id == _P.c.event_id)
    .where(
        _PPE.c.product_id == bindparam("product"),
        _P.c.on_sale.is_(True),
        _P.c.starts_at > bindparam("now", type_=_P.c.starts_at.type),
    )
    .order_by(_P.c.starts_at, _P.c.id)
)


async def included_date_rows(
    session: AsyncSession | AsyncConnection, product_id: int, now: datetime
) -> list[DateRow]:
    """``included_dates`` for a write's hot path (a renewal): the same dates, read by one
    prepared statement on the transaction's connection instead of loading ORM rows."""
    conn = await connection_of(session)
    found = await _INCLUDED.run(conn, {"product": product_id, "now": now})
    return [DateRow(*row) for row in found.rows]


async def free_everywhere(
    session: AsyncSession, area_id: int, performance_ids: Sequence[int], *, limit: int | None = None
) -> list[Seat]:
    """Seats of the area nobody holds at any of these dates, best first (venue order)."""
    claimed = select(col(SeatClaim.seat_id)).where(
        col(SeatClaim.performance_id).in_(list(performance_ids))
    )
    query = (
        select(Seat)
        .where(col(Seat.area_id) == area_id, col(Seat.id).not_in(claimed))
        .order_by(col(Seat.section), col(Seat.row), col(Seat.position))
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def _dated(session: AsyncSession, performances: Sequence[Performance]) -> list[IncludedDate]:
    events = {p.event_id for p in performances}
    found = await session.execute(select(Event).where(col(Event.id).in_(events)))
    by_id = {e.id: e for e in found.scalars()}
    return [
        IncludedDate(p.id or 0, p.starts_at, by_id[p.event_id].timezone, by_id[p.event_id].title)
        for p in performances
    ]


async def sale_form(ctx: Context, *, product_id: int) -> SaleForm:
    detail = await product_detail(ctx, product_id=product_id)

    async def work(session: AsyncSession) -> SaleForm:
        dates = await included_dates(session, product_id, ctx.clock.now())
        seats: list[Seat] = []
        if detail.row.settings.seating == "fixed_seat" and dates:
            ids = [d.id or 0 for d in dates]
            seats = await free_everywhere(session, detail.row.settings.area_id, ids)
        return SaleForm(
            product=detail,
            dates=tuple(await _dated(session, dates)),
            seats=tuple(SeatChoice(s.id or 0, seat_place(s)) for s in seats),
        )

    return await ctx.db.read(work)


async def products_on_sale(ctx: Context) -> list[tuple[int, str, str]]:
    """(id, name, season) of every automatic product on sale: what the box office may sell."""

    async def work(session: AsyncSession) -> list[tuple[int, str, str]]:
        rows = await session.execute(
            select(col(PassProduct.id), col(PassProduct.name), col(Season.name))
            .join(Season, col(Season.id) == PassProduct.season_id)
            .where(col(PassProduct.active).is_(True), col(PassProduct.includes) == "automatic")
            .order_by(col(Season.starts_on).desc(), col(PassProduct.name))
        )
        return [(int(i or 0), str(n), str(s)) for i, n, s in rows.all()]

    return await ctx.db.read(work)


async def pass_detail(ctx: Context, *, pass_id: int) -> PassDetail:
    found = await _details(ctx, [pass_id])
    if not found:
        raise BookingError("unknown_item")
    return found[0]


async def customer_passes(ctx: Context, *, customer_id: int) -> list[PassDetail]:
    """Every pass the customer holds, in every state (held, paid, cancelled, expired), newest
    season first (then newest pass): what /passes and the holder's pages list."""

    async def work(session: AsyncSession) -> list[int]:
        ids = await session.execute(
            select(col(Pass.id))
            .join(Season, col(Season.id) == Pass.season_id)
            .where(col(Pass.customer_id) == customer_id)
            .order_by(col(Season.starts_on).desc(), col(Pass.id).desc())
        )
        return [int(i or 0) for i in ids.scalars()]

    return await _details(ctx, await ctx.db.read(work))


async def pass_of_booking(session: AsyncSession, booking_id: int) -> int | None:
    """The pass this booking bought (a renewal's booking buys the new season's pass), or
    None when it is an ordinary booking."""
    found = await session.execute(select(col(Pass.id)).where(col(Pass.booking_id) == booking_id))
    pass_id = found.scalar_one_or_none()
    return int(pass_id) if pass_id is not None else None


async def booking_pass(ctx: Context, *, booking_id: int) -> int | None:
    """``pass_of_booking`` in a transaction of its own, for the adapters (they see no
    session): the mail channel attaches the PDF of the pass a paid booking bought."""

    async def work(session: AsyncSession) -> int | None:
        return await pass_of_booking(session, booking_id)

    return await ctx.db.read(work)


_Loaded = tuple[Pass, Booking, Customer, Seat | None, list[IncludedDate]]


async def _details(ctx: Context, pass_ids: Sequence[int]) -> list[PassDetail]:
    """The passes, in the order given; each product read once."""
    if not pass_ids:
        return []

    async def work(session: AsyncSession) -> list[_Loaded]:
        rows = await session.execute(
            select(Pass, Booking, Customer, Seat)
            .join(Booking, col(Booking.id) == Pass.booking_id)
            .join(Customer, col(Customer.id) == Pass.customer_id)
            .outerjoin(Seat, col(Seat.id) == Pass.seat_id)
            .where(col(Pass.id).in_(list(pass_ids)))
        )
        by_id = {
            found.id: (found, booking, customer, seat)
            for found, booking, customer, seat in rows.all()
        }
        loaded: list[_Loaded] = []
        for pass_id in pass_ids:
            if pass_id not in by_id:
                continue
            found, booking, customer, seat = by_id[pass_id]
            dates = await _dated(session, await _booked_dates(session, booking.id or 0))
            loaded.append((found, booking, customer, seat, dates))
        return loaded

    products: dict[int, PassProductDetail] = {}
    details = []
    for found, booking, customer, seat, dates in await ctx.db.read(work):
        if found.product_id not in products:
            products[found.product_id] = await product_detail(ctx, product_id=found.product_id)
        details.append(_detail(found, booking, customer, seat, dates, products[found.product_id]))
    return details


async def _booked_dates(session: AsyncSession, booking_id: int) -> list[Performance]:
    """The dates a pass admits: its booking's items (not its claims: a late payment's
    re-taken places carry no pass id, docs/passes.md)."""
    performances = await session.execute(
        select(Performance)
        .join(Item, col(Item.performance_id) == Performance.id)
        .where(col(Item.booking_id) == booking_id)
        .order_by(col(Performance.starts_at), col(Performance.id))
    )
    return list(performances.scalars())


def _detail(
    found: Pass,
    booking: Booking,
    customer: Customer,
    seat: Seat | None,
    dates: list[IncludedDate],
    product: PassProductDetail,
) -> PassDetail:
    answers = pass_holders.answers_from_json(found.holder)
    return PassDetail(
        id=found.id or 0,
        code=found.code,
        secret=found.secret,
        product=product,
        customer_id=customer.id or 0,
        customer_name=customer.name,
        customer_email=customer.email,
        holder=answers,
        holder_name=pass_holders.holder_name(answers, customer.name),
        seat=seat_place(seat) if seat is not None else None,
        reference=booking.reference,
        status=booking.status,
        deadline=booking.deadline,
        total_minor=booking.total_minor,
        currency=booking.currency,
        dates=tuple(dates),
        season_name=product.row.season_name,
        credit_minor=found.credit_minor,
        choices_left=found.choices_left,
        photo_id=found.photo_id,
    )
