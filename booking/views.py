"""Frozen read models handed to callers. Services never return live ORM rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.i18n import N_, gettext_for
from booking.rules import states
from booking.rules.cancelling import customer_may_cancel
from booking.rules.deadlines import proposed_deadline, request_days
from booking.tables.bookings import Booking, ExtensionRequest, Item
from booking.tables.catalog import Event, Seat, Tariff
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    name: str
    email: str | None
    language: str
    customer_type: str
    organization_id: int | None
    telegram_user_id: int | None
    telegram_chat_id: int | None

    @classmethod
    def of(cls, c: Customer) -> CustomerView:
        assert c.id is not None
        return cls(
            id=c.id,
            name=c.name,
            email=c.email,
            language=c.language,
            customer_type=c.customer_type,
            organization_id=c.organization_id,
            telegram_user_id=c.telegram_user_id,
            telegram_chat_id=c.telegram_chat_id,
        )


SEAT_LABEL = N_("{section} · row {row} · seat {number}")


@dataclass(frozen=True, slots=True)
class SeatPlace:
    """A numbered seat as data. Its words ("row", "seat") belong to the reader's language, so
    the core hands out the parts and each channel asks for ``label(locale)``."""

    section: str
    row: str
    number: int

    def label(self, locale: str) -> str:
        """'Stalls · row C · seat 12', 'Stalls · rang C · place 12'."""
        return gettext_for(locale, SEAT_LABEL).format(
            section=self.section, row=self.row, number=self.number
        )


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    performance_id: int
    tariff_id: int
    tariff_name: str
    price_minor: int
    seat: SeatPlace | None  # numbered seats only; shown with seat.label(locale)


@dataclass(frozen=True, slots=True)
class BookingView:
    id: int
    reference: str
    status: str
    checkout: bool
    customer_id: int
    organization_id: int | None
    channel: str
    deadline: datetime | None
    starts_at: datetime
    event_title: str
    timezone: str
    total_minor: int
    currency: str
    refund_due: bool
    items: tuple[ItemView, ...]
    cancellation_allowed: bool = False  # the event's: may a customer cancel paid tickets?
    # A request for more time waiting for the organizer (its date: None for "the usual").
    extension_pending: bool = False
    pending_until: datetime | None = None
    booked_by: str = ""  # an organization's booking: the contact who made it; "" otherwise
    # A season pass purchase or renewal: the pass product's name ("" for tickets). Its
    # booking belongs to the pass's first date, so notices name the pass, not that event.
    pass_name: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in states.OPEN

    @property
    def title(self) -> str:
        """What the booking is for, in lists and cards: the season pass, else its event."""
        return self.pass_name or self.event_title

    def more_time_days(self, now: datetime) -> tuple[date, date] | None:
        """The first and last day the customer may ask to pay by, at ``now``; None when no
        request for more time can be made: not an open hold, a pay-now checkout, a request
        already waiting, or no day left before the performance (``request_days``)."""
        if not self.is_open or self.checkout or self.extension_pending:
            return None
        return request_days(
            self.deadline, now=now, starts_at=self.starts_at, timezone=self.timezone
        )

    @property
    def customer_may_cancel(self) -> bool:
        """The rule ``cancellations.cancel`` applies to a customer (booking.rules.cancelling)."""
        return customer_may_cancel(self.status, cancellation_allowed=self.cancellation_allowed)


@dataclass(frozen=True, slots=True)
class TicketView:
    secret: str
    url: str  # PUBLIC_URL/t/<secret>: what its QR code says (the ticket page, the door)
    reference: str
    event_title: str
    starts_at: datetime
    timezone: str
    tariff_name: str
    seat: SeatPlace | None


@dataclass(frozen=True, slots=True)
class OutboxView:
    id: int
    kind: str
    channel: str
    locale: str
    attempts: int
    payload: dict[str, Any]
    customer: CustomerView
    booking: BookingView | None


class NumberedSeat(Protocol):
    """What a seat's place is read from: the ORM row, or a row read by a prepared statement."""

    @property
    def section(self) -> str: ...
    @property
    def row(self) -> str: ...
    @property
    def number(self) -> int: ...


def seat_place(seat: NumberedSeat) -> SeatPlace:
    return SeatPlace(section=seat.section, row=seat.row, number=seat.number)


def booking_view(
    booking: Booking,
    event: Event,
    items: list[tuple[Item, Tariff, Seat | None]],
    *,
    pending: ExtensionRequest | None = None,
    booked_by: str = "",
) -> BookingView:
    assert booking.id is not None
    return BookingView(
        id=booking.id,
        reference=booking.reference,
        status=booking.status,
        checkout=booking.checkout,
        customer_id=booking.customer_id,
        organization_id=booking.organization_id,
        channel=booking.channel,
        deadline=booking.deadline,
        starts_at=booking.starts_at,
        event_title=event.title,
        timezone=event.timezone,
        total_minor=booking.total_minor,
        currency=booking.currency,
        refund_due=booking.refund_due,
        items=tuple(
            ItemView(
                id=item.id or 0,
                performance_id=item.performance_id,
                tariff_id=item.tariff_id,
                tariff_name=tariff.name,
                price_minor=item.price_minor - item.discount_minor,
                seat=seat_place(seat) if seat else None,
            )
            for item, tariff, seat in items
        ),
        cancellation_allowed=event.cancellation_allowed,
        extension_pending=pending is not None,
        pending_until=pending.requested_until if pending else None,
        booked_by=booked_by,
        # A pass's own tariffs carry the product's name (passes.product_tariffs keeps it so).
        pass_name=next((t.name for _, t, _ in items if t.pass_product_id is not None), ""),
    )


