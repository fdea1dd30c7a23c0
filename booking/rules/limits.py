"""How long a typed value may be, in every channel. One place, so the bot, the email replies
and the console cap the same text at the same length and say so (never a silent cut)."""

from __future__ import annotations

from booking.errors import BookingError

NAME_MAX = 200  # a customer's name (the column holds 200)
EMAIL_MAX = 254  # RFC 5321's longest usable address
REASON_MAX = 500  # a cancellation note, the reason for more time


def capped(text: str, limit: int) -> str:
    """``text`` stripped; a BookingError("too_long") when longer than ``limit``."""
    text = text.strip()
    if len(text) > limit:
        raise BookingError("too_long", max=limit, length=len(text))
    return text
