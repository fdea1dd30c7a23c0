"""Paying online from a link (SPEC §4): signed pay links and the provider checkout sessions.

A pay link is a reference, never an authority (house rule 11): it names a booking, and every
step re-checks that the booking can still be paid. Confirming goes through
``payments.record_payment``, unique on (provider, session id), so the same payment reported
twice (a replayed webhook, a double click on the test page) confirms once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import outbox, tokens
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services import bookings, payments
from booking.services.common import booking_for
from booking.settings_store import secret_key
from booking.tables.bookings import Booking
from booking.tables.channels import CheckoutSession
from booking.tables.customers import Customer
from booking.views import BookingView, load_booking

PURPOSE = "pay-link"
# A pay link outlives the deadline (an overdue hold under a flexible policy can still be
# paid) but never the performance, and never more than this.
MAX_LINK_AGE = timedelta(days=60)
PAY_ACTOR = Actor.system("pay page")


@dataclass(frozen=True, slots=True)
class CheckoutView:
    provider: str
    session_id: str
    reference: str
    amount_minor: int
    currency: str
    status: str  # open | paid


async def pay_link_token(ctx: Context, *, booking: BookingView) -> str:
    """The token of ``/pay/<token>`` for this booking; expires at the performance start."""
    now = ctx.clock.now()
    expires = min(booking.starts_at, now + MAX_LINK_AGE)
    if expires <= now:  # the performance has started: a link that is already expired
        expires = now
    return tokens.sign(await secret_key(ctx), PURPOSE, booking.reference, expires)


async def booking_for_pay_token(ctx: Context, *, token: str) -> BookingView:
    """The booking a pay link names. Raises ``link_invalid`` for a forged or expired link."""
    reference = tokens.verify(await secret_key(ctx), PURPOSE, token, now=ctx.clock.now())
    if reference is None:
        raise BookingError("link_invalid")

    async def work(session: AsyncSession) -> BookingView:
        return await load_booking(session, await booking_for(session, reference, PAY_ACTOR))

    return await ctx.db.read(work)


async def payable(ctx: Context, *, reference: str) -> BookingView:
    """The booking, if it can be paid now for what is due (raises already_paid, not_held,
    deadline_passed otherwise)."""
    booking = await bookings.get_booking(ctx, actor=PAY_ACTOR, reference=reference)
    return await payments.check_payable(
        ctx,
        actor=PAY_ACTOR,
        reference=reference,
        amount_minor=await amount_due(ctx, reference=reference),
        currency=booking.currency,
    )


async def amount_due(ctx: Context, *, reference: str) -> int:
    """What the pay page charges: the total less the pass credit the booking uses."""

    async def work(session: AsyncSession) -> int:
        return await payments.amount_due(session, await booking_for(session, reference, PAY_ACTOR))

    return await ctx.db.read(work)


async def open_checkout(
    ctx: Context, *, reference: str, provider: str, session_id: str
) -> CheckoutView:
    """Remember a checkout the provider opened, to match its payment report back later."""
    booking = await payable(ctx, reference=reference)

    async def work(session: AsyncSession) -> CheckoutView:
        due = await payments.amount_due(session, await booking_for(session, reference, PAY_ACTOR))
        # The provider may hand back the same session for the same request (idempotency).
        existing = (
            await session.execute(
                select(CheckoutSession).where(
                    col(CheckoutSession.provider) == provider,
                    col(CheckoutSession.session_id) == session_id,
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            return _view(existing, booking.reference)
        row = CheckoutSession(
            booking_id=booking.id,
            provider=provider,
            session_id=session_id,
            amount_minor=due,  # the total less pass credit used
            currency=booking.currency,
            created_at=ctx.clock.now(),
        )
        session.add(row)
        return _view(row, booking.reference)

    return await ctx.db.write(work)


async def find_checkout(ctx: Context, *, provider: str, session_id: str) -> CheckoutView | None:
    async def work(session: AsyncSession) -> CheckoutView | None:
        found = (
            await session.execute(
                select(CheckoutSession, col(Booking.reference))
                .join(Booking, col(Booking.id) == CheckoutSession.booking_id)
                .where(
                    col(CheckoutSession.provider) == provider,
                    col(CheckoutSession.session_id) == session_id,
                )
            )
        ).first()
        return _view(found[0], found[1]) if found else None

    return await ctx.db.read(work)


async def complete_checkout(
    ctx: Context,
    *,
    provider: str,
    session_id: str,
    amount_minor: int,
    currency: str,
    actor: Actor = PAY_ACTOR,
) -> payments.PaymentResult:
    """The provider says this checkout was paid: confirm the booking (tickets go out through
    the outbox). An unknown session is refused; the same report twice answers ``duplicate``."""
    checkout = await find_checkout(ctx, provider=provider, session_id=session_id)
    if checkout is None:
        raise BookingError("link_invalid")
    result = await payments.record_payment(
        ctx,
        actor=actor,
        reference=checkout.reference,
        provider=provider,
        provider_event_id=session_id,
        amount_minor=amount_minor,
        currency=currency,
    )

    async def mark_paid(session: AsyncSession) -> None:
        await session.execute(
            update(CheckoutSession)
            .where(
                col(CheckoutSession.provider) == provider,
                col(CheckoutSession.session_id) == session_id,
            )
            .values(status="paid")
        )

    await ctx.db.write(mark_paid)
    if result.outcome in ("confirmed", "reinstated"):
        await _tickets_by_email_too(ctx, result.booking, f"paid:{provider}:{session_id}")
    return result


async def _tickets_by_email_too(ctx: Context, booking: BookingView, key: str) -> None:
    """Paid from the pay link (an email): the tickets go by email as well as to Telegram when
    linked. Same dedupe key as the payment's own notice, so the email is queued once."""

    async def work(session: AsyncSession) -> None:
        customer = await session.get(Customer, booking.customer_id)
        if customer is None or not customer.email or customer.email_undeliverable:
            return
        await outbox.enqueue(
            session,
            kind="payment_confirmed",
            customer=customer,
            now=ctx.clock.now(),
            booking_id=booking.id,
            key=key,
            channels=["email"],
        )

    await ctx.db.write(work)


def _view(row: CheckoutSession, reference: str) -> CheckoutView:
    return CheckoutView(
        provider=row.provider,
        session_id=row.session_id,
        reference=reference,
        amount_minor=row.amount_minor,
        currency=row.currency,
        status=row.status,
    )
