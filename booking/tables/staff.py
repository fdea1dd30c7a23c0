"""Organizer staff accounts and key/value settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=254)
    name: str = Field(default="", max_length=200)
    password_hash: str
    role: str = Field(default="admin", max_length=12)  # admin | organizer | box_office
    active: bool = True
    created_at: datetime = utc()
    # The console speaks the staff member's language (en | fr), chosen per account.
    language: str = Field(default="en", max_length=5, sa_column_kwargs={"server_default": "en"})
    # Bumped when the password changes or the account is switched off: older sessions end.
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Setting(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=80)
    value: str = ""


class StaffSession(SQLModel, table=True):
    """A console sign-in, kept on the server so that signing out ends it for every copy of the
    cookie. The cookie carries a random id; only its SHA-256 is stored, so a leaked table (a
    backup, a read-only SQL console) opens no session."""

    __table_args__ = (Index("ix_staffsession_staff", "staff_id", "ended_at"),)
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    staff_id: int = Field(foreign_key="staffuser.id")
    created_at: datetime = utc()
    seen_at: datetime = utc()
    ended_at: datetime | None = utc(nullable=True, default=None)
    # signed_out | password | switched_off | expired | replaced
    end_reason: str = Field(default="", max_length=20)


class LoginCounter(SQLModel, table=True):
    """Sign-in failures of one key (client and email, client, or email) in a fixed window that
    starts at its first failure. One row per key, bumped by one conditional upsert, so that
    concurrent attempts cannot all read "under the limit" before any of them is recorded."""

    # "pair:", "client:" or "email:" and a SHA-256 of the value: no attempted address (people
    # type their password into the email field) is stored in clear.
    key: str = Field(primary_key=True, max_length=80)
    failures: int = 0
    window_start: datetime = utc()
