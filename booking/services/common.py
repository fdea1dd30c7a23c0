"""Helpers shared by the services: loading a booking for an action and checking its owner."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.errors import BookingError
from booking.rules.references import normalize_reference
from booking.tables.bookings import Booking
from booking.tables.catalog import Event, Performance
from booking.tables.customers import Customer


async def booking_for(session: AsyncSession, reference: str, actor: Actor) -> Booking:
    """The booking ``reference`` names, if ``actor`` may act on it (SPEC house rule 11)."""
    ref = normalize_reference(reference)
    booking = None
    if ref is not None:
        booking = (
            await session.execute(select(Booking).where(col(Booking.reference) == ref))
        ).scalar_one_or_none()
    if booking is None:
        raise BookingError("unknown_booking", reference=reference.strip()[:20])
    await check_owner(session, booking, actor)
    return booking


async def check_owner(session: AsyncSession, booking: Booking, actor: Actor) -> None:
    """Customers act on their own bookings and on their organization's; staff on any."""
    if actor.kind != "customer":
        return
    if booking.customer_id == actor.id:
        return
    if booking.organization_id is not None and actor.id is not None:
        customer = await session.get(Customer, actor.id)
        if customer is not None and customer.organization_id == booking.organization_id:
            return
    raise BookingError("not_owner")


async def event_of(session: AsyncSession, booking: Booking) -> tuple[Event, Performance]:
    event = await session.get(Event, booking.event_id)
    performance = await session.get(Performance, booking.performance_id)
    assert event is not None and performance is not None
    return event, performance


def policy_of(event: Event, performance: Performance) -> str:
    return performance.policy or event.policy


def notify_skip(actor: Actor) -> str | None:
    """The bot answers in the chat itself, so a customer acting there needs no Telegram notice."""
    return "telegram" if actor.kind == "customer" and actor.channel == "telegram" else None


def visible_to(customer: Customer) -> ColumnElement[bool]:
    """The bookings a customer sees: their own (also those made before they joined an
    organization) plus every booking of their organization."""
    owner = col(Booking.customer_id) == customer.id
    if customer.organization_id is not None:
        owner = or_(owner, col(Booking.organization_id) == customer.organization_id)
    return owner
