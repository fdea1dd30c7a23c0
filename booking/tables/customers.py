"""Customers and the organizations (B2B or group accounts) some of them are contacts of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text, delete, event
from sqlalchemy import insert as sql_insert
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from booking.rules.search_keys import MAX_TOKEN, search_key, tokens_of
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
    # The folded tokens the console's one search finds the customer by (name and company
    # words, email, phone: booking.rules.search_keys), kept by the hooks below on every write.
    search_key: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class CustomerToken(SQLModel, table=True):
    """One token of a customer's search key. The primary key (token, customer_id) makes "a
    token starting with x" one index range (token >= x AND token < x + U+FFFF) on SQLite and
    PostgreSQL; a LIKE '%x%' on the customer table would read every row."""

    __table_args__ = (
        Index("ix_customertoken_customer", "customer_id"),
        {"sqlite_with_rowid": False},
    )
    # Compared code point by code point: a linguistic collation may skip "." or "@", and
    # then a range would no longer mean "starts with".
    token: str = Field(
        sa_column=Column(
            String(MAX_TOKEN).with_variant(String(MAX_TOKEN, collation="C"), "postgresql"),
            primary_key=True,
        )
    )
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True)
    )


# The search key follows every write of a customer, whichever service makes it (creation by
# email, a Telegram-only record, a rename, an email proven later, a merge): ORM flush hooks on
# the table, rather than a call each service must remember.
_TOKENS: Any = CustomerToken.__table__  # type: ignore[attr-defined]


def _key_of(customer: Customer) -> str:
    return search_key(
        customer.name, customer.email_key or customer.email, customer.phone, customer.company
    )


def _write_tokens(connection: Connection, customer_id: int, key: str) -> None:
    connection.execute(delete(_TOKENS).where(_TOKENS.c.customer_id == customer_id))
    rows = [{"token": t, "customer_id": customer_id} for t in sorted(tokens_of(key))]
    if rows:
        connection.execute(sql_insert(_TOKENS), rows)


@event.listens_for(Customer, "before_insert")
def _key_before_insert(mapper: Any, connection: Connection, customer: Customer) -> None:
    customer.search_key = _key_of(customer)


@event.listens_for(Customer, "after_insert")
def _tokens_after_insert(mapper: Any, connection: Connection, customer: Customer) -> None:
    assert customer.id is not None
    _write_tokens(connection, customer.id, customer.search_key)


@event.listens_for(Customer, "before_update")
def _key_before_update(mapper: Any, connection: Connection, customer: Customer) -> None:
    key = _key_of(customer)
    if key != customer.search_key and customer.id is not None:
        customer.search_key = key
        _write_tokens(connection, customer.id, key)
