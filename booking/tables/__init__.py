"""SQLModel tables by area. Importing this package registers every table on the metadata."""

from booking.tables import (
    bookings,
    catalog,
    channels,
    checkin,  # issue 12, door helper
    customers,
    desk,
    identity,
    outbox,
    passes,  # issue 12, pass products
    renewals,  # issue 12, renewal campaigns
    staff,
)
from booking.tables.base import metadata

__all__ = [
    "bookings",
    "catalog",
    "channels",
    "checkin",
    "customers",
    "desk",
    "identity",
    "metadata",
    "outbox",
    "passes",
    "renewals",
    "staff",
]
