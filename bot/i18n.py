"""Bot texts through the core's gettext catalogue (French in booking/locales/fr/.../bot.po).

Write every user-visible string in English as ``_("...")`` (or ``N_("...")`` where it is only
marked, to be translated later); ``_`` translates into the language of the update being
handled, which the outer middleware sets once per update.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from booking.i18n import gettext_for, ngettext_for
from booking.rules.formatting import pick_locale

_locale: ContextVar[str] = ContextVar("guichet_bot_locale", default="en")


def current_locale() -> str:
    return _locale.get()


def set_locale(locale: str | None) -> str:
    """Set the language of the current update (the update's task owns its context)."""
    chosen = pick_locale(locale)
    _locale.set(chosen)
    return chosen


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Render in ``locale`` for a block (outbox deliveries, which are not updates)."""
    token = _locale.set(pick_locale(locale))
    try:
        yield
    finally:
        _locale.reset(token)


def _(message: str, /, **params: object) -> str:
    """``message`` in the current language, placeholders filled in."""
    text = gettext_for(_locale.get(), message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The form that fits ``n`` in the current language ("1 place", "2 places"); ``{n}`` and
    the other placeholders filled in."""
    return ngettext_for(_locale.get(), singular, plural, n).format(n=n, **params)


def N_(message: str, /) -> str:
    """Marks a message for the catalogue; translated later with ``_``."""
    return message
