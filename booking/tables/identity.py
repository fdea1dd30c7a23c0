"""Proofs of identity the channels present: single-use deep links (codes are in channels)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class DeepLink(SQLModel, table=True):
    """One ``/start`` deep link, made for one email to one customer: used once, then refused.

    Only the hash of its random nonce is kept, so a copy of the table links nobody.
    """

    __table_args__ = (Index("ix_deeplink_expires", "expires_at"),)
    id: int | None = Field(default=None, primary_key=True)
    nonce_hash: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = utc()
    expires_at: datetime = utc()
    used_at: datetime | None = utc(nullable=True)
