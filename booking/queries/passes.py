"""Sold season passes as the console reads them (read only): what a sale form offers (the
dates included, the seats free at every one of them), the passes on sale, one pass's page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries.pass_products import PassProductDetail, product_detail
from booking.rules import pass_holders
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
    async def work(
        session: AsyncSession,
    ) -> tuple[Pass, Booking, Customer, Seat | None, list[IncludedDate]]:
        row = (
            await session.execute(
                select(Pass, Booking, Customer, Seat)
                .join(Booking, col(Booking.id) == Pass.booking_id)
                .join(Customer, col(Customer.id) == Pass.customer_id)
                .outerjoin(Seat, col(Seat.id) == Pass.seat_id)
                .where(col(Pass.id) == pass_id)
            )
        ).one_or_none()
        if row is None:
            raise BookingError("unknown_item")
        found, booking, customer, seat = row
        performances = (
            await session.execute(
                select(Performance)
                .join(Item, col(Item.performance_id) == Performance.id)
                .where(col(Item.booking_id) == booking.id)
                .order_by(col(Performance.starts_at), col(Performance.id))
            )
        ).scalars()
        return found, booking, customer, seat, await _dated(session, list(performances))

    found, booking, customer, seat, dates = await ctx.db.read(work)
    answers = pass_holders.answers_from_json(found.holder)
    return PassDetail(
        id=found.id or 0,
        code=found.code,
        secret=found.secret,
        product=await product_detail(ctx, product_id=found.product_id),
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
    )
