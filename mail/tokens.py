"""Signed reply tokens carried in plus-addressed Reply-To addresses.

A booking email says ``Reply-To: desk+<token>@venue.example``; the reply comes back with the
token in a recipient header and tells us which booking and customer it is about.  The token
is a *reference*, never an authority (house rule 11): the caller still checks that the
sender owns the booking and that the booking is in a state that allows the command.

Design constraints:

* Mail systems may upper- or lower-case the local part, so the alphabet is case-free:
  RFC 4648 base32, emitted lowercase, no ``=`` padding (``=`` is legal but scary in addresses).
* RFC 5321 limits a local part to 64 octets, so ``booking+<token>`` must fit: the token is at
  most 56 characters.  The MAC is truncated to 80 bits, which still makes forgery
  impractical (each guess has to go through our mailbox).
* There is no expiry: an old email about a booking stays answerable, and the service
  re-checks the booking's state anyway.

Bounce tokens (VERP) are a second kind, in the *envelope sender* of every message we send,
with or without a booking: ``desk+<bounce token>@venue.example``. A bounce comes back to that
address, and the token says which customer the message went to *and at which address* (a
48-bit digest of the normalized address). A bounce marks a customer undeliverable only on a
genuine bounce token whose digest matches the customer's current address: a bounce naming
other addresses, or one about an address the customer no longer has, marks nobody. They use
their own MAC purpose, so a reply token is never a bounce token and vice versa.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

MAX_TOKEN_LENGTH = 56  # len("booking+") + 56 == 64, the RFC 5321 local-part limit
MAX_LOCAL_PART = 64
_MAC_BYTES = 10  # 80 bits
_VERSION = 1
# Domain separation: the application secret also signs pay links and sessions, so a MAC
# computed here must never be valid in any other context (and vice versa).
_PURPOSE = b"guichet/mail/reply-token/v1\x00"
# 56 base32 characters carry 35 bytes; keep 1 for the version and the MAC.
_MAX_PAYLOAD = MAX_TOKEN_LENGTH * 5 // 8 - _MAC_BYTES - 1
_B32_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_BOUNCE_PURPOSE = b"guichet/mail/bounce-token/v1\x00"
_BOUNCE_VERSION = 2  # also differs from _VERSION: a body of one kind never reads as the other
_ADDRESS_DIGEST = 6  # 48 bits: telling one customer's old address from the new one


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: which booking, on behalf of which customer."""

    booking_ref: str
    customer_id: int


def make_reply_token(secret: bytes, booking_ref: str, customer_id: int) -> str:
    """Return a lowercase base32 token binding ``booking_ref`` to ``customer_id``.

    Raises ValueError for an empty secret, a negative id, a reference that is not printable
    ASCII without spaces, or a payload too long to fit the 64-octet local part.
    """
    if not secret:
        raise ValueError("reply token secret must not be empty")
    if customer_id < 0:
        raise ValueError("customer_id must not be negative")
    if not booking_ref or not booking_ref.isascii() or not booking_ref.isprintable():
        raise ValueError(f"booking_ref must be printable ASCII: {booking_ref!r}")
    if " " in booking_ref:
        raise ValueError(f"booking_ref must not contain spaces: {booking_ref!r}")
    payload = _encode_varint(customer_id) + booking_ref.encode("ascii")
    if len(payload) > _MAX_PAYLOAD:
        raise ValueError("booking_ref and customer_id are too long for a reply token")
    body = bytes([_VERSION]) + payload
    return _b32encode(body + _mac(secret, body))


def read_reply_token(secret: bytes, token: str) -> TokenClaims | None:
    """Return the claims of a genuine token, or None for anything forged, damaged or odd.

    Accepts any letter case because mail systems may have folded the address.
    """
    token = token.strip().lower()
    raw = _b32decode(token)
    # Reject non-canonical spellings (stray low bits in the last character) so that one
    # token has exactly one valid form and any edited character is detected.
    if raw is None or _b32encode(raw) != token or len(raw) < 1 + _MAC_BYTES + 2 or not secret:
        return None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    if body[0] != _VERSION:
        return None
    decoded = _decode_varint(body, 1)
    if decoded is None:
        return None
    customer_id, offset = decoded
    try:
        booking_ref = body[offset:].decode("ascii")
    except UnicodeDecodeError:
        return None
    if not booking_ref:
        return None
    return TokenClaims(booking_ref=booking_ref, customer_id=customer_id)


