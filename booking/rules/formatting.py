"""Money and dates as a person reads them, in their language and the event's timezone.

Amounts are kept as integers in the currency's minor unit, whose size CLDR (through Babel)
gives per currency: 4500 is CHF 45.00 (2 decimals) but ¥4,500 (JPY has none). Every place that
shows, parses or hands an amount over goes through ``minor_digits`` so no "/ 100" is left.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel.core import get_global
from babel.dates import format_datetime, get_timezone_location
from babel.numbers import (
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
)

LOCALES = ("en", "fr")
NBSP = "\u00a0"


def pick_locale(code: str | None) -> str:
    """'fr-CH' -> 'fr'; anything we do not speak -> 'en'."""
    base = (code or "en").split("-")[0].split("_")[0].lower()
    return base if base in LOCALES else "en"


# -- currencies ---------------------------------------------------------------------------------


@cache
def currencies() -> frozenset[str]:
    """ISO 4217 codes legal tender somewhere today, by CLDR's territory data: historic codes
    (DEM, FRF), funds, metals and test codes (XAU, XTS, XXX) and made-up ones (XYZ) are out.
    Read from the data itself rather than a date, so the rule stays free of the clock."""
    found = {
        code
        for entries in get_global("territory_currencies").values()
        for code, _start, end, tender in entries
        if end is None and tender
    }
    return frozenset(found)


def currency_code(text: str) -> str | None:
    """'chf ' -> 'CHF'; None when it is not a currency in use."""
    code = text.strip().upper()
    return code if code in currencies() else None


def currency_choices(locale: str) -> list[tuple[str, str]]:
    """(code, "CHF · Swiss Franc") for a <select>, in code order."""
    loc = pick_locale(locale)
    return [(c, f"{c} · {get_currency_name(c, locale=loc)}") for c in sorted(currencies())]


@lru_cache(maxsize=512)
def minor_digits(currency: str) -> int:
    """How many decimals the currency's minor unit has: CHF, EUR 2; JPY 0; BHD 3."""
    return int(get_currency_precision(currency.upper()))


def major(amount_minor: int, currency: str) -> Decimal:
    """4550 CHF -> Decimal('45.50'); 4550 JPY -> Decimal('4550'). Exact: no float."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def plain_amount(amount_minor: int, currency: str) -> str:
    """'45.50' (or '4550' for JPY): the value of a form field or a CSV cell."""
    digits = minor_digits(currency)
    return f"{major(amount_minor, currency):.{digits}f}"


def parse_amount(text: str, currency: str) -> int:
    """'45', '45.5', '45,50', "1'250.00" -> minor units of ``currency``. Raises ValueError
    for anything else, a negative amount, or more decimals than the currency has."""
    raw = text.strip().replace(",", ".").replace("'", "").replace(" ", "").replace(NBSP, "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value < 0:
        raise ValueError(text)
    scaled = value.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(text)
    return int(scaled)


# -- money as people read it ----------------------------------------------------------------


@lru_cache(maxsize=4096)
def money(amount_minor: int, currency: str, locale: str) -> str:
    """'CHF 136.00' in English, '136,00 CHF' in French, '¥5,000' for JPY: Babel's pattern
    for the locale, with the currency's own number of decimals."""
    loc = pick_locale(locale)
    text = format_currency(major(amount_minor, currency), currency, locale=loc)
    return _currency_spacing(text, get_currency_symbol(currency, locale=loc))


def _currency_spacing(text: str, symbol: str) -> str:
    """CLDR's currencySpacing rule, which Babel does not apply: a symbol that ends (or starts)
    with a letter, like "CHF", gets a no-break space before (after) the digits it touches, so
    English reads "CHF 136.00" and not "CHF136.00"; "€" and "¥" stay attached."""

    def wordlike(char: str) -> bool:
        return unicodedata.category(char)[0] not in "SZ"

    if symbol and wordlike(symbol[-1]):
        text = re.sub(rf"{re.escape(symbol)}(?=\d)", symbol + NBSP, text)
    if symbol and wordlike(symbol[0]):
        text = re.sub(rf"(?<=\d){re.escape(symbol)}", NBSP + symbol, text)
    return text


def when(at: datetime, timezone: str, locale: str) -> str:
    """'Thu 24 Dec 2026, 23:59 (Switzerland Time)', 'jeu. 24 déc. 2026, 23:59 (heure :
    Suisse)': the venue's local time with the place a person reads, from CLDR (through
    Babel), never the tz database name ("Europe/Zurich") nor an offset to work out."""
    shown = format_datetime(
        local_time(at, timezone), "EEE d MMM y, HH:mm", locale=pick_locale(locale)
    )
    return f"{shown} ({zone_name(timezone, locale)})"


def local_time(at: datetime, timezone: str) -> datetime:
    return at.astimezone(ZoneInfo(timezone))


@lru_cache(maxsize=256)
def zone_name(timezone: str, locale: str) -> str:
    """'Switzerland Time', 'heure : Suisse', 'United States (New York) Time'."""
    return str(get_timezone_location(ZoneInfo(timezone), locale=pick_locale(locale)))
