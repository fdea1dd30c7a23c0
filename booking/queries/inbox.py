"""The organizer's inbox of requests for more time (SPEC §3). Deciding goes through
``extensions.approve_extension`` / ``deny_extension``; this module only lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.tables.bookings import Booking, ExtensionRequest
from booking.tables.catalog import Event
from booking.tables.customers import Customer
from booking.views import extension_proposal

DECIDED_SHOWN = 50


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    status: str
    reference: str
    booking_status: str
    customer_id: int
    customer_name: str
    customer_email: str | None
    event_id: int
    event_title: str
    timezone: str
    starts_at: datetime
    current_deadline: datetime | None
    requested_at: datetime
    requested_until: datetime | None
    proposed_until: datetime
    reason: str
    decided_at: datetime | None
    decided_by: str
    granted_until: datetime | None
    message: str
    total_minor: int
    currency: str


async def inbox(ctx: Context, *, status: str = "pending") -> list[InboxRow]:
    """Pending requests, most urgent deadline first; or the latest decisions."""

    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[InboxRow]:
        query = (
            select(ExtensionRequest, Booking, Event, Customer)
            .join(Booking, col(Booking.id) == ExtensionRequest.booking_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .join(Customer, col(Customer.id) == Booking.customer_id)
        )
        if status == "pending":
            query = query.where(col(ExtensionRequest.status) == "pending").order_by(
                col(Booking.deadline), col(ExtensionRequest.id)
            )
        else:
            query = (
                query.where(col(ExtensionRequest.status) != "pending")
                .order_by(col(ExtensionRequest.decided_at).desc(), col(ExtensionRequest.id).desc())
                .limit(DECIDED_SHOWN)
            )
        return [
            InboxRow(
                id=r.id or 0,
                status=r.status,
                reference=b.reference,
                booking_status=b.status,
                customer_id=c.id or 0,
                customer_name=c.name,
                customer_email=c.email,
                event_id=e.id or 0,
                event_title=e.title,
                timezone=e.timezone,
                starts_at=b.starts_at,
                current_deadline=b.deadline,
                requested_at=r.requested_at,
                requested_until=r.requested_until,
                proposed_until=extension_proposal(e, b, r.requested_until, now),
                reason=r.reason,
                decided_at=r.decided_at,
                decided_by=r.decided_by,
                granted_until=r.granted_until,
                message=r.message,
                total_minor=b.total_minor,
                currency=b.currency,
            )
            for r, b, e, c in (await session.execute(query)).all()
        ]

    return await ctx.db.read(work)
