"""Recording payments: idempotent per provider event, never dropped (SPEC §4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services import credit_ledger, places, renewal_lapses, tickets
from booking.services.common import booking_for
from booking.tables.bookings import Booking, Item, Payment
from booking.tables.passes import Pass
from booking.views import BookingView, load_booking

Outcome = Literal["confirmed", "reinstated", "refund_due", "duplicate"]
BOX_OFFICE_METHODS = ("cash", "card", "transfer")


@dataclass(frozen=True, slots=True)
class PaymentResult:
    outcome: Outcome
    booking: BookingView


async def record_payment(
    ctx: Context,
    *,
    actor: Actor,
    reference: str,
    provider: str,
    provider_event_id: str,
    amount_minor: int,
    currency: str,
    method: str = "online",
) -> PaymentResult:
    """Confirm the booking a provider says was paid. The same event twice confirms once.

    A payment for an expired or cancelled hold re-instates it when its places are still free,
    and otherwise is kept and flagged for refund: money is never dropped.
    """

    async def work(session: AsyncSession) -> PaymentResult:
        booking = await booking_for(session, reference, actor)
        assert booking.id is not None
        payment = Payment(
            booking_id=booking.id,
            provider=provider,
            provider_event_id=provider_event_id,
            method=method,
            amount_minor=amount_minor,
            currency=currency.upper(),
            outcome="confirmed",
            received_at=ctx.clock.now(),
        )
        session.add(payment)
        await session.flush()  # the unique (provider, event id) speaks here, before any change
        payment.outcome = await _apply(session, ctx, actor, booking, payment)
        return PaymentResult(payment.outcome, await load_booking(session, booking))

    try:
        return await ctx.db.write(work)
    except IntegrityError:
        duplicate = await ctx.db.read(lambda s: _duplicate(s, provider, provider_event_id))
        if duplicate is None:  # some other constraint: a bug to surface, not a duplicate
            raise
        return duplicate


async def record_box_office_payment(
    ctx: Context, *, actor: Actor, reference: str, method: str
) -> PaymentResult:
    """An organizer took the money at the desk: cash, card or bank transfer, the amount due
    (the total less any pass credit the booking uses)."""
    if actor.kind != "staff":
        raise BookingError("not_owner")
    if method not in BOX_OFFICE_METHODS:
        raise BookingError("bad_value", field="method")

    async def total(session: AsyncSession) -> tuple[int, str]:
        booking = await booking_for(session, reference, actor)
        return await amount_due(session, booking), booking.currency

    amount, currency = await ctx.db.read(total)
    return await record_payment(
        ctx,
        actor=actor,
        reference=reference,
        provider="box_office",
        provider_event_id=uuid.uuid4().hex,
        amount_minor=amount,
        currency=currency,
        method=method,
    )


async def _apply(
    session: AsyncSession, ctx: Context, actor: Actor, booking: Booking, payment: Payment
) -> Outcome:
    assert booking.id is not None
    now = ctx.clock.now()
    items = list(
        (await session.execute(select(Item).where(col(Item.booking_id) == booking.id))).scalars()
    )
    outcome: Outcome
    due = await amount_due(session, booking)
    if (payment.amount_minor, payment.currency) != (due, booking.currency):
        outcome = "refund_due"
    elif await _move(session, booking, states.OPEN):
        outcome = "confirmed"
    elif booking.status in states.CLOSED and await _retake(session, actor, booking.id, items, now):
        await _move(session, booking, states.CLOSED)
        outcome = "reinstated"
    else:
        outcome = "refund_due"
    booking.updated_at = now
    if outcome == "refund_due":
        booking.refund_due = True
    else:
        booking.status = states.CONFIRMED
        await tickets.issue(session, booking.id, items, now)
    history.record(
        session,
        booking_id=booking.id,
        actor=actor,
        at=now,
        action=f"payment_{outcome}",
        provider=payment.provider,
        method=payment.method,
        amount=payment.amount_minor,
    )
    await outbox.tell_owner(
        session,
        kind="payment_refund_due" if outcome == "refund_due" else "payment_confirmed",
        booking=booking,
        actor=actor,
        now=now,
        key=f"paid:{payment.provider}:{payment.provider_event_id}",
    )
    return outcome


async def _retake(
    session: AsyncSession, actor: Actor, booking_id: int, items: list[Item], now: datetime
) -> bool:
    """A late payment takes the closed booking's places again, all or none. A season pass's
    booking claims its seats for the pass; a renewal's booking that lapsed is re-instated only
    while its renewal is still reopened and not renewed again (``renewal_lapses.reinstate``),
    else it is refunded: never two passes for one renewal."""
    pass_id = await _pass_of(session, booking_id)
    if pass_id is not None:
        reinstated = await renewal_lapses.reinstate(
            session, booking_id=booking_id, pass_id=pass_id, items=items, actor=actor, now=now
        )
        if reinstated is not None:
            return reinstated
    return await places.retake_items(session, items, pass_id=pass_id)


async def _move(session: AsyncSession, booking: Booking, sources: frozenset[str]) -> bool:
    """Compare-and-set to confirmed: exactly one of a payment and the expiry job wins."""
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(sources))  # type: ignore[arg-type, attr-defined]
        .values(status=states.CONFIRMED)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) == 1:
        return True
    await session.refresh(booking, ["status"])
    return False


async def _duplicate(session: AsyncSession, provider: str, event_id: str) -> PaymentResult | None:
    payment = (
        await session.execute(
            select(Payment).where(
                col(Payment.provider) == provider, col(Payment.provider_event_id) == event_id
            )
        )
    ).scalar_one_or_none()
    if payment is None:
        return None
    booking = await session.get(Booking, payment.booking_id)
    assert booking is not None
    return PaymentResult("duplicate", await load_booking(session, booking))


async def check_payable(
    ctx: Context, *, actor: Actor, reference: str, amount_minor: int, currency: str
) -> BookingView:
    """Before taking money (Telegram's pre-checkout, the pay page): the hold is still open, not
    past its deadline, and the amount is the amount due: the total less any pass credit the
    booking uses (``amount_due``). Raises BookingError otherwise."""

    async def work(session: AsyncSession) -> BookingView:
        booking = await booking_for(session, reference, actor)
        check_open(booking, ctx.clock.now())
        due = await amount_due(session, booking)
        if (amount_minor, currency.upper()) != (due, booking.currency):
            raise BookingError("amount_mismatch")
        return await load_booking(session, booking)

    return await ctx.db.read(work)


async def _pass_of(session: AsyncSession, booking_id: int) -> int | None:
    """The season pass this booking bought, if it is a pass purchase."""
    found = await session.execute(select(col(Pass.id)).where(col(Pass.booking_id) == booking_id))
    return found.scalar_one_or_none()


# -- the amount due and paying with a pass's credit (issue 12 item 7, booking.services.pass_credit)

CREDIT_PROVIDER = credit_ledger.CREDIT_PROVIDER


def check_open(booking: Booking, now: datetime) -> None:
    """The booking can take a payment now: held or overdue, and a held one not past its
    deadline (raises already_paid, not_held or deadline_passed)."""
    if booking.status == states.CONFIRMED:
        raise BookingError("already_paid", reference=booking.reference)
    if booking.status not in states.OPEN:
        raise BookingError("not_held", reference=booking.reference, status=booking.status)
    if booking.status == states.HELD and booking.deadline and booking.deadline <= now:
        raise BookingError("deadline_passed")


async def amount_due(session: AsyncSession, booking: Booking) -> int:
    """What is left to pay: the total less the pass credit the booking uses now. What the
    Telegram invoice, the pay page and the box office ask for, and what a payment must match."""
    assert booking.id is not None
    return booking.total_minor - await credit_ledger.applied(session, booking.id)


async def confirm_by_credit(
    session: AsyncSession, ctx: Context, *, actor: Actor, booking: Booking, amount_minor: int
) -> PaymentResult:
    """Pass credit covers what is due: the booking is paid as by any provider, a ``Payment``
    of provider "pass_credit", method "credit" (so tickets, notices and the outbox behave as
    for any payment). In the caller's transaction, before the credit's own ledger row (the
    amount matches what is due until then). A booking no longer open refuses, and the caller's
    transaction rolls back: credit never pays for places that could not be confirmed."""
    assert booking.id is not None
    payment = Payment(
        booking_id=booking.id,
        provider=CREDIT_PROVIDER,
        provider_event_id=f"booking:{booking.id}",  # a booking uses credit once (spent:<id>)
        method="credit",
        amount_minor=amount_minor,
        currency=booking.currency,
        outcome="confirmed",
        received_at=ctx.clock.now(),
    )
    session.add(payment)
    await session.flush()
    payment.outcome = await _apply(session, ctx, actor, booking, payment)
    if payment.outcome == "refund_due":
        raise BookingError("not_held", reference=booking.reference, status=booking.status)
    return PaymentResult(payment.outcome, await load_booking(session, booking))
