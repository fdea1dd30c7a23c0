"""One gettext catalogue (English source, French translation) for every channel.

The catalogue lives as ``.po`` files in ``booking/locales/<locale>/LC_MESSAGES``: ``guichet.po``
for the core, one more per adapter (``bot.po``, ``mail.po``, ``console.po``) so that work on
one channel never conflicts with another. They are merged and compiled in memory on first use:
no build step and no binary file in the repository.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from booking.errors import MESSAGES, BookingError
from booking.rules.formatting import LOCALES, pick_locale

LOCALE_DIR = Path(__file__).with_name("locales")


def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


STATE = "booking state"  # msgctxt of STATUS_WORDS in guichet.po
# A booking's state inside a sentence ("Booking X is {status}…"): the stored code is never
# shown as it is.
STATUS_WORDS: dict[str, str] = {
    "held": N_("held"),
    "overdue": N_("overdue"),
    "confirmed": N_("paid"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
}


class PluralFormsMismatch(ValueError):
    """A translated plural entry with a form missing for the catalogue's Plural-Forms."""


def _read(paths: list[Path], locale: str) -> Catalog:
    """The .po files merged in order, the last one winning: plural entries (msgid_plural,
    msgstr[0], msgstr[1]) are kept whole, and the first file's Plural-Forms header rules."""
    catalog: Catalog | None = None
    for path in paths:
        with path.open("rb") as po:
            part = read_po(po, locale=locale)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id:
                catalog[message.id] = message
    assert catalog is not None  # callers pass at least one path
    for message in catalog:
        # Babel fills a missing msgstr[i] with "", which ngettext would then show as nothing.
        forms = message.string if isinstance(message.string, (tuple, list)) else ()
        if message.pluralizable and any(forms) and not all(forms):
            raise PluralFormsMismatch(f"{message.id!r} lacks a plural form")
    return catalog


def compile_catalog(paths: list[Path], locale: str) -> gettext.GNUTranslations:
    """The merged files compiled in memory (no .mo file in the repository)."""
    buffer = io.BytesIO()
    write_mo(buffer, _read(paths, locale))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def catalog_paths(locale: str) -> list[Path]:
    return sorted((LOCALE_DIR / pick_locale(locale) / "LC_MESSAGES").glob("*.po"))


@cache
def translations(locale: str) -> gettext.NullTranslations:
    locale = pick_locale(locale)
    paths = catalog_paths(locale)
    if locale == "en" or not paths:
        return gettext.NullTranslations()
    return compile_catalog(paths, locale)


def gettext_for(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def ngettext_for(locale: str, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` that fits ``n`` in ``locale`` (French: 0 and 1 are
    singular). Placeholders are left for the caller to fill."""
    return translations(locale).ngettext(singular, plural, n)


def pgettext_for(locale: str, context: str, message: str) -> str:
    """``message`` in the sense ``context`` gives it (msgctxt): a short word such as "held"
    may mean something else on another screen of the one merged catalogue."""
    return translations(locale).pgettext(context, message)


def status_word(locale: str, status: str) -> str:
    """'cancelled' -> "annulée": a stored state as a word of a sentence."""
    if status not in STATUS_WORDS:
        return status
    return pgettext_for(locale, STATE, STATUS_WORDS[status])


def error_text(error: BookingError, locale: str) -> str:
    """The refusal in the user's language, with its parameters filled in (a state code among
    them read as a word of that language)."""
    params = dict(error.params)
    if isinstance(params.get("status"), str):
        params["status"] = status_word(locale, params["status"])
    return gettext_for(locale, MESSAGES[error.code]).format(**params)


__all__ = [
    "LOCALES",
    "N_",
    "catalog_paths",
    "compile_catalog",
    "error_text",
    "gettext_for",
    "ngettext_for",
    "pgettext_for",
    "status_word",
    "translations",
]
