"""Signed, expiring tokens for links and buttons that leave the system (deep links, pay links).

A token is a reference, never an authority: whoever receives one still goes through the
service, which re-checks owner and state. Format: base64url(payload) followed by the 16
characters of base64url(mac), where the payload is ``value|expires`` and the MAC is HMAC-SHA256
(one key per purpose) truncated to 96 bits. Only ``[A-Za-z0-9_-]``, short enough for Telegram's
64-character ``/start`` payload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

MAC_BYTES = 12
MAC_CHARS = 16  # len(base64url(12 bytes)), no padding


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, payload: bytes) -> bytes:
    key = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()  # one key per purpose
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def sign(secret: str, purpose: str, value: str, expires: datetime) -> str:
    """A token carrying ``value`` for ``purpose`` until ``expires``. ``value`` has no '|'."""
    if "|" in value or not secret:
        raise ValueError("bad token value or empty secret")
    payload = f"{value}|{int(expires.timestamp()):x}".encode()
    return _b64(payload) + _b64(_mac(secret, purpose, payload))


def verify(secret: str, purpose: str, token: str, *, now: datetime) -> str | None:
    """The value, if ``token`` was signed by us for ``purpose`` and has not expired."""
    try:
        token = token.strip()
        encoded, mac = token[:-MAC_CHARS], token[-MAC_CHARS:]
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(mac), _mac(secret, purpose, payload)):
            return None
        value, expires = payload.decode().rsplit("|", 1)
        if datetime.fromtimestamp(int(expires, 16), UTC) <= now:
            return None
    except (ValueError, UnicodeDecodeError, IndexError):
        return None
    return value
