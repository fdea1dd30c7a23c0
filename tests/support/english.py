"""Finds English left in a French page or email.

A small stop-list of words that are English only: none of them is a French word, and none
appears in any French msgstr of booking/locales (``test_the_stop_list_is_not_french`` checks
it), so a hit in a French rendering is a string that skipped the catalogue. What the test put
in the database (names, emails, tariffs, titles) and brand words are removed first, as are
URLs and bot commands ("/tickets"), which are not words a reader reads as a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

STOP_WORDS = (
    # function words of any English sentence
    "the", "and", "with", "of", "is", "are", "was", "your", "you", "this", "that", "has",
    "been", "will", "to", "for", "from", "by",
    # the booking desk's own nouns and states
    "seat", "seats", "row", "rows", "ticket", "tickets", "booking", "bookings", "held",
    "paid", "cancelled", "expired", "overdue", "pending", "approved", "denied", "release",
    "released", "job", "deadline", "customer", "customers", "scheduler",
)  # fmt: skip
# "place(s)", "ticket(s)", "booking(s)": English-style plurals (French would be "place(s)"
# too, so any "(s)" counts: a plural belongs to ngettext).
PLURAL_HACK = re.compile(r"\w\(s\)")
WORDS = re.compile(r"(?<![\w/@.-])(" + "|".join(STOP_WORDS) + r")(?![\w@-])", re.IGNORECASE)
URL = re.compile(r"(?:https?://|mailto:)\S+")
BRANDS = ("Guichet", "Telegram", "Stripe")
# Attributes a reader sees (tooltips, placeholders, screen readers, the mobile table labels).
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-label"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def english_in(text: str, data: Iterable[str] = ()) -> list[str]:
    """Each stop word (or "x(s)") left in ``text``, with a little context, once ``data`` (the
    strings the test inserted), URLs and brand words are taken out."""
    for value in sorted({*data, *BRANDS}, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    text = URL.sub(" ", text)
    found = []
    for match in [*WORDS.finditer(text), *PLURAL_HACK.finditer(text)]:
        start, end = max(0, match.start() - 30), match.end() + 30
        found.append(" ".join(text[start:end].split()))
    return found
