"""What the holder page (``/account``) shows a signed-in holder: their passes as
``booking.queries.passes.customer_passes`` reads them, plus what only the holder page needs:
each date's check-in (when and at which door it admitted the pass), and whether the pass
admits at all (paid and not refunded: only then are its PDF and phone card offered)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.passes import IncludedDate, PassDetail, customer_passes
from booking.rules import states
from booking.tables.bookings import Booking
from booking.tables.checkin import CheckIn
from booking.tables.passes import Pass

ENTITLEMENT = "pass"  # CheckIn.entitlement_kind of a pass's admissions (services.checkin)


@dataclass(frozen=True, slots=True)
class HolderDate:
    date: IncludedDate
    admitted_at: datetime | None  # None: not checked in (yet)
    door: str


@dataclass(frozen=True, slots=True)
class HolderPass:
    detail: PassDetail
    dates: tuple[HolderDate, ...]
    status: str  # the booking's, or "refunded" for a paid pass whose money is to go back

    @property
    def admits(self) -> bool:
        """Paid and not refunded: the QR admits, so the PDF and the card are offered."""
        return self.status == states.CONFIRMED


async def holder_passes(ctx: Context, *, customer_id: int) -> list[HolderPass]:
    """Every pass of the customer, newest season first, each date with its check-in."""
    found = await customer_passes(ctx, customer_id=customer_id)
    if not found:
        return []
    ids = [p.id for p in found]

    async def work(session: AsyncSession) -> tuple[dict[tuple[int, int], CheckIn], set[int]]:
        return await _checkins(session, ids), await _refunded(session, ids)

    checkins, refunded = await ctx.db.read(work)
    return [_holder_pass(p, checkins, refunded) for p in found]


async def holder_pass(ctx: Context, *, customer_id: int, pass_id: int) -> HolderPass | None:
    """One pass of this customer; None when the pass is someone else's or does not exist
    (the page then answers as for a pass that does not exist)."""
    for found in await holder_passes(ctx, customer_id=customer_id):
        if found.detail.id == pass_id:
            return found
    return None


async def _checkins(
    session: AsyncSession, pass_ids: Sequence[int]
) -> dict[tuple[int, int], CheckIn]:
    rows = await session.execute(
        select(CheckIn).where(
            col(CheckIn.entitlement_kind) == ENTITLEMENT,
            col(CheckIn.entitlement_id).in_(list(pass_ids)),
        )
    )
    return {(c.entitlement_id, c.performance_id): c for c in rows.scalars()}


async def _refunded(session: AsyncSession, pass_ids: Sequence[int]) -> set[int]:
    rows = await session.execute(
        select(col(Pass.id))
        .join(Booking, col(Booking.id) == Pass.booking_id)
        .where(col(Pass.id).in_(list(pass_ids)), col(Booking.refund_due).is_(True))
    )
    return {int(i or 0) for i in rows.scalars()}


def _holder_pass(
    found: PassDetail, checkins: dict[tuple[int, int], CheckIn], refunded: set[int]
) -> HolderPass:
    dates = []
    for date in found.dates:
        checked = checkins.get((found.id, date.performance_id))
        dates.append(
            HolderDate(
                date=date,
                admitted_at=checked.admitted_at if checked is not None else None,
                door=checked.door if checked is not None else "",
            )
        )
    status = "refunded" if found.id in refunded else found.status
    return HolderPass(detail=found, dates=tuple(dates), status=status)
