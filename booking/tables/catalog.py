"""Seasons, venues (GA areas and numbered seats), events, performances, tariffs, gauges, seats."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from booking.tables.base import utc


class Season(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=40)
    starts_on: date
    ends_on: date


class Venue(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120)
    address: str = ""


class Area(SQLModel, table=True):
    """A part of a venue sold as one gauge: general admission, or a block of numbered seats."""

    __table_args__ = (UniqueConstraint("venue_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    venue_id: int = Field(foreign_key="venue.id", index=True)
    name: str = Field(max_length=80)
    kind: str = Field(default="ga", max_length=10)  # "ga" | "seated"
    capacity: int = Field(ge=0)


class Seat(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("area_id", "section", "row", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id", index=True)
    section: str = Field(max_length=40)
    block: str = Field(default="", max_length=40)
    row: str = Field(max_length=10)
    number: int
    # Order along the row, so that "best available together" means adjacent positions.
    position: int


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = ""
    season_id: int | None = Field(default=None, foreign_key="season.id")
    venue_id: int = Field(foreign_key="venue.id")
    timezone: str = Field(default="Europe/Zurich", max_length=60)
    # ISO 4217, checked against Babel's data by the catalogue services. Every tariff of the
    # event is priced in it (tariffs carry no currency of their own), so no booking, made of
    # one date's tariffs, can mix currencies.
    currency: str = Field(default="CHF", max_length=3)
    policy: str = Field(default="firm", max_length=10)  # "firm" | "flexible"
    days_after_booking: int | None = Field(default=7)
    days_before_event: int | None = Field(default=None)
    reminder_offsets: str = Field(default="4320,1440", max_length=100)  # minutes before deadline
    extension_days: int = Field(default=7)  # the organizer's default proposal
    auto_extend_days: int = Field(default=0)  # 0: every request waits for the organizer
    cancellation_allowed: bool = False
    max_per_order: int = Field(default=10)
    # Channels show "N left" when fewer than this remain on a date; 0 never shows it.
    show_remaining_below: int = Field(default=0, ge=0)
    picture_url: str = Field(default="", max_length=500)  # https only, checked by catalog_admin


class Performance(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    starts_at: datetime = utc(index=True)
    # Overrides of the event's settings for this date; None follows the event.
    policy: str | None = Field(default=None, max_length=10)
    days_after_booking: int | None = None
    days_before_event: int | None = None
    on_sale: bool = True


class Tariff(SQLModel, table=True):
    # A pass product's own tariff: one per included event, made by its first sale.
    __table_args__ = (UniqueConstraint("pass_product_id", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    area_id: int = Field(foreign_key="area.id")
    name: str = Field(max_length=80)
    price_minor: int = Field(ge=0)  # in the minor unit of the event's currency
    hold_channels: str = "telegram,email,console,import"  # may hold (reserve, pay later)
    buy_channels: str = "telegram,email,console,import"  # may buy
    customer_types: str = "individual,group,b2b"  # may hold; anyone may buy
    days_after_booking: int | None = None  # None: the event's rule
    days_before_event: int | None = None
    # Places of this tariff in one booking; None: only the event's max_per_order caps it.
    min_per_booking: int = Field(default=1, ge=1)
    max_per_booking: int | None = Field(default=None, ge=1)
    active: bool = True
    # Set: the tariff of a season pass's items (issue 12, docs/passes.md), never offered on its
    # own nor held by a single-date hold; its items carry their share of the pass's price.
    pass_product_id: int | None = Field(default=None, foreign_key="passproduct.id")


class Gauge(SQLModel, table=True):
    """Remaining places of one area for one performance. Holds decrement it like sales."""

    __table_args__ = (
        UniqueConstraint("performance_id", "area_id"),
        CheckConstraint("remaining >= 0 AND remaining <= capacity", name="remaining_in_range"),
    )
    id: int | None = Field(default=None, primary_key=True)
    performance_id: int = Field(foreign_key="performance.id", index=True)
    area_id: int = Field(foreign_key="area.id")
    capacity: int
    remaining: int


class SeatClaim(SQLModel, table=True):
    """Who holds a numbered seat at one performance: a booking item now, a season pass later.

    One row per (performance, seat) at most: the unique constraint is the guard against two
    holds on the same seat. A pass keeps a fixed seat by owning one claim per performance.
    """

    __table_args__ = (
        UniqueConstraint("performance_id", "seat_id"),
        Index("ix_seatclaim_item", "item_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    performance_id: int = Field(foreign_key="performance.id")
    seat_id: int = Field(foreign_key="seat.id")
    item_id: int | None = Field(default=None, foreign_key="item.id")
    pass_id: int | None = None
    # A seat kept for a pass holder during a renewal window (no item yet): the renewal's id.
    renewal_id: int | None = Field(default=None, foreign_key="renewal.id", index=True)
