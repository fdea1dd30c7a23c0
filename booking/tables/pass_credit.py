"""A season pass's credit ledger (issue 12 item 7, SPEC §9): one row per movement of
``seasonpass.credit_minor``, written in the same transaction as the conditional UPDATE that
moves the balance. docs/passes.md ("Credit") gives the design.

Kinds: ``added`` (a resale payout as credit, issue 13; staff), ``spent`` (paid part or all of a
booking of the holder), ``given_back`` (that booking was cancelled or expired: the credit goes
back to the pass it came from).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class PassCredit(SQLModel, table=True):
    """One movement of a pass's credit. ``amount_minor`` is signed: spent is negative."""

    __table_args__ = (
        CheckConstraint("kind IN ('added', 'spent', 'given_back')", name="kind_known"),
        # The sign says the direction, so a sum over a pass is its balance.
        CheckConstraint(
            "(kind = 'spent' AND amount_minor < 0) OR (kind <> 'spent' AND amount_minor > 0)",
            name="amount_signed",
        ),
        # Spending and giving back are about one booking; an addition may name none.
        CheckConstraint("kind = 'added' OR booking_id IS NOT NULL", name="booking_named"),
        CheckConstraint("balance_minor >= 0", name="balance_not_negative"),
        # The pass page lists a pass's movements newest first.
        Index("ix_passcredit_pass_at", "pass_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    pass_id: int = Field(foreign_key="seasonpass.id")
    booking_id: int | None = Field(default=None, foreign_key="booking.id", index=True)
    kind: str = Field(max_length=10)  # added | spent | given_back
    # What added it ("resale", "staff"; "booking" for spent and given back): the ledger's words.
    source: str = Field(default="booking", max_length=20)
    amount_minor: int  # signed, in ``currency`` (the pass product's)
    currency: str = Field(max_length=3)
    balance_minor: int  # the pass's balance just after this movement
    # Once per key: "spent:<booking id>" (a booking uses credit once), "given_back:<booking
    # id>", or the caller's own for an addition ("payout:<id>"), so a job re-run adds nothing.
    key: str | None = Field(default=None, max_length=80, unique=True)
    note: str = Field(default="", max_length=200)
    actor_kind: str = Field(max_length=10)
    actor_id: int | None = None
    actor_name: str = Field(max_length=200)
    channel: str = Field(max_length=10)
    at: datetime = utc()
