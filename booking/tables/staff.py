"""Organizer staff accounts and key/value settings."""

from __future__ import annotations

from datetime import datetime

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
