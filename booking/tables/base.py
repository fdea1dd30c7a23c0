"""Shared column helpers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlmodel import Field, SQLModel

from booking.db import UTCDateTime

# Stable constraint names, so Alembic migrations read the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utc(*, nullable: bool = False, index: bool = False, **kw: Any) -> Any:
    """A timestamp column that stores and returns aware UTC datetimes."""
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index, **kw)
