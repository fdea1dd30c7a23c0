"""Signing in and out, and the language switch."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.i18n import LOCALES, error_text
from booking.services import staff_admin
from console.web.forms import Form
from console.web.labels import N_
from console.web.pages import NAV, Page, Web, allowed, guarded, read_form, refusal
from console.web.render import render, translator
from console.web.security import Session

WRONG = N_("Wrong email or password.")


def safe_next(raw: str) -> str:
    """Only a path of this console: an open redirect would lend our name to a phishing link."""
    if raw.startswith("/console/") and not raw.startswith("/console//") and "\\" not in raw:
        return raw
    return "/console/"


def landing(raw_next: str, role: str) -> str:
    """Where signing in leads: the page asked for, else the first page of the menu the role
    may see (the dashboard; the door page for the door role, which may not see the dashboard)."""
    target = safe_next(raw_next)
    if target != "/console/":
        return target
    return next((path for permission, path, _ in NAV if allowed(role, permission)), target)


def _login_page(session: Session, form: Form, *, status: int = 200, notice: str = "") -> Response:
    gettext = translator(session.language)
    body = render(
        "console/login.html",
        {
            "_": gettext,
            "lang": session.language,
            "csrf": session.csrf,
            "form": form,
            "notice": notice,
            "flashes": session.take_flashes(),
        },
    )
    return HTMLResponse(body, status_code=status)


async def login(request: Request) -> Response:
    web: Web = request.app.state.console
    session = await web.session(request)
    if request.method == "GET":
        response = await _show_login(web, request, session)
    else:
        response = await _sign_in(web, request, session)
    return await web.finish(response, session)


async def _show_login(web: Web, request: Request, session: Session) -> Response:
    if session.account is not None:
        target = landing(request.query_params.get("next", ""), session.account.role)
        return RedirectResponse(target, 303)
    language = request.query_params.get("lang", "")
    if language in LOCALES and language != session.language:
        session.language, session.dirty = language, True
    gettext = translator(session.language)
    notice = ""
    if request.query_params.get("expired") == "1" or session.expired:
        notice = gettext("Your session has ended. Please sign in again.")
    form = Form(None, gettext, next=safe_next(request.query_params.get("next", "")))
    return _login_page(session, form, notice=notice)


async def _sign_in(web: Web, request: Request, session: Session) -> Response:
    data = await read_form(request)
    gettext = translator(session.language)
    if data is None or not session.csrf_ok(str(data.get("csrf") or "")):
        return refusal(session.language, "csrf", 403)
    form = Form(data, gettext)
    email = form.text("email", required=True, max_length=254)
    password = form.get("password")
    if not password:
        form.error("password", "Required.")
    form.values["password"] = ""  # never echoed back into the page
    if not form.ok:
        return _login_page(session, form, status=400)
    result = await staff_admin.login(
        web.ctx, email=email, password=password, client=client_of(request), replaces=session.token
    )
    if result.throttled:
        minutes = int(staff_admin.WINDOW.total_seconds() // 60)
        form.problem = error_text(
            BookingError("too_many_logins", minutes=minutes), session.language
        )
        return _login_page(session, form, status=429)
    account = result.account
    if account is None or not account.active:
        form.problem = gettext(WRONG)
        return _login_page(session, form, status=401)
    session.sign_in(result.token, account)
    return RedirectResponse(landing(form.get("next"), account.role), 303)


def client_of(request: Request) -> str:
    """The address sign-in throttling counts: the socket's peer, which the server replaces with
    the forwarded client only when that peer is one of GUICHET_TRUSTED_PROXIES (see
    ``console.web.serving``)."""
    return request.client.host if request.client else "unknown"


@guarded("any")
async def logout(page: Page) -> Response:
    await staff_admin.end_session(page.ctx, token=page.session.token)
    page.session.sign_out()
    page.flash(page._("You are signed out."))
    return RedirectResponse("/console/login", 303)


@guarded("any")
async def language(page: Page) -> Response:
    """The switch in the header sets the account's language, so it follows the staff member."""
    chosen = page.value("language")
    if chosen in LOCALES:
        await staff_admin.set_language(
            page.ctx, actor=page.staff.actor(), staff_id=page.staff.id, language=chosen
        )
        page.session.language, page.session.dirty = chosen, True
    return RedirectResponse(safe_next(page.value("back")), 303)


routes = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/language", language, methods=["POST"]),
]
