"""A pass's credit inside one transaction: move the balance, write the ledger row, read what a
booking has used, give it back. ``booking.services.pass_credit`` is the service customers and
staff call; this module is what the payment, cancellation and expiry paths share with it (they
must not import that service: it confirms bookings through ``payments``).

The balance (``seasonpass.credit_minor``, CHECK >= 0) moves only by a conditional UPDATE in the
same transaction as its ``PassCredit`` row: two bookings spending the same credit at once, one
of them finds too little and nothing is taken (docs/passes.md, "Credit").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history
from booking.actors import Actor
from booking.errors import BookingError
from booking.tables.bookings import Payment
from booking.tables.pass_credit import PassCredit
from booking.tables.passes import Pass

BOOKING_KINDS = ("spent", "given_back")
CREDIT_PROVIDER = "pass_credit"  # the Payment of a booking paid in full by pass credit


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger row as callers see it."""

    id: int
    pass_id: int
    booking_id: int | None
    kind: str  # added | spent | given_back
    source: str
    amount_minor: int  # signed
    currency: str
    balance_minor: int  # after this movement
    note: str
    actor_kind: str
    actor_name: str
    channel: str
    at: datetime

    @classmethod
    def of(cls, row: PassCredit) -> Movement:
        return cls(
            id=row.id or 0,
            pass_id=row.pass_id,
            booking_id=row.booking_id,
            kind=row.kind,
            source=row.source,
            amount_minor=row.amount_minor,
            currency=row.currency,
            balance_minor=row.balance_minor,
            note=row.note,
            actor_kind=row.actor_kind,
            actor_name=row.actor_name,
            channel=row.channel,
            at=row.at,
        )


async def move(
    session: AsyncSession,
    *,
    found: Pass,
    amount_minor: int,
    kind: str,
    currency: str,
    actor: Actor,
    now: datetime,
    booking_id: int | None = None,
    source: str = "booking",
    key: str | None = None,
    note: str = "",
) -> PassCredit:
    """Move the pass's balance by ``amount_minor`` (negative: spend) and write its row.

    The UPDATE takes the amount only while the balance covers it, so whatever another
    transaction spent since the caller read the pass, the balance never goes below zero and a
    short one raises ``credit_short`` with nothing changed. The caller flushes (a duplicate
    ``key`` speaks there).
    """
    assert found.id is not None
    result = await session.execute(
        update(Pass)
        .where(col(Pass.id) == found.id, col(Pass.credit_minor) + amount_minor >= 0)
        .values(credit_minor=col(Pass.credit_minor) + amount_minor)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise BookingError("credit_short", pass_code=found.code)
    balance = (
        await session.execute(select(col(Pass.credit_minor)).where(col(Pass.id) == found.id))
    ).scalar_one()
    row = PassCredit(
        pass_id=found.id,
        booking_id=booking_id,
        kind=kind,
        source=source,
        amount_minor=amount_minor,
        currency=currency,
        balance_minor=int(balance),
        key=key,
        note=note,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        channel=actor.channel,
        at=now,
    )
    session.add(row)
    return row


async def applied(session: AsyncSession, booking_id: int) -> int:
    """The credit ``booking_id`` uses now: spent on it and not given back (0 when none)."""
    total = await session.execute(
        select(func.coalesce(func.sum(col(PassCredit.amount_minor)), 0)).where(
            col(PassCredit.booking_id) == booking_id, col(PassCredit.kind).in_(BOOKING_KINDS)
        )
    )
    return -int(total.scalar_one())


async def give_back(
    session: AsyncSession, booking_ids: Sequence[int | None], *, actor: Actor, now: datetime
) -> int:
    """The bookings stopped holding their places (cancelled, expired, released): the credit
    each still uses goes back to the pass it came from, with a history row. Called in the
    transaction of the compare-and-set that moved them, so it runs once per move; the unique
    key ``given_back:<booking>`` makes a second call a no-op all the same. One query finds
    them, whatever their number. Returns how many bookings gave credit back."""
    ids = [i for i in booking_ids if i is not None]
    if not ids:
        return 0
    owed = await session.execute(
        select(
            col(PassCredit.booking_id),
            col(PassCredit.pass_id),
            col(PassCredit.currency),
            func.sum(col(PassCredit.amount_minor)),
        )
        .where(col(PassCredit.booking_id).in_(ids), col(PassCredit.kind).in_(BOOKING_KINDS))
        .group_by(col(PassCredit.booking_id), col(PassCredit.pass_id), col(PassCredit.currency))
        .having(func.sum(col(PassCredit.amount_minor)) < 0)
    )
    given = 0
    for booking_id, pass_id, currency, net in owed.all():
        found = await session.get(Pass, pass_id)
        assert found is not None and booking_id is not None
        await move(
            session,
            found=found,
            amount_minor=-int(net),
            kind="given_back",
            currency=currency,
            actor=actor,
            now=now,
            booking_id=booking_id,
            key=f"given_back:{booking_id}",
        )
        history.record(
            session,
            booking_id=booking_id,
            actor=actor,
            at=now,
            action="pass_credit_given_back",
            amount=-int(net),
            pass_code=found.code,
        )
        given += 1
    return given


async def paid_in_money(session: AsyncSession, booking_id: int) -> bool:
    """Whether money paid for the booking (a payment by any provider but pass credit): a paid
    booking cancelled is due a refund only then, its credit having gone back to the pass."""
    found = await session.execute(
        select(col(Payment.id))
        .where(
            col(Payment.booking_id) == booking_id,
            col(Payment.provider) != CREDIT_PROVIDER,
            col(Payment.outcome).in_(("confirmed", "reinstated")),
        )
        .limit(1)
    )
    return found.first() is not None
