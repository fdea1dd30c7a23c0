"""Signed session cookies, CSRF tokens and the security headers of every response.

The session itself lives on the server (``booking.services.staff_admin``: one row per sign-in,
which sign-out, a password change or a switched-off account ends). The signed cookie
(itsdangerous) carries the session's random token, the CSRF token, the language and the
pending flash messages; a copy of it is worth nothing once the session has ended.

**The door cookie.** The console cookie is scoped to ``/console``, so a ticket's page
``/t/<secret>`` (what a phone camera opens from the QR code) cannot see who is looking. Staff
who may admit (``DOOR_ROLES``) also get a second cookie, ``guichet_door``, written and removed
with the console cookie (``SessionCodec.save``), and narrower than widening the first one's path
to ``/`` would be:

- it is sent to ``/t/`` only (path), never to the pay page, the holder page or the webhooks,
  so nothing else on the site ever carries a staff credential;
- it carries only the server-side session's token and a CSRF token for the admit form, signed
  with its own salt: it cannot be replayed as a console cookie, and the console cookie cannot
  be replayed as it;
- it names the *same* server-side session, checked on every request to ``/t/``: sign-out,
  a password change, an idle or switched-off account end it with the console session, and a
  signed-out session's copy admits nothing;
- HttpOnly, SameSite=Lax (a cross-site POST, the CSRF attack, does not carry it) and Secure
  when the public URL is https, like the console cookie;
- box-office staff never get it: their phone shows the public ticket page, as anyone's does.
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
DOOR_COOKIE = "guichet_door"
DOOR_PATH = "/t/"
# Who carries the door cookie: the roles of console.web.pages.PERMISSIONS["door"] (a test keeps
# the two equal; pages imports this module, so it cannot be read from there). /t/ checks the
# role again on the server at every request: the cookie decides only where it is sent.
DOOR_ROLES = frozenset({"admin", "organizer", "door"})


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


@dataclass(frozen=True, slots=True)
class DoorPass:
    """What a door cookie says: the server-side session's token and the admit form's CSRF
    token (not yet checked against the server: ``console.web.ticket_page`` does)."""

    token: str
    csrf: str

    def csrf_ok(self, token: str) -> bool:
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf.encode())


class SessionCodec:
    """Reads and writes the session cookie and the door cookie; the signing key is the
    instance's secret key."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        self._signer = URLSafeSerializer(secret, salt="guichet.console.session")
        self._door_signer = URLSafeSerializer(secret, salt="guichet.door.session")
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
        if session.token and session.account is not None and session.account.role in DOOR_ROLES:
            self.save_door(response, DoorPass(session.token, session.csrf))
        else:  # signed out, expired, or a role that does not admit: no door cookie left
            self.forget_door(response)

    def dumps_door(self, door: DoorPass) -> str:
        return self._door_signer.dumps({"i": door.token, "c": door.csrf})

    def save_door(self, response: Response, door: DoorPass) -> None:
        response.set_cookie(
            DOOR_COOKIE,
            self.dumps_door(door),
            path=DOOR_PATH,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    def forget_door(self, response: Response) -> None:
        response.delete_cookie(
            DOOR_COOKIE, path=DOOR_PATH, httponly=True, samesite="lax", secure=self.secure
        )

    def load_door(self, request: Request) -> DoorPass | None:
        """The door cookie's content when its signature holds; None otherwise (a stranger)."""
        raw = request.cookies.get(DOOR_COOKIE, "")
        if not raw:
            return None
        try:
            data: Any = self._door_signer.loads(raw)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        token, csrf = data.get("i"), data.get("c")
        if not isinstance(token, str) or not isinstance(csrf, str) or not token or not csrf:
            return None
        return DoorPass(token, csrf)


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
