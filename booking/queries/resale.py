"""Resale listings as their channels read them (read only): a pass holder's open listings, and
the frozen ``ListingView`` that ``booking.services.resale`` returns too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.tables.catalog import Event, Performance
from booking.tables.passes import Pass
from booking.tables.resale import OPEN_STATES, ResaleListing


@dataclass(frozen=True, slots=True)
class ListingView:
    """One listing. ``payout_minor`` is what the seller gets: price less fee, never below 0.
    The IBAN is shown by its last four characters only: a channel never needs more."""

    id: int
    pass_id: int
    pass_code: str
    performance_id: int
    starts_at: datetime
    event_title: str
    seat_id: int | None
    state: str
    payout: str
    iban_end: str
    account_holder: str
    price_minor: int
    fee_minor: int
    currency: str
    created_at: datetime
    ended_at: datetime | None

    @property
    def payout_minor(self) -> int:
        return max(self.price_minor - self.fee_minor, 0)


def listing_view(
    row: ResaleListing, code: str, performance: Performance, event: Event
) -> ListingView:
    return ListingView(
        id=row.id or 0, pass_id=row.pass_id, pass_code=code, performance_id=row.performance_id,
        starts_at=performance.starts_at, event_title=event.title, seat_id=row.seat_id,
        state=row.state, payout=row.payout, iban_end=row.iban[-4:],
        account_holder=row.account_holder,
        price_minor=row.price_minor, fee_minor=row.fee_minor, currency=event.currency,
        created_at=row.created_at, ended_at=row.ended_at,
    )  # fmt: skip


async def views_of(session: AsyncSession, listing_ids: Sequence[int]) -> list[ListingView]:
    """The listings ``listing_ids`` as views, by date."""
    query = (
        select(ResaleListing, col(Pass.code), Performance, Event)
        .join(Pass, col(Pass.id) == ResaleListing.pass_id)
        .join(Performance, col(Performance.id) == ResaleListing.performance_id)
        .join(Event, col(Event.id) == Performance.event_id)
        .where(col(ResaleListing.id).in_(list(listing_ids)))
        .order_by(col(Performance.starts_at), col(ResaleListing.id))
    )
    return [listing_view(*row) for row in (await session.execute(query)).all()]


async def open_listings(ctx: Context, *, actor: Actor, pass_id: int) -> list[ListingView]:
    """The pass's listings still open (listed or reserved), by date: for its holder (a
    stranger's pass answers as an unknown one) or staff."""

    async def work(session: AsyncSession) -> list[ListingView]:
        found = await session.get(Pass, pass_id)
        if found is None or (actor.kind != "staff" and actor.id != found.customer_id):
            raise BookingError("resale_unknown_pass")
        ids = (
            await session.execute(
                select(col(ResaleListing.id)).where(
                    col(ResaleListing.pass_id) == pass_id,
                    col(ResaleListing.state).in_(OPEN_STATES),
                )
            )
        ).scalars()
        return await views_of(session, [i for i in ids if i is not None])

    return await ctx.db.read(work)
