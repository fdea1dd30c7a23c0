"""Reminders before each deadline: planned by a job, sent once per booking, offset and deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import outbox
from booking.context import Context
from booking.rules import states
from booking.rules.deadlines import due_reminder, parse_offsets
from booking.tables.bookings import Booking
from booking.tables.catalog import Event
from booking.tables.customers import Customer


async def plan_reminders(ctx: Context, *, batch: int = 1000) -> int:
    """Queue every reminder that is due now. Idempotent: the outbox key is
    ``reminder:<booking>:<deadline>:<offset>``, so two workers (or a restart) queue it once, and
    a new deadline (an extension) arms the reminders again."""
    return await ctx.db.write(lambda s: _plan(s, ctx.clock.now(), batch))


async def _plan(session: AsyncSession, now: datetime, batch: int) -> int:
    offsets_by_event = {
        e.id: parse_offsets(e.reminder_offsets)
        for e in (await session.execute(select(Event))).scalars()
    }
    widest = max((max(o) for o in offsets_by_event.values() if o), default=0)
    rows = (
        await session.execute(
            select(Booking, Customer)
            .join(Customer, col(Customer.id) == Booking.customer_id)
            .where(
                col(Booking.status) == states.HELD,
                col(Booking.checkout).is_(False),
                col(Booking.deadline) > now,
                col(Booking.deadline) <= now + timedelta(minutes=widest),
            )
            .order_by(col(Booking.deadline))
            .limit(batch)
        )
    ).all()
    notices = []
    for booking, customer in rows:
        assert booking.deadline is not None and booking.deadline_set_at is not None
        offset = due_reminder(
            offsets_by_event.get(booking.event_id, ()),
            deadline=booking.deadline,
            deadline_set_at=booking.deadline_set_at,
            now=now,
        )
        if offset is None:
            continue
        deadline = booking.deadline.isoformat()
        notices += outbox.rows_for(
            kind="reminder",
            customer=customer,
            now=now,
            booking_id=booking.id,
            key=f"reminder:{booking.id}:{deadline}:{offset}",
            payload={"deadline": deadline, "offset_minutes": offset},
        )
    return await outbox.enqueue_rows(session, notices)
