"""Season passes as the console's reports read them (read only): renewal campaigns with their
counts, the renewal lines of a campaign and of a season both ways ("renewed into this season",
"renewed from this season", "not yet renewed"), every pass sold (the holders list), and one
pass's lineage (renewed from, renewed into) with its credit and choices left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries.listing import AnySelect, Page, bounds, contains, contains_ci, paged
from booking.rules import pass_holders
from booking.tables.bookings import Booking
from booking.tables.catalog import Area, Season, Seat
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassProduct
from booking.tables.renewals import Renewal, RenewalCampaign, RenewalOffer
from booking.views import SeatPlace, seat_place

# The bookings a launch invites (services.renewals): a pass whose purchase is paid. A held
# pass may still expire, and an expired or cancelled one has no holder to invite.
PAID = ("confirmed",)
LINE_STATES = ("invited", "renewed", "released")


@dataclass(frozen=True, slots=True)
class ProductRef:
    id: int
    name: str
    season_id: int
    season_name: str
    season_starts_on: date
    currency: str
    includes: str  # automatic | choice


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    invited: int  # every holder the launch invited, whatever became of it since
    renewed: int
    waiting: int  # invited and not renewed yet
    released: int  # not renewed when the window ended: the kept seat went back on sale


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    name: str
    state: str  # draft | open | closed
    from_product: ProductRef
    offers: tuple[ProductRef, ...]
    opens_at: datetime | None
    closes_at: datetime | None
    reminder_days: tuple[int, ...]
    launched_at: datetime | None
    closed_at: datetime | None
    counts: CampaignCounts


@dataclass(frozen=True, slots=True)
class RenewalLine:
    """One holder in a renewal report: last season's pass and what became of it."""

    renewal_id: int | None  # None for a pass renewed outside any campaign row
    state: str  # invited | renewed | released
    customer_id: int
    holder_name: str
    customer_email: str | None
    pass_id: int
    pass_code: str
    from_product: str
    from_season: str
    old_seat: SeatPlace | None
    new_pass_id: int | None
    new_product: str  # the renewal's product; empty while nothing is renewed
    new_season: str
    new_seat: SeatPlace | None  # the renewed pass's seat, else the seat kept during the window
    new_reference: str | None
    new_status: str | None  # the renewal booking's: held, confirmed, …


@dataclass(frozen=True, slots=True)
class HolderRow:
    pass_id: int
    code: str
    holder_name: str
    customer_id: int
    customer_email: str | None
    product_id: int
    product_name: str
    season_id: int
    season_name: str
    status: str  # the booking's
    reference: str
    seat: SeatPlace | None
    area_name: str
    credit_minor: int
    currency: str
    choices_left: int | None
    renewed_from_id: int | None


@dataclass(frozen=True, slots=True)
class HolderFilter:
    text: str = ""  # part of the holder's or customer's name, an email, or a pass code
    season_id: int | None = None
    product_id: int | None = None


@dataclass(frozen=True, slots=True)
class PassLink:
    pass_id: int
    code: str
    product_name: str
    season_name: str


@dataclass(frozen=True, slots=True)
class PassLineage:
    credit_minor: int
    currency: str
    choices_left: int | None
    renewed_from: PassLink | None
    renewed_into: PassLink | None


# -- products and campaigns -------------------------------------------------------------------


async def products(ctx: Context) -> list[ProductRef]:
    """Every pass product with its season, newest season first: what a campaign form offers."""

    async def work(session: AsyncSession) -> list[ProductRef]:
        return list((await _products(session, None)).values())

    return await ctx.db.read(work)


async def _products(session: AsyncSession, ids: Sequence[int] | None) -> dict[int, ProductRef]:
    query = (
        select(col(PassProduct.id), col(PassProduct.name), col(Season.id), col(Season.name),
               col(Season.starts_on), col(PassProduct.currency), col(PassProduct.includes))
        .join(Season, col(Season.id) == PassProduct.season_id)
        .order_by(col(Season.starts_on).desc(), col(PassProduct.name))
    )  # fmt: skip
    if ids is not None:
        query = query.where(col(PassProduct.id).in_(list(ids)))
    rows = (await session.execute(query)).all()
    return {int(r[0] or 0): ProductRef(int(r[0] or 0), r[1], int(r[2] or 0), *r[3:]) for r in rows}


