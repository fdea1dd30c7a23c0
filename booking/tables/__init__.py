"""SQLModel tables by area. Importing this package registers every table on the metadata."""

from booking.tables import bookings, catalog, channels, customers, desk, identity, outbox, staff
from booking.tables.base import metadata

__all__ = [
    "bookings",
    "catalog",
    "channels",
    "customers",
    "desk",
    "identity",
    "metadata",
    "outbox",
    "staff",
]
