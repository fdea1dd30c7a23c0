"""A pass's credit ledger as the console reads it (read only): every movement, newest first,
with the booking it paid or came back from. Issue 13's payout ledger lists the "added" rows
of every pass the same way (``movements`` with ``kinds=("added",)``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.tables.bookings import Booking
from booking.tables.pass_credit import PassCredit

LIMIT = 200  # a pass moves its credit a few times a season; the page shows the latest


@dataclass(frozen=True, slots=True)
class LedgerLine:
    at: datetime
    kind: str  # added | spent | given_back
    source: str  # resale | staff | booking
    amount_minor: int  # signed
    currency: str
    balance_minor: int  # after this movement
    reference: str | None  # the booking paid or given back, if any
    note: str
    actor_kind: str
    actor_name: str
    channel: str


async def movements(
    ctx: Context,
    *,
    pass_id: int | None = None,
    kinds: Sequence[str] = (),
    limit: int = LIMIT,
) -> list[LedgerLine]:
    """The movements of one pass (or of every pass), of ``kinds`` (all when empty), newest
    first."""

    async def work(session: AsyncSession) -> list[LedgerLine]:
        query = select(PassCredit, col(Booking.reference)).outerjoin(
            Booking, col(Booking.id) == PassCredit.booking_id
        )
        if pass_id is not None:
            query = query.where(col(PassCredit.pass_id) == pass_id)
        if kinds:
            query = query.where(col(PassCredit.kind).in_(list(kinds)))
        query = query.order_by(col(PassCredit.at).desc(), col(PassCredit.id).desc()).limit(limit)
        return [_line(row, reference) for row, reference in (await session.execute(query)).all()]

    return await ctx.db.read(work)


def _line(row: PassCredit, reference: str | None) -> LedgerLine:
    return LedgerLine(
        at=row.at,
        kind=row.kind,
        source=row.source,
        amount_minor=row.amount_minor,
        currency=row.currency,
        balance_minor=row.balance_minor,
        reference=reference,
        note=row.note,
        actor_kind=row.actor_kind,
        actor_name=row.actor_name,
        channel=row.channel,
    )
