"""Renewal campaigns (issue 12, SPEC §9): last season's pass holders invited to renew into one
or more products of the new season, each holder's seat kept for them while the window is open.

docs/passes.md ("Renewals") gives the design.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class RenewalCampaign(SQLModel, table=True):
    """From one product of last season to the offered products of the new season."""

    __table_args__ = (
        CheckConstraint("state IN ('draft', 'open', 'closed')", name="state_known"),
        CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at", name="window_ordered"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    from_product_id: int = Field(foreign_key="passproduct.id", index=True)
    name: str = Field(max_length=80)
    opens_at: datetime | None = utc(nullable=True)  # None: from the launch
    closes_at: datetime | None = utc(nullable=True)  # None: until the organizer closes it
    reminder_days: str = Field(default="7,1", max_length=40)  # days before closes_at
    state: str = Field(default="draft", max_length=10)  # draft | open | closed
    launched_at: datetime | None = utc(nullable=True)
    closed_at: datetime | None = utc(nullable=True)
    created_at: datetime = utc()
    created_by: int | None = Field(default=None, foreign_key="staffuser.id")


class RenewalOffer(SQLModel, table=True):
    """A product of the new season a campaign offers."""

    __table_args__ = (UniqueConstraint("campaign_id", "product_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="renewalcampaign.id", index=True)
    product_id: int = Field(foreign_key="passproduct.id", index=True)


class Renewal(SQLModel, table=True):
    """One holder's place in one campaign: invited, then renewed, or released at the close.

    ``product_id`` and ``seat_id`` say where the holder's seat is kept (SeatClaim rows with
    this renewal's id, one per included date of that product); None when nothing is kept (GA,
    or the same seat not free at every date: the best alternative is offered at renewal).
    """

    __table_args__ = (
        UniqueConstraint("campaign_id", "pass_id"),
        CheckConstraint("state IN ('invited', 'renewed', 'released')", name="state_known"),
    )
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="renewalcampaign.id", index=True)
    pass_id: int = Field(foreign_key="seasonpass.id", index=True)  # last season's pass
    customer_id: int = Field(foreign_key="customer.id", index=True)  # its holder, copied
    product_id: int | None = Field(default=None, foreign_key="passproduct.id")  # seat kept in
    seat_id: int | None = Field(default=None, foreign_key="seat.id")  # the seat kept
    state: str = Field(default="invited", max_length=10)
    new_pass_id: int | None = Field(default=None, foreign_key="seasonpass.id")
    invited_at: datetime = utc()
    reminders_sent: int = 0
    renewed_at: datetime | None = utc(nullable=True)
    released_at: datetime | None = utc(nullable=True)
