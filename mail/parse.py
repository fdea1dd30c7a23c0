"""Raw RFC 5322 bytes in, the few facts the inbound pipeline needs out.

Pure: no network, no database.  Mail from the wild is malformed in every way imaginable and
the stdlib ``email`` package still raises on some of it, so every extraction step degrades
to an empty value instead of raising: a message we cannot read fully must still be recorded
(deduplicated by Message-ID, classified, answered with help) rather than retried forever.

The one exception: a message the stdlib cannot read at all (its address parser recursing
without end on ``From: ((((…`` raises RecursionError) raises, and the caller records it once as
"unreadable" (``mail.inbound``), so it is never retried.

Hostile headers: before the parser or any pattern sees them, every header field is cut to
``MAX_HEADER_FIELD`` bytes and the header section to ``MAX_HEADER_SECTION`` (``cap_headers``,
plain byte scanning). No pattern here can backtrack super-linearly: ``_MSG_ID`` has one
possible split per start, and the bare Message-ID form is checked with string methods.

Size: an oversized message is *not* an exception.  ``parse_message`` returns it with
``is_oversized=True``, headers read and the body skipped, because the caller still needs its
Message-ID to record it once and its sender to tell them it was too large (SPEC §11).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from typing import TypeVar

from mail.headers import CLASSIFY_HEADERS
from mail.quotes import html_to_text

_T = TypeVar("_T")

# Where our plus-addressed Reply-To comes back: the visible recipients, and the envelope
# recipient that delivery agents record when the reply was Bcc'd or redirected.
_TOKEN_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
_MAX_MESSAGE_ID = 255  # fits a VARCHAR(255) unique column on every database
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_NOT_IN_BARE_ID = frozenset("<>")
# RFC 5322 lines are at most 998 octets; a long References header folds over many lines.
# Fields longer than this are cut (a Message-ID cut so reads as missing: a synthetic one).
MAX_HEADER_FIELD = 16_384
# Received/DKIM/ARC chains of real mail stay well under this.
MAX_HEADER_SECTION = 131_072
# Authentication-Results values kept for the DMARC check (one per hop, usually one or two).
_MAX_AUTH_RESULTS = 10
# Labels that mean windows-1252 in practice: Outlook writes ’ as 0x92 under a Latin-1 label
# (the WHATWG encoding standard makes the same call).
_CP1252_LABELS = frozenset({"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1"})


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    message_id: str  # without angle brackets; synthetic when the message has none
    in_reply_to: str | None
    references: tuple[str, ...]
    from_addr: str  # lowercased addr-spec, "" when missing or unreadable
    from_name: str
    to_addrs: tuple[str, ...]  # lowercased addr-specs of To only
    reply_token_candidates: tuple[str, ...]  # plus parts, in header order, deduplicated
    subject: str
    text: str  # best plain text of the body, "" when oversized or unreadable
    content_type: str  # top-level, e.g. "multipart/report"
    report_type: str  # the report-type parameter, lowercased, "" when absent
    delivery_status: str | None  # the message/delivery-status part of a DSN, as text
    headers: tuple[tuple[str, str], ...]  # (lowercased name, value) for CLASSIFY_HEADERS
    is_oversized: bool
    # Raw Authentication-Results values, in header order (the receiving server's is first).
    auth_results: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """First value of a kept header, None when absent."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