@dataclass(frozen=True, slots=True)
class BounceClaims:
    """What a valid bounce token says: the customer a message went to, and a digest of the
    address it was sent to (compare with ``address_digest`` of their current address)."""

    customer_id: int
    address_digest: bytes


def address_digest(secret: bytes, address: str) -> bytes:
    """A short keyed digest of the trimmed, lower-cased address (keyed: the token does not
    tell a reader which address it was, and nobody can precompute one)."""
    normalized = address.strip().lower().encode("utf-8")
    return hmac.new(secret, _BOUNCE_PURPOSE + b"address\x00" + normalized, hashlib.sha256).digest()[
        :_ADDRESS_DIGEST
    ]


def make_bounce_token(secret: bytes, customer_id: int, address: str) -> str:
    """A token for the envelope sender of a message to ``address`` (customer ``customer_id``).
    At most 42 characters (a 63-bit id): ``desk+<token>`` fits the 64-octet local part."""
    if not secret:
        raise ValueError("bounce token secret must not be empty")
    if customer_id < 0:
        raise ValueError("customer_id must not be negative")
    body = bytes([_BOUNCE_VERSION]) + _encode_varint(customer_id) + address_digest(secret, address)
    return _b32encode(body + _bounce_mac(secret, body))


def read_bounce_token(secret: bytes, token: str) -> BounceClaims | None:
    """The claims of a genuine bounce token, None for anything else (a reply token too)."""
    token = token.strip().lower()
    raw = _b32decode(token)
    if raw is None or _b32encode(raw) != token or not secret:
        return None
    if len(raw) < 1 + 1 + _ADDRESS_DIGEST + _MAC_BYTES:
        return None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _bounce_mac(secret, body)) or body[0] != _BOUNCE_VERSION:
        return None
    decoded = _decode_varint(body, 1)
    if decoded is None or len(body) - decoded[1] != _ADDRESS_DIGEST:
        return None
    return BounceClaims(customer_id=decoded[0], address_digest=body[decoded[1] :])


def reply_address(mailbox: str, token: str) -> str:
    """Turn ``desk@venue.example`` into ``desk+<token>@venue.example``.

    Raises ValueError when the mailbox has no domain, already carries a plus part (we would
    not know which one the reply comes back with), or the local part would exceed 64 octets.
    """
    local, at, domain = mailbox.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not a mailbox address: {mailbox!r}")
    if "+" in local:
        raise ValueError(f"mailbox already has a plus part: {mailbox!r}")
    if not token or not set(token) <= _B32_ALPHABET:
        raise ValueError(f"not a reply token: {token!r}")
    plus_local = f"{local}+{token}"
    if len(plus_local.encode("utf-8")) > MAX_LOCAL_PART:
        raise ValueError(f"local part longer than {MAX_LOCAL_PART} octets: {plus_local!r}")
    return f"{plus_local}@{domain}"


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + body, hashlib.sha256).digest()[:_MAC_BYTES]


def _bounce_mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _BOUNCE_PURPOSE + body, hashlib.sha256).digest()[:_MAC_BYTES]


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _b32decode(token: str) -> bytes | None:
    if not token or len(token) > MAX_TOKEN_LENGTH or not set(token) <= _B32_ALPHABET:
        return None
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        return base64.b32decode(padded)
    except (binascii.Error, ValueError):
        # Lengths 1, 3 and 6 mod 8 are never produced by an encoder.
        return None


def _encode_varint(value: int) -> bytes:
    """LEB128: small ids take one or two bytes, which keeps tokens short."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _decode_varint(data: bytes, offset: int) -> tuple[int, int] | None:
    value = shift = 0
    for index in range(offset, min(len(data), offset + 10)):
        value |= (data[index] & 0x7F) << shift
        shift += 7
        if not data[index] & 0x80:
            return value, index + 1
    return None
