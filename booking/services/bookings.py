"""Looking bookings up: one booking for its owner, and the personal area (SPEC §3)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services.common import booking_for, visible_to
from booking.tables.bookings import Booking
from booking.tables.customers import Customer
from booking.views import BookingView, load_booking, load_bookings

RECENT = timedelta(days=30)


async def get_booking(ctx: Context, *, actor: Actor, reference: str) -> BookingView:
    async def work(session: AsyncSession) -> BookingView:
        return await load_booking(session, await booking_for(session, reference, actor))

    return await ctx.db.read(work)


async def my_bookings(ctx: Context, *, customer_id: int) -> list[BookingView]:
    """What needs attention first: overdue, then held by deadline; then upcoming paid
    bookings by date; then what closed in the last 30 days. A contact of an organization sees
    every booking of the organization."""

    async def work(session: AsyncSession) -> list[BookingView]:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("unknown_customer")
        now = ctx.clock.now()
        owner = visible_to(customer)
        query = select(Booking).where(
            owner,
            or_(
                col(Booking.status).in_(states.OPEN),
                (col(Booking.status) == states.CONFIRMED) & (col(Booking.starts_at) > now),
                col(Booking.updated_at) >= now - RECENT,
            ),
        )
        found = list((await session.execute(query)).scalars())
        found.sort(
            key=lambda b: (
                states.attention_rank(b.status),
                b.deadline if b.status in states.OPEN and b.deadline else b.starts_at,
            )
        )
        return await load_bookings(session, found)

    return await ctx.db.read(work)