async def campaigns(ctx: Context) -> list[CampaignRow]:
    """Every campaign, newest first, with its counts."""

    async def work(session: AsyncSession) -> list[CampaignRow]:
        query = select(RenewalCampaign).order_by(col(RenewalCampaign.id).desc())
        return await _campaign_rows(session, list((await session.execute(query)).scalars()))

    return await ctx.db.read(work)


async def campaign(ctx: Context, *, campaign_id: int) -> CampaignRow:
    async def work(session: AsyncSession) -> CampaignRow:
        found = await session.get(RenewalCampaign, campaign_id)
        if found is None:
            raise BookingError("unknown_item")
        return (await _campaign_rows(session, [found]))[0]

    return await ctx.db.read(work)


async def _campaign_rows(
    session: AsyncSession, found: Sequence[RenewalCampaign]
) -> list[CampaignRow]:
    ids = [c.id or 0 for c in found]
    offers: dict[int, list[int]] = {i: [] for i in ids}
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = await session.execute(
            select(col(RenewalOffer.campaign_id), col(RenewalOffer.product_id))
            .where(col(RenewalOffer.campaign_id).in_(ids))
            .order_by(col(RenewalOffer.id))
        )
        for campaign_id, product_id in rows.all():
            offers[int(campaign_id)].append(int(product_id))
        tally = await session.execute(
            select(col(Renewal.campaign_id), col(Renewal.state), func.count())
            .where(col(Renewal.campaign_id).in_(ids))
            .group_by(col(Renewal.campaign_id), col(Renewal.state))
        )
        for campaign_id, state, n in tally.all():
            counts[int(campaign_id)][str(state)] = int(n)
    wanted = {c.from_product_id for c in found} | {p for o in offers.values() for p in o}
    refs = await _products(session, sorted(wanted))
    return [
        CampaignRow(
            id=c.id or 0,
            name=c.name,
            state=c.state,
            from_product=refs[c.from_product_id],
            offers=tuple(refs[p] for p in offers[c.id or 0]),
            opens_at=c.opens_at,
            closes_at=c.closes_at,
            reminder_days=tuple(int(d) for d in c.reminder_days.split(",") if d.strip()),
            launched_at=c.launched_at,
            closed_at=c.closed_at,
            counts=_counts(counts[c.id or 0]),
        )
        for c in found
    ]


def _counts(by_state: dict[str, int]) -> CampaignCounts:
    renewed, waiting, released = (by_state.get(s, 0) for s in ("renewed", "invited", "released"))
    return CampaignCounts(renewed + waiting + released, renewed, waiting, released)


async def to_invite(ctx: Context, *, campaign_id: int) -> int:
    """How many holders a launch would invite now (shown before the organizer confirms): the
    from-product's paid, unrefunded passes not invited by this campaign yet — the rule
    ``services.renewals.launch`` applies."""

    async def work(session: AsyncSession) -> int:
        found = await session.get(RenewalCampaign, campaign_id)
        if found is None:
            raise BookingError("unknown_item")
        invited = exists().where(
            col(Renewal.campaign_id) == campaign_id, col(Renewal.pass_id) == Pass.id
        )
        query = (
            select(func.count())
            .select_from(Pass)
            .join(Booking, col(Booking.id) == Pass.booking_id)
            .where(
                col(Pass.product_id) == found.from_product_id,
                col(Booking.status).in_(PAID),
                col(Booking.refund_due).is_(False),
                ~invited,
            )
        )
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


# -- renewal lines ----------------------------------------------------------------------------

_Old = aliased(Pass, name="old_pass")
_New = aliased(Pass, name="new_pass")
_OldProduct = aliased(PassProduct, name="old_product")
_NewProduct = aliased(PassProduct, name="new_product")
_OldSeason = aliased(Season, name="old_season")
_NewSeason = aliased(Season, name="new_season")
_OldSeat = aliased(Seat, name="old_seat")
_NewSeat = aliased(Seat, name="new_seat")
_NewBooking = aliased(Booking, name="new_booking")


def _line_columns() -> tuple[Any, ...]:
    return (
        Renewal, _Old, _New, Customer,
        col(_OldProduct.name), col(_OldSeason.name), col(_NewProduct.name), col(_NewSeason.name),
        _OldSeat, _NewSeat, col(_NewBooking.reference), col(_NewBooking.status),
    )  # fmt: skip


