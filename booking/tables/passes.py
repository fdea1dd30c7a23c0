"""Season pass products (issue 12): what an organizer sells as a pass, per season.

A sold pass (``Pass``) is one booking made through the hold engine plus this row: who holds it,
its fixed seat, the holder's answers, its pass code and QR secret. docs/passes.md gives the
design.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class PassProduct(SQLModel, table=True):
    """A pass an organizer sells for one season, seated at a fixed seat or in a GA area."""

    __table_args__ = (
        UniqueConstraint("season_id", "name"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("seating IN ('fixed_seat', 'ga')", name="seating_known"),
        CheckConstraint("includes IN ('automatic', 'choice')", name="includes_known"),
        # A pass with choice says how many dates the holder picks; an automatic one does not.
        CheckConstraint(
            "(includes = 'choice' AND choice_count >= 1) "
            "OR (includes = 'automatic' AND choice_count IS NULL)",
            name="choice_count_fits",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    season_id: int = Field(foreign_key="season.id", index=True)
    name: str = Field(max_length=80)
    price_minor: int  # in the minor unit of ``currency``
    currency: str = Field(default="CHF", max_length=3)  # ISO 4217, as Event.currency
    customer_types: str = "individual,group,b2b"  # who may buy it, as Tariff.customer_types
    buy_channels: str = "telegram,email,console"  # where it is sold, as Tariff.buy_channels
    seating: str = Field(max_length=10)  # "fixed_seat" (numbered area) | "ga"
    area_id: int = Field(foreign_key="area.id")
    includes: str = Field(max_length=10)  # "automatic" | "choice"
    choice_count: int | None = None
    # {"first_name": "required", "photo": "optional", ...}: the fields asked, off when absent
    # (booking.rules.pass_products checks the vocabulary; docs/passes.md says why JSON).
    holder_fields: str = Field(default="{}", max_length=1000)
    free_field_label: str = Field(default="", max_length=60)
    accent_colour: str = Field(default="#1f4e79", max_length=7)  # "#rrggbb", checked
    note: str = Field(default="", max_length=200)  # printed on the pass
    active: bool = True


class PassProductEvent(SQLModel, table=True):
    """An event a product includes (automatic) or lets the holder pick from (choice)."""

    __table_args__ = (UniqueConstraint("product_id", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="passproduct.id", index=True)
    event_id: int = Field(foreign_key="event.id", index=True)


class Pass(SQLModel, table=True):
    """A pass sold to one holder: its booking holds one place at every included performance.

    Its status is its booking's (held, overdue, confirmed, cancelled, expired): not copied
    here, so a payment, an expiry or a cancellation needs no second write to stay in step.
    """

    __tablename__ = "seasonpass"  # "pass" is an SQL and a Python keyword
    __table_args__ = (
        CheckConstraint("credit_minor >= 0", name="credit_not_negative"),
        CheckConstraint("choices_left >= 0", name="choices_left_not_negative"),
        # A renewal copies code and secret into the new season's pass (they never change):
        # unique per season, so the door finds one pass per season for one QR.
        UniqueConstraint("season_id", "code"),
        UniqueConstraint("season_id", "secret"),
    )
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="passproduct.id", index=True)
    season_id: int = Field(foreign_key="season.id")  # the product's, copied for the uniques
    customer_id: int = Field(foreign_key="customer.id", index=True)  # buyer and holder
    booking_id: int = Field(foreign_key="booking.id", unique=True)  # the purchase
    seat_id: int | None = Field(default=None, foreign_key="seat.id")  # fixed-seat products
    # {"first_name": "Camille", ...}: keys of booking.rules.pass_products.HOLDER_FIELDS only,
    # checked by booking.rules.pass_holders against the product's fields.
    holder: str = Field(default="{}", max_length=4000)
    code: str = Field(index=True, max_length=9)  # "K7M-4QX", the reference alphabet
    secret: str = Field(index=True, max_length=64)  # what the QR's /t/<secret> carries
    credit_minor: int = 0  # in the product's currency (resale credit, later)
    # A pass with choice: the dates still to pick (a conditional decrement takes one); None for
    # an automatic pass.
    choices_left: int | None = None
    created_at: datetime = utc()
    # The pass this one renews (last season's); unique: a pass is renewed into one pass.
    renewed_from_id: int | None = Field(default=None, foreign_key="seasonpass.id", unique=True)
    photo_id: int | None = Field(default=None, foreign_key="passphoto.id")


class PassPhoto(SQLModel, table=True):
    """A holder's photo, uploaded before the pass exists (the bot asks it among the holder
    fields), re-encoded as a small JPEG (no metadata kept), printed on the card and the PDF.
    A renewal's pass points at the same photo."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id"), nullable=False, index=True)
    )
    content_type: str = Field(default="image/jpeg", max_length=30)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    width: int
    height: int
    created_at: datetime = utc()