def parse_message(raw: bytes, *, max_bytes: int) -> ParsedMessage:
    """Parse ``raw``; raises only on a message the stdlib cannot read at all (see the module
    docstring)."""
    oversized = len(raw) > max_bytes
    capped = cap_headers(_header_section(raw, max_bytes) if oversized else raw)
    msg = BytesParser(policy=policy.default).parsebytes(capped)
    from_name, from_addr = next(iter(_addresses(msg, "from")), ("", ""))
    kept = ((name, _optional_header(msg, name)) for name in CLASSIFY_HEADERS)
    return ParsedMessage(
        message_id=_message_id(msg, raw),
        in_reply_to=next(iter(_msg_ids(_header(msg, "in-reply-to"))), None),
        references=tuple(_msg_ids(_header(msg, "references"))),
        from_addr=from_addr,
        from_name=from_name,
        to_addrs=tuple(addr for _, addr in _addresses(msg, "to")),
        reply_token_candidates=_token_candidates(msg),
        subject=_header(msg, "subject"),
        text="" if oversized else _safely(_best_text, msg, ""),
        content_type=_safely(EmailMessage.get_content_type, msg, "text/plain"),
        report_type=_safely(_report_type, msg, ""),
        delivery_status=None if oversized else _safely(_delivery_status, msg, None),
        headers=tuple((name, value) for name, value in kept if value is not None),
        is_oversized=oversized,
        auth_results=_auth_results(msg),
    )


def cap_headers(raw: bytes) -> bytes:
    """``raw`` with each header field cut to MAX_HEADER_FIELD bytes and the section to
    MAX_HEADER_SECTION; the body is left as it is. Linear byte scanning only."""
    end = _header_end(raw, len(raw))
    header, body = raw[:end], raw[end:]
    if len(header) <= MAX_HEADER_FIELD:
        return raw  # no field can be too long: the common case costs one find()
    kept: list[bytes] = []
    total = 0
    for field in _fields(header):
        if len(field) > MAX_HEADER_FIELD:
            field = field[:MAX_HEADER_FIELD].rstrip(b"\r\n") + b"\r\n"
        total += len(field)
        if total > MAX_HEADER_SECTION:
            break  # the rest of the header section is dropped
        kept.append(field)
    return b"".join(kept) + (body if body else b"\r\n")


def _fields(header: bytes) -> Iterator[bytes]:
    """Each header field with its continuation lines; a field's bytes past MAX_HEADER_FIELD
    are not even joined."""
    field: list[bytes] = []
    size = 0
    for line in header.splitlines(keepends=True):
        if field and line[:1] not in (b" ", b"\t"):
            yield b"".join(field)
            field, size = [], 0
        if size <= MAX_HEADER_FIELD:
            field.append(line)
            size += len(line)
    if field:
        yield b"".join(field)


def _header_end(raw: bytes, limit: int) -> int:
    """The offset just past the blank line that ends the header section (or ``limit``)."""
    found = [i for i in (raw.find(b"\n\n", 0, limit), raw.find(b"\n\r\n", 0, limit)) if i >= 0]
    if not found:
        return min(limit, len(raw))
    start = min(found)
    return start + (2 if raw[start : start + 2] == b"\n\n" else 3)


def _auth_results(msg: Message) -> tuple[str, ...]:
    values = [v for k, v in msg.raw_items() if k.lower() == "authentication-results"]
    return tuple(_clean(str(v)) for v in values[:_MAX_AUTH_RESULTS])


def _safely(extract: Callable[[EmailMessage], _T], msg: EmailMessage, default: _T) -> _T:
    try:
        return extract(msg)
    except Exception:  # the stdlib raises IndexError, AttributeError... on hostile input
        return default


def _header_section(raw: bytes, max_bytes: int) -> bytes:
    return raw[: _header_end(raw, max_bytes)]


def _unescape(text: str) -> str:
    """Turn the parser's surrogate escapes (raw 8-bit bytes, usually UTF-8) back into text."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        data = text.encode("utf-8", "replace")
    return data.decode("utf-8", "replace")


def _clean(value: str) -> str:
    """A header value on one line, as text."""
    return " ".join(_unescape(value).split())


def _optional_header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot parse: fall back to its raw text
        value = next((v for k, v in msg.raw_items() if k.lower() == name), None)
    return None if value is None else _clean(str(value))


def _header(msg: Message, name: str) -> str:
    return _optional_header(msg, name) or ""


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lowercased addr-spec) pairs of every ``name`` header."""
    try:
        values = msg.get_all(name) or []
        pairs = [
            (a.display_name, a.addr_spec)
            for value in values
            for a in getattr(value, "addresses", None) or ()
        ] or getaddresses([str(v) for v in values])  # Delivered-To & co are unstructured
    except Exception:  # fall back to the lenient compat32-era parser on the raw text
        pairs = getaddresses([v for k, v in msg.raw_items() if k.lower() == name])
    return [(_clean(n), _clean(a).lower()) for n, a in pairs if "@" in a]


