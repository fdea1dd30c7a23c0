"""A holder's renewal invitations as the bot, the mail adapter and the renewal page read them
(read only): the campaign, its window, the offered products with the seat kept for the holder,
and the new pass once renewed. ``services.renewals`` makes and changes them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from booking.context import Context
from booking.rules import pass_holders
from booking.tables.bookings import Booking, HistoryEntry
from booking.tables.catalog import Event, Seat
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassProduct, PassProductEvent
from booking.tables.renewals import Renewal, RenewalCampaign, RenewalOffer
from booking.views import SeatPlace, seat_place

# History actions of a renewal booking that closed unpaid (services.renewal_lapses): the renewal
# reopened (window open) or counted as not renewed (window over); re-instated by a late payment.
REOPENED = "renewal_reopened"
LAPSED = "renewal_lapsed"
REINSTATED = "renewal_reinstated"


@dataclass(frozen=True, slots=True)
class RenewalOption:
    product_id: int
    name: str
    price_minor: int
    currency: str
    seat: SeatPlace | None  # the seat kept for the holder in this product, else None
    same_seat: bool  # True when the renewal keeps the holder's seat
    seating: str  # "fixed_seat" | "ga"


@dataclass(frozen=True, slots=True)
class RenewalChoice:
    renewal_id: int
    campaign_id: int
    campaign_name: str
    state: str  # "invited" | "renewed" | "released"
    open_now: bool  # invited and the window open at `now`
    opens_at: datetime | None
    closes_at: datetime | None
    timezone: str  # for formatting closes_at (the from-product's events')
    pass_code: str
    from_product_name: str
    holder_name: str
    customer_id: int
    language: str
    options: tuple[RenewalOption, ...]
    new_pass_id: int | None
    new_reference: str | None  # the renewal booking's reference, once renewed


def window_refusal(campaign: RenewalCampaign, now: datetime) -> str | None:
    """Why a renewal is refused at ``now`` by the campaign's window (an error code), or None."""
    return refusal_at(campaign.state, campaign.opens_at, campaign.closes_at, now)


def refusal_at(
    state: str, opens_at: datetime | None, closes_at: datetime | None, now: datetime
) -> str | None:
    """The window's refusal from the campaign's columns: closed, or ``closes_at`` passed even
    before the close job ran; not launched yet, or before ``opens_at``."""
    if state == "closed" or (closes_at is not None and now >= closes_at):
        return "renewal_window_closed"
    if state == "draft" or (opens_at is not None and now < opens_at):
        return "renewal_not_open"
    return None


async def open_renewals(ctx: Context, *, customer_id: int) -> list[RenewalChoice]:
    """The customer's renewals, invited or renewed, in campaigns still open, newest first."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[RenewalChoice]:
        found = await session.execute(
            select(col(Renewal.id))
            .join(Pass, col(Pass.id) == Renewal.pass_id)
            .join(RenewalCampaign, col(RenewalCampaign.id) == Renewal.campaign_id)
            .where(
                col(Pass.customer_id) == customer_id,
                col(Renewal.state).in_(("invited", "renewed")),
                col(RenewalCampaign.state) == "open",
            )
            .order_by(col(RenewalCampaign.id).desc(), col(Renewal.id).desc())
        )
        return await _choices(session, [int(i or 0) for i in found.scalars()], now)

    return await ctx.db.read(work)


async def renewal_choice(ctx: Context, *, renewal_id: int) -> RenewalChoice | None:
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> RenewalChoice | None:
        found = await _choices(session, [renewal_id], now)
        return found[0] if found else None

    return await ctx.db.read(work)


async def renewal_of_booking(ctx: Context, *, booking_id: int) -> RenewalChoice | None:
    """The renewal of the pass this booking bought (the OLD pass: a notice's reply token names
    its booking), in its newest campaign; else, for a renewal's own booking that closed unpaid
    (its expiry or cancel notice says the pass can still be renewed), that renewal; None when
    neither."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> RenewalChoice | None:
        found = await session.execute(
            select(col(Renewal.id))
            .join(Pass, col(Pass.id) == Renewal.pass_id)
            .where(col(Pass.booking_id) == booking_id)
            .order_by(col(Renewal.campaign_id).desc())
            .limit(1)
        )
        renewal_id = found.scalar_one_or_none() or await lapsed_renewal_id(session, booking_id)
        if renewal_id is None:
            return None
        choices = await _choices(session, [int(renewal_id)], now)
        return choices[0] if choices else None

    return await ctx.db.read(work)


