"""Money and dates as a person reads them, in their language and the event's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency

LOCALES = ("en", "fr")


def pick_locale(code: str | None) -> str:
    """'fr-CH' -> 'fr'; anything we do not speak -> 'en'."""
    base = (code or "en").split("-")[0].split("_")[0].lower()
    return base if base in LOCALES else "en"


def money(amount_minor: int, currency: str, locale: str) -> str:
    return format_currency(amount_minor / 100, currency, locale=pick_locale(locale))


def when(at: datetime, timezone: str, locale: str) -> str:
    """'Fri 24 Dec 2026, 23:59 (Europe/Zurich)': the venue's local time, said plainly."""
    local = at.astimezone(ZoneInfo(timezone))
    pattern = "EEE d MMM y, HH:mm"
    return f"{format_datetime(local, pattern, locale=pick_locale(locale))} ({timezone})"
