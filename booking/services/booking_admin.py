"""Console actions on one booking that the channels never need: re-sending its notices and
settling a refund. Each is one transaction with a history row naming the staff member."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services.common import booking_for
from booking.tables.bookings import Booking
from booking.tables.customers import Customer

RESEND = ("booking", "tickets")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


async def resend(ctx: Context, *, actor: Actor, reference: str, what: str, nonce: str) -> list[str]:
    """Queue the booking's email again (a hold's details, or a paid booking's tickets) on the
    customer's channels; returns those channels.

    ``nonce`` comes from the form that asked: a double click sends it twice and the outbox's
    unique key keeps one notice.
    """
    if what not in RESEND or not _NONCE.match(nonce):
        raise BookingError("bad_value", field="what")
    if actor.kind != "staff":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> list[str]:
        booking = await booking_for(session, reference, actor)
        assert booking.id is not None
        if what == "tickets" and booking.status != states.CONFIRMED:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        if what == "booking" and booking.status not in states.OPEN | {states.CONFIRMED}:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        kind = "payment_confirmed" if booking.status == states.CONFIRMED else "booking_held"
        customer = await session.get(Customer, booking.customer_id)
        assert customer is not None
        now = ctx.clock.now()
        rows = outbox.rows_for(
            kind=kind,
            customer=customer,
            now=now,
            booking_id=booking.id,
            key=f"resend:{booking.id}:{nonce}",
            payload={"resent": True},
        )
        if await outbox.enqueue_rows(session, rows):
            history.record(
                session,
                booking_id=booking.id,
                actor=actor,
                at=now,
                action="resent",
                what=what,
                channels=",".join(r["channel"] for r in rows),
            )
        return [r["channel"] for r in rows]

    return await ctx.db.write(work)


async def settle_refund(ctx: Context, *, actor: Actor, reference: str, note: str = "") -> None:
    """The organizer paid back a payment that could not be applied (SPEC §4): clear the flag."""
    if actor.kind != "staff":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> None:
        booking = await booking_for(session, reference, actor)
        now = ctx.clock.now()
        result = await session.execute(
            update(Booking)
            .where(col(Booking.id) == booking.id, col(Booking.refund_due).is_(True))
            .values(refund_due=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise BookingError("changed_meanwhile")
        history.record(
            session,
            booking_id=booking.id or 0,
            actor=actor,
            at=now,
            action="refunded",
            note=note.strip()[:500],
        )

    await ctx.db.write(work)
