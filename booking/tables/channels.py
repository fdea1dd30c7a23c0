"""State the channels keep through the core: conversations, link codes, inbound mail, checkouts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class Conversation(SQLModel, table=True):
    """A bot conversation's state (aiogram FSM), shared by every bot process, kept on restart."""

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    data: str = "{}"  # JSON
    updated_at: datetime = utc()


class LinkCode(SQLModel, table=True):
    """A one-time code mailed to prove that a Telegram user owns an email address.

    ``email`` is the address the code went to. Until the code comes back it is unverified, so
    it lives here only, never in ``Customer.email_key``, where every lookup by email looks.
    ``customer_id`` is the chat's own record (the one the code mail was queued for); which
    customer the chat ends up linked to is decided when the code is confirmed.
    """

    __table_args__ = (
        Index("ix_linkcode_user", "telegram_user_id", "created_at"),
        Index("ix_linkcode_email", "email_key", "created_at"),
        Index("ix_linkcode_created", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    telegram_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    email: str = Field(default="", max_length=254)
    email_key: str = Field(default="", max_length=254)
    code_hash: str = Field(max_length=128)
    attempts: int = 0
    created_at: datetime = utc()
    expires_at: datetime = utc()
    used_at: datetime | None = utc(nullable=True)


class InboundMail(SQLModel, table=True):
    """Every message read from the mailbox, once: unique on Message-ID (replies act once).

    ``customer_id`` is the sender's record, or for a bounce the customer its VERP token names
    (the console shows their latest bounce). ``answered_id`` / ``notified_id`` are who got an
    email because of this message (the answer; the owner's notice): answers per recipient
    are counted on them (``booking.services.inbound.ANSWERS_PER_HOUR``)."""

    __table_args__ = (
        Index("ix_inboundmail_customer", "customer_id", "received_at"),
        Index("ix_inboundmail_answered", "answered_id", "received_at"),
        Index("ix_inboundmail_notified", "notified_id", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True, max_length=500)
    received_at: datetime = utc()
    from_addr: str = Field(default="", max_length=254)
    # human | auto_reply | bounce | list | report | challenge | too_large | unreadable
    kind: str = Field(default="human", max_length=12)
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    command: str = Field(default="", max_length=20)
    outcome: str = Field(default="", max_length=200)
    size: int = 0
    answered_id: int | None = Field(default=None, foreign_key="customer.id")
    notified_id: int | None = Field(default=None, foreign_key="customer.id")


class CheckoutSession(SQLModel, table=True):
    """A payment started with a provider (pay page), matched back by the provider's webhook."""

    __table_args__ = (Index("uq_checkout_provider_session", "provider", "session_id", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    provider: str = Field(max_length=30)
    session_id: str = Field(max_length=200)
    amount_minor: int
    currency: str = Field(max_length=3)
    status: str = Field(default="open", max_length=12)  # open | paid | expired
    created_at: datetime = utc()


class LoginAttempt(SQLModel, table=True):
    """Failed console logins, for throttling across processes."""

    __table_args__ = (Index("ix_loginattempt_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)  # email or client address
    at: datetime = utc()
