"""SQLModel tables by area. Importing this package registers every table on the metadata."""

from booking.tables import (
    bookings,
    catalog,
    channels,
    checkin,  # issue 12, door helper
    customers,
    desk,
    holder_access,  # issue 13, the holder page's sign-in
    identity,
    outbox,
    pass_credit,  # issue 12, a pass's credit ledger
    passes,  # issue 12, pass products
    renewals,  # issue 12, renewal campaigns
    resale,  # issue 13, resale settings and listings
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
    "holder_access",
    "identity",
    "metadata",
    "outbox",
    "pass_credit",
    "passes",
    "renewals",
    "resale",
    "staff",
]
