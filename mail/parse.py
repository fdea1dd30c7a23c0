"""Raw RFC 5322 bytes in, the few facts the inbound pipeline needs out.

Pure: no network, no database.  Mail from the wild is malformed in every way imaginable and
the stdlib ``email`` package still raises on some of it, so every extraction step degrades
to an empty value instead of raising: a message we cannot read fully must still be recorded
(deduplicated by Message-ID, classified, answered with help) rather than retried forever.

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
_BARE_MSG_ID = re.compile(r"\A([^<>\s]+@[^<>\s]+)\Z")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
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

    def header(self, name: str) -> str | None:
        """First value of a kept header, None when absent."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


def parse_message(raw: bytes, *, max_bytes: int) -> ParsedMessage:
    """Parse ``raw``; never raises on malformed input (see the module docstring)."""
    oversized = len(raw) > max_bytes
    msg = BytesParser(policy=policy.default).parsebytes(
        _header_section(raw, max_bytes) if oversized else raw
    )
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
    )


def _safely(extract: Callable[[EmailMessage], _T], msg: EmailMessage, default: _T) -> _T:
    try:
        return extract(msg)
    except Exception:  # the stdlib raises IndexError, AttributeError... on hostile input
        return default


def _header_section(raw: bytes, max_bytes: int) -> bytes:
    end = _HEADER_END.search(raw, 0, max_bytes)
    return raw[: end.end()] if end else raw[:max_bytes]


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
    return _MSG_ID.findall(value) or _BARE_MSG_ID.findall(value.strip())


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
