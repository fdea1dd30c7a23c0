"""Every user-visible message has a French translation, and placeholders survive it."""

from __future__ import annotations

import re

import pytest

from booking.errors import MESSAGES, BookingError
from booking.i18n import error_text, translations
from booking.notices import BODIES, SUBJECTS

ALL = sorted(set(MESSAGES.values()) | set(SUBJECTS.values()) | set(BODIES.values()))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("message", ALL)
def test_every_message_has_a_french_translation_with_the_same_placeholders(message: str) -> None:
    french = translations("fr").gettext(message)
    assert french != message, f"no French for {message!r}"
    assert set(PLACEHOLDER.findall(french)) == set(PLACEHOLDER.findall(message))


def test_errors_render_in_the_users_language_with_their_parameters() -> None:
    error = BookingError("bad_quantity", min=1, max=4)
    assert error_text(error, "en") == "Please choose between 1 and 4 places."
    assert error_text(error, "fr-CH") == "Choisissez entre 1 et 4 places."
    assert error_text(error, "de") == "Please choose between 1 and 4 places."  # falls back


def test_unknown_error_codes_are_refused_at_the_raise_site() -> None:
    with pytest.raises(ValueError, match="unknown error code"):
        BookingError("no_such_code")
