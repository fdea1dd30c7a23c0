"""Cancelling with a reason (SPEC §5)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from booking import outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.cancelling import customer_may_cancel
from booking.rules.limits import REASON_MAX, capped
from booking.services import credit_ledger, renewal_lapses, tickets
from booking.services.common import booking_for, event_of
from booking.services.transitions import move
from booking.views import BookingView, load_booking


async def cancel(
    ctx: Context, *, actor: Actor, reference: str, reason: str, note: str = ""
) -> BookingView:
    """Holds can always be cancelled; paid tickets only where the event allows it (or staff)."""
    note = capped(note, REASON_MAX)  # refused with its length, never cut without a word
    if reason not in states.CANCEL_REASONS:
        raise BookingError("bad_reason")
    if reason == "other" and not note:
        raise BookingError("reason_required")

    async def work(session: AsyncSession) -> BookingView:
        booking = await booking_for(session, reference, actor)
        now = ctx.clock.now()
        if booking.status == states.CONFIRMED:
            event, _ = await event_of(session, booking)
            allowed = event.cancellation_allowed
            if actor.kind == "customer" and not customer_may_cancel(
                booking.status, cancellation_allowed=allowed
            ):
                raise BookingError("cancellation_not_allowed")
        elif booking.status not in states.OPEN:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        paid = booking.status == states.CONFIRMED
        moved = await move(
            session,
            booking,
            sources=[booking.status],
            target=states.CANCELLED,
            actor=actor,
            now=now,
            reason=reason,
            note=note,
        )
        if not moved:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        assert booking.id is not None
        # An unpaid renewal hold cancelled: the holder may renew again while the window is open.
        lapsed = None
        if not paid:
            lapsed = await renewal_lapses.lapse_one(session, booking.id, actor=actor, now=now)
        await outbox.tell_owner(
            session,
            kind="booking_cancelled",
            booking=booking,
            actor=actor,
            now=now,
            key=f"booking_cancelled:{booking.id}:{now.isoformat()}",
            payload={"reason": reason, "note": note} | (lapsed.payload() if lapsed else {}),
        )
        booking.cancel_reason, booking.cancel_note = reason, note
        if paid:
            booking.refund_due = await credit_ledger.paid_in_money(session, booking.id)
            await tickets.void(session, booking.id, now)
        return await load_booking(session, booking)

    return await ctx.db.write(work)
