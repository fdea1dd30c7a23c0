"""Messages to send, written in the same transaction as the change that causes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class OutboxMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_due", "status", "channel", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    # What happened, once per recipient channel: the unique key makes every notice idempotent.
    dedupe_key: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=10)  # telegram | email
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    locale: str = Field(default="en", max_length=5)
    payload: str = "{}"  # JSON
    status: str = Field(default="pending", max_length=10)  # pending | sent | dead | skipped
    attempts: int = 0
    next_attempt_at: datetime = utc()
    lease_until: datetime | None = utc(nullable=True)
    lease_owner: str = ""
    last_error: str = ""
    created_at: datetime = utc()
    sent_at: datetime | None = utc(nullable=True)