async def load_bookings(session: AsyncSession, bookings: list[Booking]) -> list[BookingView]:
    """Views of many bookings in at most three queries, whatever their number: the items, the
    pending requests for more time (open bookings only) and who an organization's booking is
    for (organization bookings only)."""
    ids = [b.id for b in bookings]
    if not ids:
        return []
    rows = (
        await session.execute(
            select(Item, Tariff, Seat, Event)
            .join(Tariff, col(Tariff.id) == Item.tariff_id)
            .join(Event, col(Event.id) == Tariff.event_id)
            .outerjoin(Seat, col(Seat.id) == Item.seat_id)
            .where(col(Item.booking_id).in_(ids))
            .order_by(col(Item.id))
        )
    ).all()
    items: dict[int, list[tuple[Item, Tariff, Seat | None]]] = {i: [] for i in ids if i}
    events: dict[int, Event] = {}
    for item, tariff, seat, event in rows:
        items[item.booking_id].append((item, tariff, seat))
        events[item.booking_id] = event
    pending = await _pending_requests(session, [b.id for b in bookings if b.status in states.OPEN])
    names = await _names(session, {b.customer_id for b in bookings if b.organization_id})
    return [
        booking_view(
            b,
            events[b.id],
            items[b.id],
            pending=pending.get(b.id),
            booked_by=names.get(b.customer_id, "") if b.organization_id else "",
        )
        for b in bookings
        if b.id in events
    ]


async def _pending_requests(
    session: AsyncSession, ids: list[int | None]
) -> dict[int, ExtensionRequest]:
    if not ids:
        return {}
    rows = await session.execute(
        select(ExtensionRequest).where(
            col(ExtensionRequest.booking_id).in_(ids), col(ExtensionRequest.status) == "pending"
        )
    )
    return {r.booking_id: r for r in rows.scalars()}


async def _names(session: AsyncSession, customer_ids: set[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(col(Customer.id), col(Customer.name)).where(col(Customer.id).in_(customer_ids))
    )
    return {i: name for i, name in rows.all() if i is not None}


async def load_booking(session: AsyncSession, booking: Booking) -> BookingView:
    (view,) = await load_bookings(session, [booking])
    return view


async def load_outbox(session: AsyncSession, message_id: int) -> OutboxView | None:
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.id is None:
        return None
    customer = await session.get(Customer, message.customer_id)
    assert customer is not None
    booking = await session.get(Booking, message.booking_id) if message.booking_id else None
    return OutboxView(
        id=message.id,
        kind=message.kind,
        channel=message.channel,
        locale=message.locale,
        attempts=message.attempts,
        payload=json.loads(message.payload),
        customer=CustomerView.of(customer),
        booking=await load_booking(session, booking) if booking else None,
    )


def still_relevant(message: OutboxView) -> bool:
    """A reminder re-checks at delivery that its booking is still held on that same deadline
    (not paid, closed, or overdue: "N days left" would be wrong once the deadline has passed)."""
    if message.kind != "reminder" or message.booking is None:
        return True
    deadline = message.booking.deadline
    return message.booking.status == states.HELD and (
        deadline is not None and deadline.isoformat() == message.payload.get("deadline")
    )


@dataclass(frozen=True, slots=True)
class ExtensionView:
    id: int
    reference: str
    status: str  # pending | approved | denied
    current_deadline: datetime | None
    requested_until: datetime | None
    proposed_until: datetime  # the organizer's default: the request, or +N days
    granted_until: datetime | None
    reason: str
    customer_name: str
    starts_at: datetime

    @classmethod
    def of(
        cls,
        request: ExtensionRequest,
        booking: Booking,
        event: Event,
        customer: Customer | None,
        now: datetime,
    ) -> ExtensionView:
        return cls(
            id=request.id or 0,
            reference=booking.reference,
            status=request.status,
            current_deadline=booking.deadline,
            requested_until=request.requested_until,
            proposed_until=extension_proposal(event, booking, request.requested_until, now),
            granted_until=request.granted_until,
            reason=request.reason,
            customer_name=customer.name if customer else "",
            starts_at=booking.starts_at,
        )


def extension_proposal(
    event: Event, booking: Booking, wanted: datetime | None, now: datetime
) -> datetime:
    """The organizer's default answer to a request for more time (``proposed_deadline``)."""
    return proposed_deadline(
        booking.deadline,
        starts_at=booking.starts_at,
        now=now,
        extension_days=event.extension_days,
        wanted=wanted,
        timezone=event.timezone,
    )


# -- the door (booking/services/checkin.py) ----------------------------------------------------

# Why an entitlement does not admit anyone: its booking was cancelled (or expired unpaid), a
# refund is due, the ticket itself was voided (re-issued, or later resold), or the date is
# not one a pass includes.
Invalid = Literal["", "cancelled", "refunded", "voided", "not_in_pass", "on_resale"]


@dataclass(frozen=True, slots=True)
class Entitlement:
    """What a scanned secret gives the right to: one performance, by a ticket or a pass
    (``kind``, ``id``: the check-in row is unique on them and the performance)."""

    kind: str
    id: int
    performance_id: int
    starts_at: datetime
    timezone: str
    event_title: str
    venue: str
    reference: str
    holder: str
    language: str
    tariff_name: str
    seat: SeatPlace | None
    invalid: Invalid