async def lapsed_renewal_id(session: AsyncSession, booking_id: int) -> int | None:
    """The renewal this booking was made for, when it closed unpaid: the lapse wrote it in the
    booking's history (``REOPENED`` / ``LAPSED``), the lapsed pass having given up its tie to
    the renewal so that the holder can renew again. None for any other booking."""
    found = await session.execute(
        select(col(HistoryEntry.detail))
        .where(
            col(HistoryEntry.booking_id) == booking_id,
            col(HistoryEntry.action).in_((REOPENED, LAPSED)),
        )
        .order_by(col(HistoryEntry.id).desc())
        .limit(1)
    )
    detail = found.scalar_one_or_none()
    if detail is None:
        return None
    renewal_id = json.loads(detail).get("renewal_id")
    return renewal_id if isinstance(renewal_id, int) else None


_NewPass = aliased(Pass)
_NewBooking = aliased(Booking)


async def _choices(
    session: AsyncSession, renewal_ids: Sequence[int], now: datetime
) -> list[RenewalChoice]:
    """The renewals, in the order given."""
    if not renewal_ids:
        return []
    found = await session.execute(
        select(Renewal, RenewalCampaign, Pass, PassProduct, Customer, _NewPass, _NewBooking)
        .join(RenewalCampaign, col(RenewalCampaign.id) == Renewal.campaign_id)
        .join(Pass, col(Pass.id) == Renewal.pass_id)
        .join(PassProduct, col(PassProduct.id) == Pass.product_id)
        .join(Customer, col(Customer.id) == Pass.customer_id)
        .outerjoin(_NewPass, col(_NewPass.id) == Renewal.new_pass_id)
        .outerjoin(_NewBooking, col(_NewBooking.id) == _NewPass.booking_id)
        .where(col(Renewal.id).in_(list(renewal_ids)))
    )
    rows = {row[0].id: row for row in found.all()}
    choices = []
    for renewal_id in renewal_ids:
        if renewal_id not in rows:
            continue
        renewal, campaign, old, product, customer, new, new_booking = rows[renewal_id]
        answers = pass_holders.answers_from_json(old.holder)
        choices.append(
            RenewalChoice(
                renewal_id=renewal_id,
                campaign_id=campaign.id or 0,
                campaign_name=campaign.name,
                state=renewal.state,
                open_now=renewal.state == "invited" and window_refusal(campaign, now) is None,
                opens_at=campaign.opens_at,
                closes_at=campaign.closes_at,
                timezone=await _timezone(session, product.id or 0),
                pass_code=old.code,
                from_product_name=product.name,
                holder_name=pass_holders.holder_name(answers, customer.name),
                customer_id=customer.id or 0,
                language=customer.language,
                options=tuple(await _options(session, renewal)),
                new_pass_id=new.id if new is not None else None,
                new_reference=new_booking.reference if new_booking is not None else None,
            )
        )
    return choices


async def _timezone(session: AsyncSession, product_id: int) -> str:
    """The timezone of the from-product's events (a product's events share a venue)."""
    found = await session.execute(
        select(col(Event.timezone))
        .join(PassProductEvent, col(PassProductEvent.event_id) == Event.id)
        .where(col(PassProductEvent.product_id) == product_id)
        .order_by(col(Event.id))
        .limit(1)
    )
    return found.scalar_one_or_none() or "UTC"


async def _options(session: AsyncSession, renewal: Renewal) -> list[RenewalOption]:
    """The campaign's products in its order, each with the seat kept in it (one product at
    most keeps the holder's seat)."""
    found = await session.execute(
        select(PassProduct)
        .join(RenewalOffer, col(RenewalOffer.product_id) == PassProduct.id)
        .where(col(RenewalOffer.campaign_id) == renewal.campaign_id)
        .order_by(col(RenewalOffer.id))
    )
    kept = await session.get(Seat, renewal.seat_id) if renewal.seat_id is not None else None
    options = []
    for product in found.scalars():
        here = kept is not None and renewal.product_id == product.id
        options.append(
            RenewalOption(
                product_id=product.id or 0,
                name=product.name,
                price_minor=product.price_minor,
                currency=product.currency,
                seat=seat_place(kept) if here and kept is not None else None,
                same_seat=here,
                seating=product.seating,
            )
        )
    return options
