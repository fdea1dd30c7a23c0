"""Signed session cookies, CSRF tokens and the security headers of every response.

The session lives entirely in one signed cookie (itsdangerous): the staff id, the account's
session epoch (a password change or a switched-off account ends older sessions), the CSRF
token of the session, the language, and two timestamps for the idle and absolute limits.
Nothing secret is in it, only things we must be able to trust.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "guichet_console"
IDLE = timedelta(hours=4)  # a desk left alone for a morning asks for the password again
ABSOLUTE = timedelta(hours=14)  # and every working day starts with a fresh sign-in
REFRESH = timedelta(minutes=1)  # the idle clock is re-stamped at most once a minute


@dataclass
class Session:
    csrf: str
    language: str = "en"
    staff_id: int | None = None
    epoch: int = 0
    seen: float = 0.0  # POSIX seconds, from the context's clock
    began: float = 0.0
    flashes: list[tuple[str, str]] = field(default_factory=list)
    expired: bool = False  # the cookie named someone, but too long ago
    dirty: bool = False

    def flash(self, level: str, text: str) -> None:
        self.flashes.append((level, text))
        self.dirty = True

    def take_flashes(self) -> list[tuple[str, str]]:
        found, self.flashes = self.flashes, []
        if found:
            self.dirty = True
        return found

    def sign_in(self, staff_id: int, epoch: int, language: str, now: datetime) -> None:
        """A new CSRF token at sign-in: a token planted before it (fixation) is worthless."""
        self.staff_id, self.epoch, self.language = staff_id, epoch, language
        self.csrf = new_token()
        self.seen = self.began = now.timestamp()
        self.expired, self.dirty = False, True

    def sign_out(self) -> None:
        self.staff_id, self.epoch, self.csrf = None, 0, new_token()
        self.dirty = True

    def csrf_ok(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SessionCodec:
    """Reads and writes the session cookie; the signing key is the instance's secret key."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        self._signer = URLSafeSerializer(secret, salt="guichet.console.session")
        self.secure = secure

    def load(self, request: Request, now: datetime) -> Session:
        raw = request.cookies.get(COOKIE, "")
        data: Any = None
        if raw:
            try:
                data = self._signer.loads(raw)
            except BadSignature:
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return Session(csrf=new_token(), dirty=True)
        session = Session(
            csrf=data["c"],
            language=str(data.get("l", "en")),
            staff_id=data.get("s") if isinstance(data.get("s"), int) else None,
            epoch=int(data.get("e", 0)),
            seen=float(data.get("t", 0)),
            began=float(data.get("b", 0)),
            flashes=[(str(a), str(b)) for a, b in data.get("f", [])],
        )
        if session.staff_id is not None:
            stamp = now.timestamp()
            too_idle = stamp - session.seen > IDLE.total_seconds()
            too_old = stamp - session.began > ABSOLUTE.total_seconds()
            if too_idle or too_old:
                session.staff_id, session.expired, session.dirty = None, True, True
                session.csrf = new_token()
            elif stamp - session.seen > REFRESH.total_seconds():
                session.seen, session.dirty = stamp, True
        return session

    def dumps(self, session: Session) -> str:
        payload = {
            "c": session.csrf,
            "l": session.language,
            "s": session.staff_id,
            "e": session.epoch,
            "t": session.seen,
            "b": session.began,
            "f": session.flashes[-5:],
        }
        return self._signer.dumps(payload)

    def save(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.dumps(session),
            path="/console",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )


# -- headers ------------------------------------------------------------------------------------

CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    """Adds the security headers every response should carry, without overriding what a route
    set itself (the pay page may need its own Content-Security-Policy). Console pages also get
    a strict CSP (no inline script or style anywhere) and are never cached."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        console = str(scope.get("path", "")).startswith("/console")
        static = str(scope.get("path", "")).startswith("/console/static/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = {
                    "X-Content-Type-Options": "nosniff",
                    "X-Frame-Options": "DENY",
                    "Referrer-Policy": "same-origin",
                }
                if console:
                    wanted["Content-Security-Policy"] = CONSOLE_CSP
                    if not static:
                        wanted["Cache-Control"] = "no-store"
                if self.https:
                    wanted["Strict-Transport-Security"] = "max-age=31536000"
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)
