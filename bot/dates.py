"""Reading a date a customer types: 24.12.2026, 24/12/2026, 2026-12-24, 24.12 or 24/12."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date

from bot.i18n import current_locale

_DAY_FIRST = re.compile(r"^\s*(\d{1,2})[./\- ](\d{1,2})(?:[./\- ](\d{2}|\d{4}))?\s*\.?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def parse_day(text: str, *, today: date) -> date | None:
    """The date meant, or None. Day first, as in French and British usage; without a year,
    the next such day from ``today`` on."""
    if m := _ISO.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    m = _DAY_FIRST.match(text)
    if m is None:
        return None
    day, month = int(m[1]), int(m[2])
    if m[3] is not None:
        year = int(m[3])
        return _make(year + 2000 if year < 100 else year, month, day)
    found = _make(today.year, month, day)
    if found is not None and found < today:
        found = _make(today.year + 1, month, day)
    return found


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def typed_example(on: date) -> str:
    """'07.12.2026': a day written the way ``parse_day`` reads it (day first), in digits so
    it reads the same in every language."""
    return format_date(on, "dd.MM.y", locale=current_locale())
