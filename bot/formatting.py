"""Dates, money and booking states as the customer reads them, in the update's language."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from booking.rules.formatting import money as _money
from booking.rules.formatting import when as _when
from booking.views import SeatPlace
from bot.i18n import N_, _, current_locale

STATUS = {
    "held": N_("held, not paid yet"),
    "overdue": N_("past its deadline, waiting for the organizer"),
    "confirmed": N_("paid"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
}


def money(amount_minor: int, currency: str) -> str:
    return _money(amount_minor, currency, current_locale())


def when(at: datetime, timezone: str) -> str:
    """The long form with the timezone, for deadlines and summaries."""
    return _when(at, timezone, current_locale())


def short(at: datetime, timezone: str) -> str:
    """'Fri 24 Dec, 19:30': short enough for a button, in the venue's local time."""
    local = at.astimezone(ZoneInfo(timezone))
    return format_datetime(local, "EEE d MMM, HH:mm", locale=current_locale())


def day(on: date) -> str:
    return format_date(on, "EEE d MMM y", locale=current_locale())


def seat(place: SeatPlace) -> str:
    """'Stalls · rang C · place 12' in the update's language."""
    return place.label(current_locale())


def status(code: str) -> str:
    return _(STATUS.get(code, code))


def clip(text: str, limit: int) -> str:
    """Button labels and invoice titles have hard limits; cut on a character, add an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
