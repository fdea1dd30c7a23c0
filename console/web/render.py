"""Jinja templates (templates/console) and the formatting helpers pages hand them."""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names, get_month_names
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context as TemplateContext

from booking.actors import actor_label
from booking.i18n import LOCALE_DIR as LOCALES_DIR
from booking.i18n import LOCALES, compile_catalog, gettext_for, translations
from booking.rules import formatting

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parent / "static"


@cache
def environment() -> Environment:
    """One environment for every language: the words come from ``_`` in each render's
    context, so nothing locale-specific is global. StrictUndefined turns a typo in a template
    into an error the tests see, not an empty cell."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["options"] = options
    env.filters["zip_label"] = zip_label
    # Words that depend on the page's language read it from the render's ``lang``, like ``_``
    # comes from each render's values: nothing locale-specific is global.
    env.globals["ngettext"] = _template_ngettext
    env.globals["actor"] = _template_actor
    return env


@cache
def customer_environment(locale: str) -> Environment:
    """The environment of the pages customers open from a link (the pay page, the renewal
    page): one per language, its words installed as Jinja's i18n ``_``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


def _page_locale(context: TemplateContext) -> str:
    lang = context.get("lang")
    return lang if isinstance(lang, str) else "en"


@pass_context
def _template_ngettext(
    context: TemplateContext, singular: str, plural_: str, n: int, **params: object
) -> str:
    """``{{ ngettext('{n} hold', '{n} holds', count) }}`` in the page's language."""
    return plural(_page_locale(context), singular, plural_, n, **params)


@pass_context
def _template_actor(context: TemplateContext, kind: str, name: str) -> str:
    """A history row's "who": a person's name, or a system actor in the page's language."""
    return actor_label(kind, name, _page_locale(context))


def zip_label(
    values: Iterable[str], kind: str, label: Callable[[str, str], str]
) -> list[tuple[str, str]]:
    """Codes -> (code, words) pairs for a <select> or checkboxes."""
    return [(v, label(kind, v)) for v in values]


def options(
    items: Iterable[object], value: str = "id", text: str = "name"
) -> list[tuple[str, str]]:
    """Rows -> (value, text) pairs for a <select>."""
    return [(str(getattr(i, value)), str(getattr(i, text))) for i in items]


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def _names(locale: str) -> tuple[dict[int, str], dict[int, str]]:
    """Abbreviated day (Monday = 0) and month (January = 1) names, as CLDR formats them."""
    days = get_day_names("abbreviated", context="format", locale=locale)
    months = get_month_names("abbreviated", context="format", locale=locale)
    return {k: str(v) for k, v in days.items()}, {k: str(v) for k, v in months.items()}


def _money(amount_minor: int, currency: str, locale: str) -> str:
    """The core's rule (booking.rules.formatting, cached there): the currency's own decimals
    (JPY none) and the locale's pattern, "CHF 136.00" / "136,00 CHF"."""
    return formatting.money(amount_minor, currency, locale)


def pick_locale(code: str | None) -> str:
    """'fr-CH' -> 'fr'; anything else -> 'en' (booking.rules.formatting's rule, which the
    console may not import: adapters see services, views, errors and i18n only)."""
    base = (code or "en").split("-")[0].split("_")[0].lower()
    return base if base in LOCALES else "en"


class Formats:
    """Money, dates and numbers in the staff member's language; times at the venue."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = pick_locale(locale)
        self.timezone = timezone

    def money(self, amount_minor: int | None, currency: str = "CHF") -> str:
        return _money(amount_minor or 0, currency, self.locale)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def at(self, value: datetime | None, timezone: str | None = None, *, tz: bool = False) -> str:
        """'Mon 23 Nov 2026, 10:00' at the venue (``timezone``), or a dash.

        CLDR's "EEE d MMM y, HH:mm" put together from the locale's names directly: Babel's
        pattern engine costs a tenth of a millisecond a call, and a page shows hundreds.
        """
        if value is None:
            return "–"
        zone = timezone or self.timezone
        local = value.astimezone(_zone(zone))
        days, months = _names(self.locale)
        text = (
            f"{days[local.weekday()]} {local.day} {months[local.month]} {local.year}, "
            f"{local.hour:02d}:{local.minute:02d}"
        )
        return f"{text} ({zone})" if tz else text

    def stored_at(self, value: object, timezone: str | None = None) -> str:
        """A moment kept as ISO text in a history row, shown like any other."""
        if not isinstance(value, str):
            return str(value)
        try:
            return self.at(datetime.fromisoformat(value), timezone)
        except ValueError:
            return value

    def day(self, value: date | datetime | None, timezone: str | None = None) -> str:
        if value is None:
            return "–"
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo(timezone or self.timezone)).date()
        return format_date(value, "EEE d MMM y", locale=self.locale)

    def iso_day(self, value: datetime | None, timezone: str | None = None) -> str:
        """The value of an <input type=date> for ``value`` at the venue."""
        if value is None:
            return ""
        return value.astimezone(ZoneInfo(timezone or self.timezone)).date().isoformat()

    def amount_input(self, amount_minor: int, currency: str = "CHF") -> str:
        """The value of a price field: '45.00', or '4500' for JPY."""
        return formatting.plain_amount(amount_minor, currency)


@cache
def _console_catalog(locale: str) -> dict[str, str]:
    """console.po on its own. Every channel's .po is merged into one catalogue where the last
    file wins, and a word like "Event" is "Spectacle" in the emails; the console keeps its own
    wording by looking here first, then in the merged catalogue (errors, notices)."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "console.po"
    if locale == "en" or not path.exists():
        return {}
    with path.open("rb") as po:
        messages = read_po(po, locale=locale)
    return {m.id: m.string for m in messages if isinstance(m.id, str) and isinstance(m.string, str)}


@cache
def _console_translations(locale: str) -> gettext_module.NullTranslations:
    """console.po compiled on its own (plural entries too), falling back to the merged
    catalogue: the same "console first" rule as ``translator``, for ngettext."""
    merged = translations(locale)
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "console.po"
    if locale == "en" or not path.exists():
        return merged
    own = compile_catalog([path], locale)
    own.add_fallback(merged)
    return own


def plural(locale: str, singular: str, plural_: str, n: int, **params: object) -> str:
    """The form that fits ``n`` ("1 hold", "3 holds"; French: 0 and 1 are singular), with
    ``{n}`` written the locale's way and the other placeholders filled in."""
    locale = pick_locale(locale)
    text = _console_translations(locale).ngettext(singular, plural_, n)
    return text.format(n=format_decimal(n, locale=locale), **params)


def translator(locale: str) -> Callable[[str], str]:
    locale = pick_locale(locale)
    own = _console_catalog(locale)

    def gettext(message: str) -> str:
        return own.get(message) or gettext_for(locale, message)

    return gettext


def render(template: str, values: dict[str, object]) -> str:
    return environment().get_template(template).render(values)
