"""Every console route goes through ``guarded``: session, CSRF, role, then the handler.

A refusal (no session, an expired one, a missing or wrong CSRF token, a role without the
right) is answered before the handler runs, so it changes nothing, with a page that says what
happened and what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import customers, staff_admin
from booking.services.staff_admin import StaffAccount
from booking.views import CustomerView
from console.web.forms import int_or_none
from console.web.labels import N_, labeller
from console.web.render import Formats, render, translator
from console.web.security import Session, SessionCodec

ROLES = ("admin", "organizer", "box_office", "door")
# Everyone at the desk; the door role (issue 12) signs in for the door page only.
EVERYONE = frozenset({"admin", "organizer", "box_office"})
ORGANIZERS = frozenset({"admin", "organizer"})

# What each role may do (the issue's contract): admin everything; organizer events, rules,
# bookings, releases, extensions; box office bookings and payments only.
PERMISSIONS: dict[str, frozenset[str]] = {
    "any": frozenset(ROLES),
    "dashboard": EVERYONE,
    "bookings.view": EVERYONE,
    "bookings.create": EVERYONE,
    "bookings.pay": EVERYONE,
    "bookings.resend": EVERYONE,
    "bookings.cancel": ORGANIZERS,
    "bookings.extend": ORGANIZERS,
    "bookings.refund": ORGANIZERS,
    "bookings.export": ORGANIZERS,
    "customers.view": EVERYONE,
    "customers.edit": EVERYONE,  # a walk-in customer is created at the desk
    "organizations.edit": ORGANIZERS,
    "releases": ORGANIZERS,
    "extensions": ORGANIZERS,
    "catalog": ORGANIZERS,
    "outbox": ORGANIZERS,
    "reports": ORGANIZERS,
    "staff": frozenset({"admin"}),
    "door": frozenset({"admin", "organizer", "door"}),
}

NAV = (  # (permission, path, label) in menu order
    ("dashboard", "/console/", N_("Dashboard")),
    ("bookings.view", "/console/bookings", N_("Bookings")),
    ("releases", "/console/releases", N_("Releases")),
    ("extensions", "/console/extensions", N_("Extensions")),
    ("catalog", "/console/events", N_("Events")),
    ("bookings.create", "/console/passes/sell", N_("Passes")),
    ("customers.view", "/console/customers", N_("Customers")),
    ("outbox", "/console/outbox", N_("Outbox")),
    ("reports", "/console/reports", N_("Reports")),
    ("staff", "/console/staff", N_("Staff")),
    ("door", "/console/door", N_("Door")),
)


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


class Web:
    """What every console request shares: the context and the session codec (made on first
    use, because the secret key may have to be read from the database)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._codec: SessionCodec | None = None
        self._lock = asyncio.Lock()

    async def codec(self) -> SessionCodec:
        if self._codec is None:
            async with self._lock:
                if self._codec is None:
                    secure = self.ctx.settings.public_url.startswith("https://")
                    secret = await staff_admin.session_secret(self.ctx)
                    self._codec = SessionCodec(secret, secure=secure)
        return self._codec

    async def session(self, request: Request) -> Session:
        """The cookie's session, its token checked on the server (one indexed read)."""
        session = (await self.codec()).load(request)
        if session.token:
            check = await staff_admin.resume_session(self.ctx, token=session.token)
            if check.account is None:
                session.sign_out(expired=True)
            else:
                session.account = check.account
        return session

    async def finish(self, response: Response, session: Session) -> Response:
        if session.dirty:
            (await self.codec()).save(response, session)
        return response


