"""What the person newly wrote in a reply, and the text helpers every reader shares.

``strip_reply`` drops everything a mail client adds around a reply: ``>`` quotes, the
"On … wrote:" / "Le … a écrit :" attribution, Outlook's header block, forwarded and original
message separators, and signatures.  Two layouts matter:

* top-posting (Gmail, Outlook, phones): new text first, then a marker; we stop at the marker;
* bottom-posting (Apple Mail, Thunderbird users, mailing-list habits): an attribution and a
  ``>`` quote first, new text below; the attribution is dropped with its quote and reading
  goes on, so the non-quoted lines after the quote are kept.

An attribution *not* followed by ``>`` lines (clients that quote without marks) is a marker
like any other: whatever follows it is the old message.

``html_to_text`` lives here because it speaks the same contract: it turns <blockquote> into
``>`` marks so that an HTML-only reply is stripped exactly like a plain-text one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser

# All patterns run on fold()ed lines: lowercase, no accents.
_SIGNATURE = re.compile(
    r"(sent|envoye) (from|with|via|de|depuis|a partir de|avec) "
    r"|(get|obtenir|telecharger) outlook (for|pour)\b"
)
_SEPARATOR = re.compile(
    r"-{2,} ?(original message|message d'origine|message original|forwarded message"
    r"|message transfere|message reexpedie) ?-{2,}"
    r"|_{10,}"
    r"|(begin forwarded message|debut du message (reexpedie|transfere)) ?:"
)
_HEADER_FROM = re.compile(r"\*?(from|de) ?\*? ?:\*? ?\S")
_HEADER_SENT = re.compile(r"\*?(sent|envoye|date) ?\*? ?:")
_HEADER_SUBJECT = re.compile(r"\*?(subject|objet) ?\*? ?:")
_ATTRIBUTION = re.compile(r"(on\b.{0,300}\bwrote|le\b.{0,300}\ba ecrit) ?:")
_MAX_SIGNATURE_LENGTH = 60  # "Sent from my iPhone" is short; a sentence starting so is not
_ATTRIBUTION_LINES = 3  # Gmail wraps a long "On …, Name <address> wrote:" over two lines
_HEADER_BLOCK_LINES = 8


def strip_reply(text: str) -> str:
    """Return only the newly written lines of ``text``, trimmed; "" when there are none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        if _is_quoted(lines[index]):
            index += 1
            continue
        if _is_marker(lines, index):
            break
        span = _attribution_span(lines, index)
        if span and not _quote_follows(lines, index + span):
            break
        if span:
            index += span
            continue
        kept.append(lines[index])
        index += 1
    return _tidy(kept)


def fold(text: str) -> str:
    """Lowercase and strip accents, keeping every index: ``fold(s)[i]`` comes from ``s[i]``.

    Keywords and markers are matched on the folded text ("Réponse", "REPONSE", "réponse"
    all match) while slices are taken from the original, so users keep their accents.
    """
    return text.lower() if text.isascii() else "".join(map(_fold_char, text))


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    folded = base.lower()
    return folded if len(folded) == 1 else char


def _key(line: str) -> str:
    """A line as markers are matched: folded, spaces (incl. no-break) squeezed."""
    return " ".join(fold(line).split())


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_marker(lines: list[str], index: int) -> bool:
    line = lines[index]
    key = _key(line)
    if key == "--":  # the RFC 3676 "-- " signature separator, or a bare "--"
        return True
    if len(key) <= _MAX_SIGNATURE_LENGTH and _SIGNATURE.match(key):
        return True
    return bool(_SEPARATOR.fullmatch(key)) or _is_header_block(lines, index)


def _is_header_block(lines: list[str], index: int) -> bool:
    """Outlook's "From: … Sent: … To: … Subject:" (or "De : … Envoyé : … Objet :")."""
    if not _HEADER_FROM.match(_key(lines[index])):
        return False
    following = [_key(line) for line in lines[index + 1 : index + _HEADER_BLOCK_LINES]]
    return any(_HEADER_SENT.match(k) for k in following) and any(
        _HEADER_SUBJECT.match(k) for k in following
    )


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1 to 3) form an "On … wrote:" attribution starting here, else 0."""
    joined = ""
    for offset, line in enumerate(lines[index : index + _ATTRIBUTION_LINES]):
        if not line.strip() or _is_quoted(line):
            return 0
        joined = f"{joined} {_key(line)}".strip()
        if _ATTRIBUTION.fullmatch(joined):
            return offset + 1
    return 0


def _quote_follows(lines: list[str], index: int) -> bool:
    following = (line for line in lines[index:] if line.strip())
    return _is_quoted(next(following, ""))


def _tidy(lines: list[str]) -> str:
    """Right-strip lines, squeeze runs of blank lines, drop leading and trailing ones."""
    out: list[str] = []
    for line in (line.rstrip() for line in lines):
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: one line per block, ``> `` for each blockquote level
    (Gmail and Apple Mail quote with <blockquote>), line breaks of <pre> kept."""
    converter = _HtmlText()
    try:
        converter.feed(html)
        converter.close()
    except AssertionError:  # html.parser gives up on some broken markup; keep what we read
        pass
    converter.flush(force=False)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(converter.lines)).strip("\n")


class _HtmlText(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title", "template"})
    _BLOCK = frozenset({"p", "div", "li", "tr", "table", "ul", "ol", "blockquote", "pre", "hr"})
    _BLOCK |= frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._chunks: list[str] = []
        self._skipping = self._quote_depth = self._line_depth = self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag == "br":
            self.flush(force=True)
        elif tag in self._BLOCK:
            self.flush(force=False)
        elif tag in ("td", "th"):
            self.handle_data(" ")  # cells of a row stay on one line, apart
        self._quote_depth += tag == "blockquote"
        self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.flush(force=False)
        self._quote_depth = max(0, self._quote_depth - (tag == "blockquote"))
        self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        # Source newlines are layout, except in <pre> (some webmails wrap plain text in it).
        first, *others = data.split("\n") if self._pre else [data]
        self._add(first)
        for line in others:
            self.flush(force=True)
            self._add(line)

    def _add(self, data: str) -> None:
        if not self._chunks:
            self._line_depth = self._quote_depth
        self._chunks.append(data)

    def flush(self, *, force: bool) -> None:
        """End the current line.  Source newlines between tags are not lines, but a <br>
        is, and so is Outlook's empty paragraph (<p>&nbsp;</p>), its blank-line idiom."""
        chunk = "".join(self._chunks)
        self._chunks = []
        text = " ".join(chunk.split())
        if text:
            self.lines.append("> " * self._line_depth + text)
        elif force or "\xa0" in chunk:
            self.lines.append("")
