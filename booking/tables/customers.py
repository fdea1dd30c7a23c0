"""Customers and the organizations (B2B or group accounts) some of them are contacts of."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    kind: str = Field(default="b2b", max_length=10)  # "b2b" | "group"


class Customer(SQLModel, table=True):
    # The console finds customers by part of their name: on SQLite a scan of this small index
    # instead of the whole table (see booking.queries.listing.contains_ci).
    __table_args__ = (Index("ix_customer_name", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    # Normalized (trimmed, lower-cased) email: the strict match key, unique when present.
    email_key: str | None = Field(default=None, unique=True, max_length=254)
    phone: str = ""
    language: str = Field(default="en", max_length=5)
    telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    telegram_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    telegram_unreachable: bool = False
    email_undeliverable: bool = False
    company: str = ""
    postcode: str = ""
    categories: str = ""
    newsletter: bool = False
    customer_type: str = Field(default="individual", max_length=12)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    created_at: datetime = utc()
