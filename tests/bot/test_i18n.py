"""Every text of the bot has a French translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from booking.i18n import translations

BOT = Path(__file__).resolve().parents[2] / "bot"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
SAME_IN_FRENCH = {"« Sections"}  # the same word in both languages


def bot_messages() -> list[str]:
    """Every string literal marked with _() or N_() under bot/, as a translator sees them."""
    found: dict[str, None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(BOT), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
    ):
        text = message[0] if isinstance(message, tuple) else message
        if text:
            found[text] = None
    return list(found)


MESSAGES = bot_messages()


def test_the_bot_has_its_texts_in_the_catalogue() -> None:
    assert len(MESSAGES) > 100  # the extraction itself works


@pytest.mark.parametrize("message", MESSAGES)
def test_every_bot_text_has_french_with_the_same_placeholders(message: str) -> None:
    french = translations("fr").gettext(message)
    assert french != message or message in SAME_IN_FRENCH, f"no French for {message!r}"
    assert sorted(PLACEHOLDER.findall(french)) == sorted(PLACEHOLDER.findall(message))
    assert french.format(**{name: "x" for name in PLACEHOLDER.findall(message)})