def _with_details(query: AnySelect) -> AnySelect:
    """The joins every line needs once ``_Old``, ``_New`` and ``Renewal`` are in the FROM."""
    return (
        query.join(Customer, col(Customer.id) == _Old.customer_id)
        .join(_OldProduct, col(_OldProduct.id) == _Old.product_id)
        .join(_OldSeason, col(_OldSeason.id) == _Old.season_id)
        .outerjoin(_NewProduct, col(_NewProduct.id) == _New.product_id)
        .outerjoin(_NewSeason, col(_NewSeason.id) == _New.season_id)
        .outerjoin(_OldSeat, col(_OldSeat.id) == _Old.seat_id)
        # the renewed pass's seat, or while invited the seat kept for the holder
        .outerjoin(_NewSeat, col(_NewSeat.id) == func.coalesce(_New.seat_id, Renewal.seat_id))
        .outerjoin(_NewBooking, col(_NewBooking.id) == _New.booking_id)
        .order_by(col(Customer.name), col(_Old.code), col(_Old.id))
    )


def _by_renewal() -> AnySelect:
    """Lines from campaign rows: the invited pass, and its renewal once made."""
    return _with_details(
        select(*_line_columns())
        .select_from(Renewal)
        .join(_Old, col(_Old.id) == Renewal.pass_id)
        .outerjoin(_New, col(_New.id) == Renewal.new_pass_id)
    )


def _by_pass() -> AnySelect:
    """Lines from renewed passes (each pass knows the pass it renews), with their campaign row
    when there is one."""
    return _with_details(
        select(*_line_columns())
        .select_from(_New)
        .join(_Old, col(_Old.id) == _New.renewed_from_id)
        .outerjoin(Renewal, col(Renewal.new_pass_id) == _New.id)
    )


def _line(row: Any) -> RenewalLine:
    renewal, old, new, customer, from_product, from_season, new_product, new_season = row[:8]
    old_seat, new_seat, reference, status = row[8:]
    answers = pass_holders.answers_from_json(old.holder)
    state = "renewed" if new is not None else (renewal.state if renewal else "invited")
    return RenewalLine(
        renewal_id=renewal.id if renewal is not None else None,
        state=state,
        customer_id=customer.id or 0,
        holder_name=pass_holders.holder_name(answers, customer.name),
        customer_email=customer.email,
        pass_id=old.id or 0,
        pass_code=old.code,
        from_product=from_product,
        from_season=from_season,
        old_seat=seat_place(old_seat) if old_seat is not None else None,
        new_pass_id=new.id if new is not None else None,
        new_product=new_product or "",
        new_season=new_season or "",
        new_seat=seat_place(new_seat) if new_seat is not None else None,
        new_reference=reference,
        new_status=status,
    )


async def _lines(ctx: Context, query: AnySelect) -> list[RenewalLine]:
    async def work(session: AsyncSession) -> list[RenewalLine]:
        return [_line(r) for r in (await session.execute(query)).all()]

    return await ctx.db.read(work)


async def campaign_lines(
    ctx: Context, *, campaign_id: int, states: Sequence[str] = LINE_STATES
) -> list[RenewalLine]:
    """The campaign's holders in these states (renewed; invited = not yet; released)."""
    query = _by_renewal().where(
        col(Renewal.campaign_id) == campaign_id, col(Renewal.state).in_(list(states))
    )
    return await _lines(ctx, query)


async def renewed_into(ctx: Context, *, season_id: int) -> list[RenewalLine]:
    """The season's passes that renew a pass of an earlier season."""
    return await _lines(ctx, _by_pass().where(col(_New.season_id) == season_id))


async def renewed_from(ctx: Context, *, season_id: int) -> list[RenewalLine]:
    """The season's passes that were renewed into a later season."""
    return await _lines(ctx, _by_pass().where(col(_Old.season_id) == season_id))


async def not_yet_renewed(ctx: Context, *, season_id: int) -> list[RenewalLine]:
    """The season's passes invited by a campaign and not renewed (still invited, or released
    when the window ended)."""
    query = _by_renewal().where(
        col(_Old.season_id) == season_id,
        col(Renewal.state) != "renewed",
        ~exists().where(col(Pass.renewed_from_id) == _Old.id),
    )
    return await _lines(ctx, query)


