"""The holder page's proofs (issue 13): one-time codes mailed to a pass holder, the sessions
they open, and the counters that throttle both (booking.services.holder_access)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class HolderCode(SQLModel, table=True):
    """One sign-in request of the holder page, whether or not its email and pass code matched
    a paid pass: a request that matched nothing gets a row too (with the hash of a code nobody
    was sent), so that it behaves the same on the code page, tries and expiry included.

    The browser holds a random challenge; the table keeps its SHA-256 and the code's, never
    the code or the typed address, so a copy of the table signs nobody in."""

    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_holdercode_created", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    challenge_hash: str = Field(unique=True, max_length=64)
    code_hash: str = Field(max_length=64)
    # Who the code is for, when email and pass code matched; None otherwise.
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    email_key: str | None = Field(default=None, max_length=254)  # the customer's, then
    pass_code: str | None = Field(default=None, max_length=9)
    created_at: datetime = utc()
    expires_at: datetime = utc()
    used_at: datetime | None = utc(nullable=True, default=None)
    attempts: int = 0  # tries of this code, counted before each is checked


class HolderSession(SQLModel, table=True):
    """A holder page sign-in, kept on the server so that signing out ends every copy of the
    cookie. It names the proof it was opened with (the customer's address then, the pass code):
    every request checks that they still hold, so a changed address or a pass cancelled,
    refunded or moved to someone else ends it."""

    __table_args__ = (Index("ix_holdersession_customer", "customer_id", "ended_at"),)
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id")
    email_key: str = Field(max_length=254)
    pass_code: str = Field(max_length=9)
    created_at: datetime = utc()
    seen_at: datetime = utc()
    ended_at: datetime | None = utc(nullable=True, default=None)
    # signed_out | expired | owner_changed | replaced
    end_reason: str = Field(default="", max_length=20)


class HolderThrottle(SQLModel, table=True):
    """Requests or tries of one key (a client address, an email and pass code) in a fixed
    window that starts at its first hit. One row per key, bumped by one conditional upsert, so
    a burst of concurrent requests cannot all read "under the limit" before any is counted."""

    # "client:", "pair:" or "tries:" and a SHA-256: no typed address is kept in clear.
    key: str = Field(primary_key=True, max_length=80)
    hits: int = 0
    window_start: datetime = utc()
