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
from typing import cast

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from booking.errors import MESSAGES, BookingError
from booking.rules.formatting import LOCALES, pick_locale

LOCALE_DIR = Path(__file__).with_name("locales")


@cache
def translations(locale: str) -> gettext.NullTranslations:
    locale = pick_locale(locale)
    paths = sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))
    if locale == "en" or not paths:
        return gettext.NullTranslations()
    catalog = None
    for path in paths:
        with path.open("rb") as po:
            part = read_po(po, locale=locale)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id:
                catalog[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, cast(Catalog, catalog))  # paths is not empty: the loop set it
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_for(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def error_text(error: BookingError, locale: str) -> str:
    """The refusal in the user's language, with its parameters filled in."""
    return gettext_for(locale, MESSAGES[error.code]).format(**error.params)


__all__ = ["LOCALES", "error_text", "gettext_for", "translations"]
