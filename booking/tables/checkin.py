"""Door check-ins: one row per entitlement admitted to one performance (SPEC §9 "The door")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class CheckIn(SQLModel, table=True):
    """An entitlement (today a ticket; later a pass's right to one performance) admitted once.

    The unique index on (kind, id, performance) is what makes two doors scanning the same code
    at the same moment admit it once: the second insert fails, whatever either door read first.
    """

    __table_args__ = (
        Index(
            "uq_checkin_entitlement",
            "entitlement_kind",
            "entitlement_id",
            "performance_id",
            unique=True,
        ),
        Index("ix_checkin_performance", "performance_id"),  # the door's count per performance
    )
    id: int | None = Field(default=None, primary_key=True)
    entitlement_kind: str = Field(max_length=10)  # "ticket" (passes add "pass")
    entitlement_id: int
    performance_id: int = Field(foreign_key="performance.id")
    admitted_at: datetime = utc()
    door: str = Field(default="", max_length=40)
    staff_id: int | None = Field(default=None, foreign_key="staffuser.id")
