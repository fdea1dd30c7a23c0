"""Text from the outside world made safe to store and to put in a header or a message.

A name or a subject comes from a Telegram profile, a form, an email or a CSV file; a control
character in it (a newline above all) would break the header of every email sent to that
person, or smuggle a second header in. So names and subjects are cleaned where they come in,
and again where they go into a header (``mail.channel``): either place alone could be missed.
"""

from __future__ import annotations

import unicodedata

# Cc: controls (\n, \r, \t, NUL, DEL, C1); Cf: format characters that can hide or reorder text
# (bidi overrides, zero-width joiners are kept out of names too). Zs spaces become one space.
_DROP = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SEPARATORS = frozenset({"Zl", "Zp"})  # U+2028 / U+2029: line and paragraph separators


def single_line(text: str, limit: int = 200) -> str:
    """``text`` on one line: controls and separators become spaces, runs of spaces collapse,
    the ends are trimmed, and the result is cut to ``limit`` characters."""
    chars = (
        " " if unicodedata.category(c) in _SEPARATORS or c in "\t\r\n\v\f\x85" else c for c in text
    )
    kept = "".join(c for c in chars if unicodedata.category(c) not in _DROP)
    return " ".join(kept.split())[:limit].strip()