@dataclass
class Page:
    """One request as a handler sees it, already authorized."""

    request: Request
    web: Web
    staff: StaffAccount
    session: Session
    form: FormData | None = None
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ctx(self) -> Context:
        return self.web.ctx

    @property
    def _(self) -> Callable[[str], str]:
        return translator(self.staff.language)

    @property
    def formats(self) -> Formats:
        return Formats(self.staff.language, self.ctx.settings.timezone)

    def can(self, permission: str) -> bool:
        return allowed(self.staff.role, permission)

    def value(self, name: str, default: str = "") -> str:
        """A form field (POST) as text; files and missing fields read as ``default``."""
        raw = self.form.get(name) if self.form is not None else None
        return raw if isinstance(raw, str) else default

    def values(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v for v in self.form.getlist(name) if isinstance(v, str)]

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    async def chosen_customer(self, raw: str) -> CustomerView | None:
        """The customer a form's hidden ``customer_id`` names; None when it names nobody."""
        customer_id = int_or_none(raw)
        if customer_id is None:
            return None
        try:
            return await customers.get_customer(self.ctx, customer_id=customer_id)
        except BookingError:
            return None

    def error(self, exc: BookingError) -> str:
        return error_text(exc, self.staff.language)

    def flash(self, text: str, level: str = "ok") -> None:
        self.session.flash(level, text)

    def render(self, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(render(template, self.template_values(values)), status_code=status)

    def template_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        gettext = self._
        return {
            "_": gettext,
            "fmt": self.formats,
            "staff": self.staff,
            "csrf": self.session.csrf,
            "lang": self.staff.language,
            "nav": [(p, label) for perm, p, label in NAV if self.can(perm)],
            "path": self.request.url.path,
            "flashes": self.session.take_flashes(),
            "can": self.can,
            "label": labeller(gettext),
            **values,
        }

    def redirect(self, url: str, *, flash: str | None = None, level: str = "ok") -> Response:
        if flash:
            self.flash(flash, level)
        return RedirectResponse(url, status_code=303)


Handler = Callable[[Page], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(permission: str) -> Callable[[Handler], Endpoint]:
    """Wrap a handler: signed-in staff only, CSRF on every POST, the role checked first."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def wrap(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            web: Web = request.app.state.console
            session = await web.session(request)
            response = await _guard(web, request, session, permission, handler)
            return await web.finish(response, session)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        endpoint.permission = permission  # type: ignore[attr-defined]  # read by the tests
        return endpoint

    return wrap


async def _guard(
    web: Web, request: Request, session: Session, permission: str, handler: Handler
) -> Response:
    account = session.account
    if account is None:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = "/console/login?next=" + quote(target, safe="")
            return RedirectResponse(login + ("&expired=1" if session.expired else ""), 303)
        return refusal(session.language, "expired", 401)
    form = None
    if request.method == "POST":
        form = await read_form(request)
        if form is None or not session.csrf_ok(_text(form.get("csrf"))):
            return refusal(account.language, "csrf", 403)
    if not allowed(account.role, permission):
        return refusal(account.language, "role", 403, role=account.role)
    page = Page(request, web, account, session, form)
    try:
        return await handler(page)
    except BookingError as exc:
        return page.render("console/problem.html", status=409, message=page.error(exc))


async def read_form(request: Request) -> FormData | None:
    """The submitted form, or None when it cannot be parsed (treated like a forged form)."""
    try:
        return await request.form(max_files=2, max_fields=2000)
    except HTTPException as exc:
        if exc.status_code == 413:  # too large: say so (the app's error page), not "forged"
            raise
        return None
    except (MultiPartException, ValueError, KeyError):
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


REFUSALS = {
    "expired": (
        N_("Your session has ended"),
        N_(
            "You were signed out (after a while without activity, or because your account "
            "changed). Nothing was changed. Sign in again, then repeat what you were doing."
        ),
    ),
    "csrf": (
        N_("This form has expired"),
        N_(
            "The form was not sent from this console's current page (it may be an old tab, "
            "or another site tried to send it). Nothing was changed. Go back, reload the page "
            "and try again."
        ),
    ),
    "role": (
        N_("Not allowed for your role"),
        N_(
            "Your role does not allow this page or action. Nothing was changed. Ask an "
            "administrator if you need it."
        ),
    ),
}


def refusal(language: str, kind: str, status: int, *, role: str = "") -> HTMLResponse:
    gettext = translator(language)
    title, text = REFUSALS[kind]
    body = render(
        "console/refused.html",
        {
            "_": gettext,
            "title": gettext(title),
            "text": gettext(text),
            "kind": kind,
            "role": role,
            "lang": language,
        },
    )
    return HTMLResponse(body, status_code=status)
