"""One gettext catalogue (English source, French translation) for every channel.

The catalogue lives as a ``.po`` file in ``booking/locales``; it is compiled in memory on first
use, so there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from booking.errors import MESSAGES, BookingError
from booking.rules.formatting import LOCALES, pick_locale

LOCALE_DIR = Path(__file__).with_name("locales")
DOMAIN = "guichet"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    locale = pick_locale(locale)
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == "en" or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_for(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def error_text(error: BookingError, locale: str) -> str:
    """The refusal in the user's language, with its parameters filled in."""
    return gettext_for(locale, MESSAGES[error.code]).format(**error.params)


__all__ = ["LOCALES", "error_text", "gettext_for", "translations"]
