"""Bookings, their items, tickets, payments, history and extension requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class Booking(SQLModel, table=True):
    __table_args__ = (
        # The release and reminder jobs read only due rows through these two indexes.
        Index("ix_booking_status_deadline", "status", "deadline"),
        Index("ix_booking_status_starts", "status", "starts_at"),
        # The console. The release screen and the dashboard read holds by status and deadline
        # without a checkout and sum their totals: from the index alone, whatever the season's
        # size (and per event with the second one).
        Index("ix_booking_due", "status", "checkout", "deadline", "currency", "total_minor"),
        Index("ix_booking_event_due", "event_id", "status", "deadline"),
        # Newest bookings first, expiries of a period, refunds still to pay.
        Index("ix_booking_created_at", "created_at"),
        Index("ix_booking_status_updated", "status", "updated_at"),
        Index("ix_booking_refund_due", "refund_due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=9)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # A booking is for one event; performance_id is its earliest date (policy, start, reminders).
    event_id: int = Field(foreign_key="event.id", index=True)
    performance_id: int = Field(foreign_key="performance.id", index=True)
    channel: str = Field(max_length=10)
    # held | overdue | confirmed | cancelled | expired
    status: str = Field(max_length=10)
    checkout: bool = False  # a "buy only" hold: a short payment window, never overdue
    deadline: datetime | None = utc(nullable=True)
    deadline_set_at: datetime | None = utc(nullable=True)  # reminders before this are not due
    starts_at: datetime = utc()  # the earliest performance start, for closing at the start
    total_minor: int = 0
    currency: str = Field(default="CHF", max_length=3)
    refund_due: bool = False
    extension_count: int = 0
    cancel_reason: str | None = Field(default=None, max_length=20)
    cancel_note: str = ""
    created_at: datetime = utc()
    updated_at: datetime = utc()


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    performance_id: int = Field(foreign_key="performance.id", index=True)
    tariff_id: int = Field(foreign_key="tariff.id")
    area_id: int = Field(foreign_key="area.id")
    seat_id: int | None = Field(default=None, foreign_key="seat.id")
    price_minor: int
    discount_minor: int = 0


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", unique=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    secret: str = Field(unique=True, max_length=64)
    issued_at: datetime = utc()
    voided_at: datetime | None = utc(nullable=True)


class Payment(SQLModel, table=True):
    """A provider event. Unique on (provider, event id): the same event twice confirms once."""

    __table_args__ = (
        UniqueConstraint("provider", "provider_event_id"),
        Index("ix_payment_received_at", "received_at"),  # today's sales, sales reports
    )
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    provider: str = Field(max_length=30)
    provider_event_id: str = Field(max_length=200)
    method: str = Field(default="online", max_length=20)  # online | cash | card | transfer
    amount_minor: int
    currency: str = Field(max_length=3)
    # confirmed | reinstated | refund_due
    outcome: str = Field(max_length=12)
    received_at: datetime = utc()


class HistoryEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    at: datetime = utc()
    actor_kind: str = Field(max_length=10)
    actor_id: int | None = None
    actor_name: str = Field(max_length=200)
    channel: str = Field(max_length=10)
    action: str = Field(max_length=40)
    detail: str = "{}"  # JSON


class ExtensionRequest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    status: str = Field(default="pending", max_length=10, index=True)  # pending|approved|denied
    requested_at: datetime = utc()
    requested_until: datetime | None = utc(nullable=True)
    reason: str = ""
    decided_at: datetime | None = utc(nullable=True)
    decided_by: str = ""
    granted_until: datetime | None = utc(nullable=True)
    message: str = ""