# -- the holders list -------------------------------------------------------------------------


def _holders_query(chosen: HolderFilter) -> AnySelect:
    query = (
        select(Pass, Customer, col(Booking.status), col(Booking.reference), col(PassProduct.name),
               col(PassProduct.currency), col(Season.name), Seat, col(Area.name))
        .join(Customer, col(Customer.id) == Pass.customer_id)
        .join(Booking, col(Booking.id) == Pass.booking_id)
        .join(PassProduct, col(PassProduct.id) == Pass.product_id)
        .join(Season, col(Season.id) == Pass.season_id)
        .join(Area, col(Area.id) == PassProduct.area_id)
        .outerjoin(Seat, col(Seat.id) == Pass.seat_id)
        .order_by(col(Season.starts_on).desc(), col(PassProduct.name), col(Customer.name),
                  col(Pass.id))
    )  # fmt: skip
    if chosen.season_id is not None:
        query = query.where(col(Pass.season_id) == chosen.season_id)
    if chosen.product_id is not None:
        query = query.where(col(Pass.product_id) == chosen.product_id)
    text = chosen.text.strip()
    if text:
        pattern = contains(text)
        query = query.where(
            or_(
                contains_ci(col(Customer.name), pattern),
                contains_ci(col(Customer.email), pattern),
                contains_ci(col(Pass.code), pattern),
                contains_ci(col(Pass.holder), pattern),  # the holder's answers, names included
            )
        )
    return query


def _holder(row: Any) -> HolderRow:
    found, customer, status, reference, product_name, currency, season_name, seat, area = row
    answers = pass_holders.answers_from_json(found.holder)
    return HolderRow(
        pass_id=found.id or 0,
        code=found.code,
        holder_name=pass_holders.holder_name(answers, customer.name),
        customer_id=customer.id or 0,
        customer_email=customer.email,
        product_id=found.product_id,
        product_name=product_name,
        season_id=found.season_id,
        season_name=season_name,
        status=status,
        reference=reference,
        seat=seat_place(seat) if seat is not None else None,
        area_name=area,
        credit_minor=found.credit_minor,
        currency=currency,
        choices_left=found.choices_left,
        renewed_from_id=found.renewed_from_id,
    )


async def holders(
    ctx: Context, *, chosen: HolderFilter, page: int = 1, per_page: int = 50
) -> Page[HolderRow]:
    page, per_page, offset = bounds(page, per_page)

    async def work(session: AsyncSession) -> Page[HolderRow]:
        query = _holders_query(chosen).limit(per_page + 1).offset(offset)
        rows = [_holder(r) for r in (await session.execute(query)).all()]
        return paged(rows, page, per_page)

    return await ctx.db.read(work)


async def all_holders(ctx: Context, *, chosen: HolderFilter) -> list[HolderRow]:
    """Every pass the filter finds, for the CSV export."""

    async def work(session: AsyncSession) -> list[HolderRow]:
        return [_holder(r) for r in (await session.execute(_holders_query(chosen))).all()]

    return await ctx.db.read(work)


# -- one pass ---------------------------------------------------------------------------------


async def lineage(ctx: Context, *, pass_id: int) -> PassLineage:
    async def work(session: AsyncSession) -> PassLineage:
        found = await session.get(Pass, pass_id)
        if found is None:
            raise BookingError("unknown_item")
        product = await session.get(PassProduct, found.product_id)
        into = (
            await session.execute(select(Pass).where(col(Pass.renewed_from_id) == pass_id))
        ).scalar_one_or_none()
        before = await session.get(Pass, found.renewed_from_id) if found.renewed_from_id else None
        return PassLineage(
            credit_minor=found.credit_minor,
            currency=product.currency if product is not None else "CHF",
            choices_left=found.choices_left,
            renewed_from=await _link(session, before),
            renewed_into=await _link(session, into),
        )

    return await ctx.db.read(work)


async def _link(session: AsyncSession, found: Pass | None) -> PassLink | None:
    if found is None:
        return None
    refs = await _products(session, [found.product_id])
    ref = refs[found.product_id]
    return PassLink(found.id or 0, found.code, ref.name, ref.season_name)
