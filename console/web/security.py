"""Signed session cookies, CSRF tokens and the security headers of every response.

The session itself lives on the server (``booking.services.staff_admin``: one row per sign-in,
which sign-out, a password change or a switched-off account ends). The signed cookie
(itsdangerous) carries the session's random token, the CSRF token, the language and the
pending flash messages; a copy of it is worth nothing once the session has ended.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from booking.services.staff_admin import StaffAccount

COOKIE = "guichet_console"


@dataclass
class Session:
    csrf: str
    language: str = "en"
    token: str = ""  # the server-side session's token; empty when nobody is signed in
    account: StaffAccount | None = None  # filled from the server when the token is valid
    flashes: list[tuple[str, str]] = field(default_factory=list)
    expired: bool = False  # the cookie named a session that has ended
    dirty: bool = False

    @property
    def staff_id(self) -> int | None:
        return self.account.id if self.account is not None else None

    def flash(self, level: str, text: str) -> None:
        self.flashes.append((level, text))
        self.dirty = True

    def take_flashes(self) -> list[tuple[str, str]]:
        found, self.flashes = self.flashes, []
        if found:
            self.dirty = True
        return found

    def sign_in(self, token: str, account: StaffAccount) -> None:
        """A new CSRF token at sign-in: a token planted before it (fixation) is worthless."""
        self.token, self.account, self.language = token, account, account.language
        self.csrf = new_token()
        self.expired, self.dirty = False, True

    def sign_out(self, *, expired: bool = False) -> None:
        self.token, self.account, self.csrf = "", None, new_token()
        self.expired, self.dirty = expired, True

    def csrf_ok(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf.encode())


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SessionCodec:
    """Reads and writes the session cookie; the signing key is the instance's secret key."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        self._signer = URLSafeSerializer(secret, salt="guichet.console.session")
        self.secure = secure

    def load(self, request: Request) -> Session:
        """The cookie's content, not yet checked against the server (``Web.session`` does)."""
        raw = request.cookies.get(COOKIE, "")
        data: Any = None
        if raw:
            try:
                data = self._signer.loads(raw)
            except BadSignature:
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return Session(csrf=new_token(), dirty=True)
        token = data.get("i")
        return Session(
            csrf=data["c"],
            language=str(data.get("l", "en")),
            token=token if isinstance(token, str) else "",
            flashes=[(str(a), str(b)) for a, b in data.get("f", [])],
        )

    def dumps(self, session: Session) -> str:
        payload = {
            "c": session.csrf,
            "l": session.language,
            "i": session.token,
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
