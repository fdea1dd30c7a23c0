"""Recording payments: idempotent per provider event, never dropped (SPEC §4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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
from booking.services import places, tickets
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
    """An organizer took the money at the desk: cash, card or bank transfer, the full total."""
    if actor.kind != "staff":
        raise BookingError("not_owner")
    if method not in BOX_OFFICE_METHODS:
        raise BookingError("bad_value", field="method")

    async def total(session: AsyncSession) -> tuple[int, str]:
        booking = await booking_for(session, reference, actor)
        return booking.total_minor, booking.currency

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
    if (payment.amount_minor, payment.currency) != (booking.total_minor, booking.currency):
        outcome = "refund_due"
    elif await _move(session, booking, states.OPEN):
        outcome = "confirmed"
    elif booking.status in states.CLOSED and await places.retake_items(
        session, items, pass_id=await _pass_of(session, booking.id)
    ):
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
    past its deadline, and the amount is the booking total. Raises BookingError otherwise."""

    async def work(session: AsyncSession) -> BookingView:
        booking = await booking_for(session, reference, actor)
        if booking.status == states.CONFIRMED:
            raise BookingError("already_paid", reference=booking.reference)
        if booking.status not in states.OPEN:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        if (
            booking.status == states.HELD
            and booking.deadline
            and booking.deadline <= ctx.clock.now()
        ):
            raise BookingError("deadline_passed")
        if (amount_minor, currency.upper()) != (booking.total_minor, booking.currency):
            raise BookingError("amount_mismatch")
        return await load_booking(session, booking)

    return await ctx.db.read(work)


async def _pass_of(session: AsyncSession, booking_id: int) -> int | None:
    """The season pass this booking bought, if it is a pass purchase."""
    found = await session.execute(select(col(Pass.id)).where(col(Pass.booking_id) == booking_id))
    return found.scalar_one_or_none()
