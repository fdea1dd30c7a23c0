"""Resale of pass tickets (issue 13, SPEC §9 "Resale"): the organizer's settings per event and
the listings of pass holders. docs/resale.md gives the design (states, the fee, the guard
against a listing racing a door check-in).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from booking.tables.base import utc

# The states a listing is "open" in: at most one open listing per pass performance.
OPEN_STATES = ("listed", "reserved")
_OPEN_SQL = "state IN ('listed', 'reserved')"


class ResaleSettings(SQLModel, table=True):
    """What an organizer allows for the resale of one event's pass tickets. No row: resale is
    not allowed (the defaults below are what a new row starts from)."""

    __table_args__ = (
        CheckConstraint("fee_percent >= 0 AND fee_percent <= 100", name="fee_percent_range"),
        CheckConstraint("fee_fixed_minor >= 0", name="fee_fixed_not_negative"),
    )
    event_id: int = Field(primary_key=True, foreign_key="event.id")
    allowed: bool = False
    # Comma list among "donate", "transfer", "credit" (booking.services.resale.PAYOUTS).
    payouts: str = Field(default="donate,credit", max_length=40)
    fee_percent: int = 0  # whole percent of the place's price, 0..100
    fee_fixed_minor: int = 0  # added to it, in the event's currency's minor unit
    # True: in a sold-out area listed places are sold before regular inventory.
    sell_first: bool = True


class ResaleListing(SQLModel, table=True):
    """One pass performance put on resale by its holder.

    States: listed -> reserved (a buyer's hold) -> sold; listed -> withdrawn (the seller);
    listed or reserved -> closed (the performance started unsold). Every move is a
    compare-and-set on ``state``; the partial unique index keeps one open listing per pass
    performance on SQLite and PostgreSQL alike.
    """

    __table_args__ = (
        CheckConstraint(
            "state IN ('listed', 'reserved', 'sold', 'withdrawn', 'closed')", name="state_known"
        ),
        CheckConstraint("payout IN ('donate', 'transfer', 'credit')", name="payout_known"),
        CheckConstraint("fee_minor >= 0 AND fee_minor <= price_minor", name="fee_fits"),
        CheckConstraint(
            "payout = 'transfer' OR (iban = '' AND account_holder = '')", name="bank_only_transfer"
        ),
        Index(
            "uq_resalelisting_open",
            "pass_id",
            "performance_id",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
        # close_started's sweep and the console's listings by performance.
        Index("ix_resalelisting_performance_state", "performance_id", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    pass_id: int = Field(foreign_key="seasonpass.id", index=True)
    performance_id: int = Field(foreign_key="performance.id")
    item_id: int = Field(foreign_key="item.id")  # the pass booking's item at that date
    seat_id: int | None = Field(default=None, foreign_key="seat.id")  # None: general admission
    state: str = Field(default="listed", max_length=10)
    payout: str = Field(max_length=10)  # donate | transfer | credit
    iban: str = Field(default="", max_length=34)  # compact, transfer only
    account_holder: str = Field(default="", max_length=70)  # SEPA's name length, transfer only
    price_minor: int  # the item's share of the pass price (after any discount)
    fee_minor: int = 0  # the organizer's fee; the payout is price less fee
    created_at: datetime = utc()
    ended_at: datetime | None = utc(nullable=True, default=None)