def _token_candidates(msg: Message) -> tuple[str, ...]:
    found: dict[str, None] = {}  # an ordered set
    for name in _TOKEN_HEADERS:
        for _, addr in _addresses(msg, name):
            local = addr.rpartition("@")[0]
            if "+" in local and (token := local.partition("+")[2]):
                found[token] = None
    return tuple(found)


def _msg_ids(value: str) -> list[str]:
    # Some clients omit the angle brackets; a lone bare word is still an id.
    return _MSG_ID.findall(value) or _bare_msg_id(value.strip())


def _bare_msg_id(value: str) -> list[str]:
    """``[value]`` when it reads as ``left@right`` with no space or angle bracket, else [].
    String methods, not a pattern: ``\\A[^<>\\s]+@[^<>\\s]+\\Z`` is quadratic on a long
    word without "@" (it retries every split)."""
    local, at, domain = value.partition("@")
    if not (at and local and domain) or _NOT_IN_BARE_ID & set(value):
        return []
    return [] if any(c.isspace() for c in value) else [value]


def _message_id(msg: Message, raw: bytes) -> str:
    """The Message-ID, or a stable synthetic one so that a re-fetch deduplicates."""
    ids = _msg_ids(_header(msg, "message-id"))
    if ids and len(ids[0]) <= _MAX_MESSAGE_ID:
        return ids[0]
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@guichet.invalid"


def _report_type(msg: EmailMessage) -> str:
    return str(msg.get_param("report-type", "") or "").lower()


def _best_text(msg: EmailMessage) -> str:
    """text/plain preferred, else HTML converted; attachments and forwarded parts ignored."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    if str(part.get_param("format", "")).lower() == "flowed":
        return _unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8, else windows-1252, else Latin-1.

    Each step is strict so that a wrong guess falls through instead of producing U+FFFD;
    Latin-1 maps every byte, so the chain always ends with text.
    """
    declared = (charset or "").strip().lower()
    declared = "cp1252" if declared in _CP1252_LABELS else declared
    for candidate in (declared, "utf-8", "cp1252"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, ValueError):  # unknown or odd label, binary codec, bad bytes
            continue
    return data.decode("latin-1")


def _unflow(text: str, *, delsp: bool) -> str:
    """Re-join RFC 3676 format=flowed lines (Thunderbird, Apple Mail) so a long command line
    reaches commands.py whole."""
    lines: list[tuple[str, str]] = []  # (quote marks, content)
    joining = False
    for line in text.split("\n"):
        content = line.lstrip(">")
        quote = line[: len(line) - len(content)]
        content = content[1:] if content.startswith(" ") else content  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        content = content[:-1] if soft and delsp else content
        if joining and lines and lines[-1][0] == quote:
            lines[-1] = (quote, lines[-1][1] + content)
        else:
            lines.append((quote, content))
        joining = soft
    return "\n".join(f"{quote} {content}" if quote else content for quote, content in lines)


def _delivery_status(msg: EmailMessage) -> str | None:
    """Text of the message/delivery-status part; the parser splits it into header blocks."""
    for part in _own_parts(msg):
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, str):  # a parser that did not split it into blocks
            return _clean_lines(payload)
        blocks = (
            "\n".join(f"{k}: {v}" for k, v in block.raw_items())
            for block in payload
            if isinstance(block, Message)
        )
        return _clean_lines("\n\n".join(blocks))
    return None


def _own_parts(part: Message) -> Iterator[Message]:
    """Like walk(), without descending into attached messages: a bounce that a customer
    forwards as an attachment must not make us mark its recipients undeliverable."""
    yield part
    if part.get_content_maintype() == "multipart":
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _own_parts(child)


def _clean_lines(text: str) -> str:
    return _unescape(text).replace("\r\n", "\n")
