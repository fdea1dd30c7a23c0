"""The one-time keys of the console's desk form (a booking made at the desk or on the phone)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class DeskFormKey(SQLModel, table=True):
    """A desk form's random key and the booking its first post made.

    The key is the primary key, so unique: a second post of the same form (a double click, a
    reload, a retry after a time-out) cannot claim it again, even at the same moment on
    PostgreSQL, and is shown the booking already made. The row is written first in the
    booking's own transaction; ``booking_id`` is filled before that transaction commits, so a
    committed row always names its booking (a refused booking leaves no key behind)."""

    key: str = Field(primary_key=True, max_length=64)
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    staff_id: int | None = Field(default=None)
    created_at: datetime = utc()
