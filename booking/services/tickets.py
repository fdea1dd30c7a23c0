"""Tickets: one per paid item, an unguessable secret, shown as a QR code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services.common import visible_to
from booking.tables.bookings import Booking, Item, Ticket
from booking.tables.catalog import Event, Seat, Tariff
from booking.tables.customers import Customer
from booking.tables.passes import Pass
from booking.views import TicketView, seat_place


async def issue(session: AsyncSession, booking_id: int, items: list[Item], now: datetime) -> None:
    """One valid ticket per item; 192 random bits make the secret unguessable.

    A booking paid, cancelled (tickets voided) and re-instated by a new payment already has a
    ticket row per item (unique on item): those come back with a fresh secret, so the old QR
    codes stay void.

    A season pass's booking gets none: the pass's own secret admits its holder once per
    included date (booking/services/passes.py), and a ticket per date would be a second
    code admitting the same place."""
    if await _is_pass(session, booking_id):
        return
    query = select(Ticket).where(col(Ticket.booking_id) == booking_id)
    existing = list((await session.execute(query)).scalars())
    for ticket in existing:
        if ticket.voided_at is not None:
            ticket.secret, ticket.voided_at, ticket.issued_at = _secret(), None, now
    ticketed = {t.item_id for t in existing}
    session.add_all(
        Ticket(item_id=item.id or 0, booking_id=booking_id, secret=_secret(), issued_at=now)
        for item in items
        if item.id not in ticketed
    )


async def _is_pass(session: AsyncSession, booking_id: int) -> bool:
    query = select(col(Pass.id)).where(col(Pass.booking_id) == booking_id)
    return (await session.execute(query)).first() is not None


def _secret() -> str:
    return secrets.token_urlsafe(24)


async def void(session: AsyncSession, booking_id: int, now: datetime) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.booking_id == booking_id, Ticket.voided_at.is_(None))  # type: ignore[arg-type, union-attr]
        .values(voided_at=now)
    )


TICKET_PATH = "/t/"


def ticket_url(public_url: str, secret: str) -> str:
    """What a ticket's QR code says: ``PUBLIC_URL/t/<secret>``, the holder's page and the
    door's (console/web/ticket_page.py)."""
    return f"{public_url.rstrip('/')}{TICKET_PATH}{secret}"


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    """A valid ticket of one booking as the desk shows it: its number and what it admits."""

    id: int
    ticket: TicketView


async def booking_tickets(ctx: Context, *, actor: Actor, reference: str) -> list[IssuedTicket]:
    """The valid tickets of one paid booking, for staff to show or print at the desk (past
    performances included: a desk may reprint a ticket as a receipt)."""
    if actor.kind != "staff":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> list[IssuedTicket]:
        query = (
            select(Ticket, Booking, Tariff, Event, Seat)
            .join(Booking, col(Booking.id) == Ticket.booking_id)
            .join(Item, col(Item.id) == Ticket.item_id)
            .join(Tariff, col(Tariff.id) == Item.tariff_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .outerjoin(Seat, col(Seat.id) == Item.seat_id)
            .where(
                col(Booking.reference) == reference,
                col(Booking.status) == states.CONFIRMED,
                col(Ticket.voided_at).is_(None),
            )
            .order_by(col(Ticket.id))
        )
        found = []
        for ticket, booking, tariff, event, seat in (await session.execute(query)).all():
            found.append(
                IssuedTicket(ticket.id or 0, _view(ctx, ticket, booking, tariff, event, seat))
            )
        return found

    return await ctx.db.read(work)


async def list_tickets(
    ctx: Context, *, actor: Actor, customer_id: int, reference: str | None = None
) -> list[TicketView]:
    """Valid tickets of a customer's (or their organization's) upcoming confirmed bookings."""

    async def work(session: AsyncSession) -> list[TicketView]:
        customer = await session.get(Customer, customer_id)
        if customer is None or (actor.kind == "customer" and actor.id != customer_id):
            return []
        owner = visible_to(customer)
        query = (
            select(Ticket, Booking, Item, Tariff, Event, Seat)
            .join(Booking, col(Booking.id) == Ticket.booking_id)
            .join(Item, col(Item.id) == Ticket.item_id)
            .join(Tariff, col(Tariff.id) == Item.tariff_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .outerjoin(Seat, col(Seat.id) == Item.seat_id)
            .where(
                owner,
                col(Booking.status) == states.CONFIRMED,
                col(Ticket.voided_at).is_(None),
                col(Booking.starts_at) > ctx.clock.now(),
            )
            .order_by(col(Booking.starts_at), col(Ticket.id))
        )
        if reference is not None:
            query = query.where(col(Booking.reference) == reference)
        rows = (await session.execute(query)).all()
        return [
            _view(ctx, ticket, booking, tariff, event, seat)
            for ticket, booking, _item, tariff, event, seat in rows
        ]

    return await ctx.db.read(work)


def _view(
    ctx: Context, ticket: Ticket, booking: Booking, tariff: Tariff, event: Event, seat: Seat | None
) -> TicketView:
    return TicketView(
        secret=ticket.secret,
        url=ticket_url(ctx.settings.public_url, ticket.secret),
        reference=booking.reference,
        event_title=event.title,
        starts_at=booking.starts_at,
        timezone=event.timezone,
        tariff_name=tariff.name,
        seat=seat_place(seat) if seat else None,
    )
