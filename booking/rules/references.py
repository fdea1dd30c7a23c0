"""Booking references a person can read aloud over the phone: ``K7M-4QX``."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L, and no U/V pair either: every character is unambiguous aloud and on paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
_PATTERN = re.compile(rf"^[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}$")


def new_reference() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{chars[:3]}-{chars[3:]}"


def normalize_reference(text: str) -> str | None:
    """What a person typed ("k7m 4qx", "K7M4QX") as a reference, or None when it is not one."""
    compact = re.sub(r"[\s\-_.]", "", text.strip().upper())
    if len(compact) != 6:
        return None
    candidate = f"{compact[:3]}-{compact[3:]}"
    return candidate if _PATTERN.match(candidate) else None
