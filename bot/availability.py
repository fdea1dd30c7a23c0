"""What the wizard may offer of a date or a ticket type right now, and the "N left" note."""

from __future__ import annotations

from booking.services.catalog import Offer
from bot.i18n import ngettext


def left_note(remaining: int, threshold: int) -> str:
    """'12 places left' when the event shows it: some left, fewer than its threshold (0 never)."""
    if 0 < remaining < threshold:
        return ngettext("{n} place left", "{n} places left", remaining)
    return ""


def quantities(offer: Offer) -> range:
    """The numbers of places that can be held now: from the tariff's minimum up to its
    maximum per booking or what is left, whichever is lower. Empty: none can."""
    return range(offer.min_quantity, min(offer.max_quantity, offer.remaining) + 1)
