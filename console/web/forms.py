"""Reading submitted forms: each field parsed once, its error kept next to it, every value
kept as typed so that a refused form comes back exactly as the organizer left it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from booking.errors import BookingError
from console.web.labels import N_

REQUIRED = N_("Required.")
NOT_A_NUMBER = N_("Enter a whole number.")
NOT_AN_AMOUNT = N_("Enter an amount such as 45.00.")
NOT_A_DATE = N_("Enter a date.")
NOT_A_TIME = N_("Enter a time such as 19:30.")
NOT_A_CHOICE = N_("Choose one of the options.")
TOO_LONG = N_("Too long.")
OUT_OF_RANGE = N_("Out of range.")
# A save refused because someone saved the same record meanwhile (a stale version).
STALE = N_(
    "Someone changed this meanwhile, so nothing was saved. Beside each field that differs you "
    "see what is saved now; what you typed is kept. Save again to replace the saved values."
)
SAVED_NOW = N_("Saved now: {saved} · you typed: {typed}")
EMPTY = N_("(empty)")
YES = N_("yes")
NO = N_("no")

# BookingError codes that belong to one field of the form that caused them.
FIELD_OF_ERROR: dict[str, str] = {
    "date_in_past": "until",
    "date_after_performance": "until",
    "invalid_email": "email",
    "email_taken": "email",
    "weak_password": "password",
    "name_taken": "name",
    "reason_required": "note",
    "bad_reason": "reason",
    "bad_currency": "currency",
    "currency_locked": "currency",
}

# Service field names that a form shows under another name.
FIELD_ALIASES = {"reminder_offsets": "reminder_hours", "price_minor": "price"}


class Form:
    """``values`` is what was typed (re-shown as is); ``errors`` maps a field to its message."""

    def __init__(
        self,
        data: FormData | Mapping[str, str] | None,
        gettext: Callable[[str], str],
        **defaults: str | list[str],
    ) -> None:
        self._ = gettext
        self.values: dict[str, str | list[str]] = dict(defaults)
        self._lists: dict[str, list[str]] = {}
        if isinstance(data, FormData):
            for key in data:
                items = [v for v in data.getlist(key) if isinstance(v, str)]
                self._lists[key] = items
                self.values[key] = items[0] if len(items) == 1 else items
        elif data is not None:
            self.values.update(data)
        self.errors: dict[str, str] = {}
        self.problem: str = ""  # an error about the whole form

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problem

    def get(self, name: str) -> str:
        value = self.values.get(name, "")
        return value if isinstance(value, str) else (value[0] if value else "")

    def checked(self, name: str, option: str = "on") -> bool:
        value = self.values.get(name, [])
        return option in value if isinstance(value, list) else value == option

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, self._(message))

    def stale(
        self,
        saved: Form,
        *,
        typed: Form | None = None,
        words: Mapping[str, Mapping[str, str]] | None = None,
    ) -> tuple[str, ...]:
        """The record changed since this form was read: say so, note beside each field that
        differs what is saved now and what was typed, keep the typing in the inputs, and carry
        the current version so that saving again goes through.

        ``saved`` is the form as built from the record now (it holds the current ``version``);
        ``typed`` the same builder fed with what was typed, so that "12,5" and "12.50" or
        "72,24" and "72, 24" compare equal (default: the raw typing). ``words`` shows coded
        values as the page does ({"policy": {"firm": "Firm"}}). Returns the fields that differ.
        """
        canonical = typed or self
        words = words or {}
        changed = []
        for name in dict.fromkeys([*saved.values, *canonical.values]):
            if name in ("version", "csrf"):
                continue
            now = _items(saved.values.get(name, ""))
            if now == _items(canonical.values.get(name, "")):
                continue
            shown = words.get(name, {})
            typed_now = _items(self.values.get(name, ""))
            self.errors[name] = self._(SAVED_NOW).format(
                saved=self._shown(now, shown), typed=self._shown(typed_now, shown)
            )
            changed.append(name)
        self.values["version"] = saved.get("version")
        self.problem = self._(STALE)
        return tuple(changed)

    def _shown(self, items: tuple[str, ...], words: Mapping[str, str]) -> str:
        if not items:
            return words.get("", self._(EMPTY))
        return ", ".join(words.get(v, v) for v in items)

    def booking_error(self, exc: BookingError, text: str, *, field: str | None = None) -> None:
        """Put a service's refusal next to its field when it has one, else above the form."""
        name = field or FIELD_OF_ERROR.get(exc.code) or exc.params.get("field")
        if isinstance(name, str) and name:
            name = FIELD_ALIASES.get(name, name)
            self.errors.setdefault(name, text)
        else:
            self.problem = text

    # -- typed readers; each returns None (and records an error) when the value is refused --

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.get(name).strip()
        if required and not value:
            self.error(name, REQUIRED)
        elif len(value) > max_length:
            self.error(name, TOO_LONG)
        return value

    def integer(
        self, name: str, *, required: bool = False, low: int | None = None, high: int | None = None
    ) -> int | None:
        raw = self.get(name).strip()
        if not raw:
            if required:
                self.error(name, REQUIRED)
            return None
        if not re.fullmatch(r"-?\d{1,9}", raw):
            self.error(name, NOT_A_NUMBER)
            return None
        value = int(raw)
        if (low is not None and value < low) or (high is not None and value > high):
            self.error(name, OUT_OF_RANGE)
            return None
        return value

    def amount(self, name: str, *, required: bool = True, digits: int = 2) -> int | None:
        """'45', '45.5', '45.50' or '45,50' -> 4550 minor units of a currency with ``digits``
        decimals (JPY has none: '4500' -> 4500, and '45.50' is refused)."""
        raw = self.get(name).strip().replace(",", ".").replace("'", "").replace(" ", "")
        if not raw:
            if required:
                self.error(name, REQUIRED)
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.error(name, NOT_AN_AMOUNT)
            return None
        scaled = value.scaleb(digits)
        if value < 0 or value > 1_000_000 or scaled != scaled.to_integral_value():
            self.error(name, NOT_AN_AMOUNT)
            return None
        return int(scaled)

    def day(self, name: str, *, required: bool = False) -> date | None:
        raw = self.get(name).strip()
        if not raw:
            if required:
                self.error(name, REQUIRED)
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.error(name, NOT_A_DATE)
            return None

    def moment(
        self, day_field: str, time_field: str, timezone: str, *, required: bool = True
    ) -> datetime | None:
        """A date and a time typed at the venue, as aware UTC."""
        day = self.day(day_field, required=required)
        raw = self.get(time_field).strip()
        if not re.fullmatch(r"\d{1,2}:\d{2}", raw):
            if raw or required:
                self.error(time_field, NOT_A_TIME if raw else REQUIRED)
            return None
        hours, minutes = (int(p) for p in raw.split(":"))
        if hours > 23 or minutes > 59:
            self.error(time_field, NOT_A_TIME)
            return None
        if day is None:
            return None
        return datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(timezone))

    def choice(
        self, name: str, options: Iterable[str], *, required: bool = True, default: str = ""
    ) -> str:
        value = self.get(name).strip() or default
        if not value and not required:
            return ""
        if value not in set(options):
            self.error(name, NOT_A_CHOICE if value else REQUIRED)
            return ""
        return value

    def many(self, name: str, options: Iterable[str]) -> tuple[str, ...]:
        allowed = list(options)
        chosen = self._lists.get(name)
        if chosen is None:
            raw = self.values.get(name, [])
            chosen = raw if isinstance(raw, list) else [raw]
        if any(v not in allowed for v in chosen if v):
            self.error(name, NOT_A_CHOICE)
        return tuple(v for v in allowed if v in chosen)

    def flag(self, name: str) -> bool:
        return self.get(name) in ("on", "1", "true", "yes")


def _items(value: str | list[str]) -> tuple[str, ...]:
    """A field's value for comparison: one text, or the ticked options in a stable order."""
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    return tuple(sorted(v.strip() for v in value if v.strip()))


def yes_no(gettext: Callable[[str], str]) -> dict[str, str]:
    """How a stale form shows a checkbox's value."""
    return {"on": gettext(YES), "": gettext(NO)}


def int_or_none(raw: str) -> int | None:
    """A query parameter as an id; anything else is ignored (filters are forgiving)."""
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def date_or_none(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
