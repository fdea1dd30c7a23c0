"""``/account``, the holder page (issue 13, item 1; SPEC §9 Resale, §12): a pass holder signs
in with their email and pass code, then with the one-time code mailed to that address
(``booking.services.holder_access``), and sees their passes: product, season, seat, pass code,
status, each date with its check-in, the credit, the PDF and the phone card (``/t/<secret>``).
The resale part (a later one) extends the overview.

The console's protections, in a cookie of its own (``guichet_account``, path ``/account``
only, so it reaches no other page of the site and no console cookie reaches here):

- the session lives on the server; the cookie (signed, itsdangerous with its own salt, and
  refused past ``holder_access.ABSOLUTE``) carries its random token, the pending code's
  challenge, the CSRF token and the chosen language; sign-out ends the session for every copy;
- every POST carries the CSRF token of the cookie (a cross-site form has none), and a new one
  is drawn at sign-in (a token planted before it is worthless) and at sign-out;
- HttpOnly, SameSite=Lax, Secure when the public URL is https; every answer ``no-store``,
  never framed, no script, styles from this site only (``CSP``);
- the owner is checked again on every request (``holder_access.resume``), and a pass is shown
  or printed only when it is one of the signed-in customer's (another's is "not found").

Asking for a code answers the same for every email and pass code, matched or not; when no
email can be sent now (``linking.codes_can_be_mailed``), the page says so plainly and asks
for nothing.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from booking import pass_pdf
from booking.context import Context
from booking.errors import BookingError
from booking.i18n import LOCALES, error_text
from booking.queries import holder_passes
from booking.queries.holder_passes import HolderPass
from booking.rules.formatting import money, pick_locale, when
from booking.rules.references import normalize_reference
from booking.services import holder_access, linking
from booking.services.holder_access import HolderSessionView, Verified
from console.web.pages import read_form
from console.web.render import STATIC, customer_environment
from console.web.routes.auth import client_of

COOKIE = "guichet_account"
PATH = "/account"
SALT = "guichet.account.session"
FORM_MAX = 4096  # bytes of a POST body: an email and a pass code, or a code
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CSP,
}
STYLE = STATIC / "account.css"


def routes(ctx: Context) -> list[Route]:
    pages = _AccountPages(ctx)
    return [
        Route(PATH, pages.home, methods=["GET"]),
        Route(PATH, pages.ask, methods=["POST"]),
        Route(f"{PATH}/code", pages.code_form, methods=["GET"]),
        Route(f"{PATH}/code", pages.try_code, methods=["POST"]),
        Route(f"{PATH}/signout", pages.sign_out, methods=["POST"]),
        Route(f"{PATH}/passes/{{pass_id:int}}/pdf", pages.pdf, methods=["GET"]),
        Route(f"{PATH}/style.css", style, methods=["GET"]),
    ]


# -- the cookie --------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class AccountCookie:
    """What the browser holds: nothing here is believed before the server checks it."""

    csrf: str
    language: str = ""  # chosen with ?lang=; else the holder's, else the browser's
    challenge: str = ""  # the pending code's (holder_access.request_code)
    token: str = ""  # the server-side session's
    note: str = ""  # a message shown once: "signed_out", "ended"
    dirty: bool = False

    def csrf_ok(self, sent: str) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode(), self.csrf.encode())

    def signed_in(self, token: str) -> None:
        """A new CSRF token at sign-in: one planted before it (fixation) is worthless."""
        self.token, self.challenge, self.csrf, self.dirty = token, "", new_token(), True

    def signed_out(self, note: str) -> None:
        self.token, self.challenge, self.csrf = "", "", new_token()
        self.note, self.dirty = note, True

    def take_note(self) -> str:
        note, self.note = self.note, ""
        if note:
            self.dirty = True
        return note


class CookieCodec:
    def __init__(self, secret: str, *, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt=SALT)
        self.secure = secure
        self.max_age = int(holder_access.ABSOLUTE.total_seconds())

    def load(self, request: Request) -> AccountCookie:
        raw = request.cookies.get(COOKIE, "")
        data: Any = None
        if raw:
            try:
                data = self._signer.loads(raw, max_age=self.max_age)
            except BadSignature:  # forged, or older than a session may live
                data = None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str) or not data["c"]:
            return AccountCookie(csrf=new_token(), dirty=True)
        return AccountCookie(
            csrf=data["c"],
            language=_text(data.get("l")),
            challenge=_text(data.get("p")),
            token=_text(data.get("s")),
            note=_text(data.get("n")),
        )

    def dumps(self, cookie: AccountCookie) -> str:
        payload = {
            "c": cookie.csrf,
            "l": cookie.language,
            "p": cookie.challenge,
            "s": cookie.token,
            "n": cookie.note,
        }
        return self._signer.dumps(payload)

    def save(self, response: Response, cookie: AccountCookie) -> None:
        response.set_cookie(
            COOKIE,
            self.dumps(cookie),
            max_age=self.max_age,
            path=PATH,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# -- the pages ---------------------------------------------------------------------------------


@dataclass
class _Visit:
    """One request: its cookie, the signed-in holder (checked on the server) and its language."""

    request: Request
    cookie: AccountCookie
    holder: HolderSessionView | None
    locale: str


class _AccountPages:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._codec: CookieCodec | None = None

    async def codec(self) -> CookieCodec:
        if self._codec is None:  # the secret key may have to be read from the database
            secret = await holder_access.cookie_secret(self.ctx)
            secure = self.ctx.settings.public_url.startswith("https://")
            self._codec = CookieCodec(secret, secure=secure)
        return self._codec

    async def visit(self, request: Request) -> _Visit:
        """The cookie, its session checked on the server (owner included), the language."""
        cookie = (await self.codec()).load(request)
        holder = None
        if cookie.token:
            holder = await holder_access.resume(self.ctx, token=cookie.token)
            if holder is None:  # signed out elsewhere, expired, or the pass is no longer theirs
                cookie.signed_out("ended")
        asked = request.query_params.get("lang", "")
        if asked in LOCALES and asked != cookie.language:
            cookie.language, cookie.dirty = asked, True
        browser = request.headers.get("accept-language", "en").split(",")[0]
        preferred = cookie.language or (holder.language if holder is not None else "")
        return _Visit(request, cookie, holder, pick_locale(preferred or browser))

    async def finish(self, response: Response, visit: _Visit) -> Response:
        if visit.cookie.dirty:
            (await self.codec()).save(response, visit.cookie)
        return response

    # -- GET /account: the overview, or the sign-in form --------------------------------------

    async def home(self, request: Request) -> Response:
        visit = await self.visit(request)
        if visit.holder is None:
            return await self.finish(await self._sign_in_page(visit), visit)
        found = await holder_passes.holder_passes(self.ctx, customer_id=visit.holder.customer_id)
        page = _render(
            "passes.html",
            visit,
            holder=visit.holder,
            passes=[pass_card(p, visit.locale) for p in found],
            note=visit.cookie.take_note(),
        )
        return await self.finish(page, visit)

    async def _sign_in_page(
        self,
        visit: _Visit,
        *,
        email: str = "",
        pass_code: str = "",
        errors: dict[str, str] | None = None,
        problem: str = "",
        status: int = 200,
    ) -> Response:
        return _render(
            "signin.html",
            visit,
            status=status,
            mail_ok=await linking.codes_can_be_mailed(self.ctx),
            email=email,
            pass_code=pass_code,
            errors=errors or {},
            problem=problem,
            note=visit.cookie.take_note(),
        )

    # -- POST /account: ask for a code ---------------------------------------------------------

    async def ask(self, request: Request) -> Response:
        visit = await self.visit(request)
        form = await _form(request)
        if form is None or not visit.cookie.csrf_ok(_field(form, "csrf")):
            return await self.finish(_message("csrf", visit, status=403), visit)
        email, pass_code = _field(form, "email").strip(), _field(form, "pass_code").strip()
        if not await linking.codes_can_be_mailed(self.ctx):  # never promise a code
            page = await self._sign_in_page(visit, email=email, pass_code=pass_code, status=503)
            return await self.finish(page, visit)
        errors = signin_errors(email, pass_code)
        if errors:
            page = await self._sign_in_page(
                visit, email=email, pass_code=pass_code, errors=errors, status=400
            )
            return await self.finish(page, visit)
        try:
            challenge = await holder_access.request_code(
                self.ctx, email=email, pass_code=pass_code, client=client_of(request)
            )
        except BookingError as error:
            status = 429 if error.code == "too_many_codes" else 400
            field = {} if status == 429 else {"email": error_text(error, visit.locale)}
            problem = error_text(error, visit.locale) if status == 429 else ""
            page = await self._sign_in_page(
                visit, email=email, pass_code=pass_code, errors=field, problem=problem,
                status=status,
            )  # fmt: skip
            return await self.finish(page, visit)
        visit.cookie.challenge, visit.cookie.dirty = challenge, True
        return await self.finish(_redirect(f"{PATH}/code"), visit)

    # -- the code page ---------------------------------------------------------------------------

    async def code_form(self, request: Request) -> Response:
        visit = await self.visit(request)
        if not visit.cookie.challenge:
            return await self.finish(_redirect(PATH), visit)
        return await self.finish(_render("code.html", visit, refused="", tries_left=0), visit)

    async def try_code(self, request: Request) -> Response:
        visit = await self.visit(request)
        form = await _form(request)
        if form is None or not visit.cookie.csrf_ok(_field(form, "csrf")):
            return await self.finish(_message("csrf", visit, status=403), visit)
        if not visit.cookie.challenge:
            return await self.finish(_redirect(PATH), visit)
        code = _field(form, "code")
        if not code.strip():
            page = _render("code.html", visit, status=400, refused="empty", tries_left=0)
            return await self.finish(page, visit)
        verified = await holder_access.verify_code(
            self.ctx,
            challenge=visit.cookie.challenge,
            code=code,
            client=client_of(request),
            replaces=visit.cookie.token,
        )
        if verified.token:
            visit.cookie.signed_in(verified.token)
            return await self.finish(_redirect(PATH), visit)
        return await self.finish(self._refused(visit, verified), visit)

    def _refused(self, visit: _Visit, verified: Verified) -> Response:
        if verified.refused in ("used_up", "expired"):  # this code is over: ask again
            visit.cookie.challenge, visit.cookie.dirty = "", True
        status = {"wrong": 400, "too_many_tries": 429}.get(verified.refused, 410)
        return _render(
            "code.html",
            visit,
            status=status,
            refused=verified.refused,
            tries_left=verified.tries_left,
        )

    # -- sign-out, the PDF -------------------------------------------------------------------------

    async def sign_out(self, request: Request) -> Response:
        visit = await self.visit(request)
        form = await _form(request)
        if form is None or not visit.cookie.csrf_ok(_field(form, "csrf")):
            return await self.finish(_message("csrf", visit, status=403), visit)
        await holder_access.end_session(self.ctx, token=visit.cookie.token)
        visit.cookie.signed_out("signed_out")
        return await self.finish(_redirect(PATH), visit)

    async def pdf(self, request: Request) -> Response:
        visit = await self.visit(request)
        if visit.holder is None:
            return await self.finish(_redirect(PATH), visit)
        found = await holder_passes.holder_pass(
            self.ctx, customer_id=visit.holder.customer_id, pass_id=request.path_params["pass_id"]
        )
        if found is None or not found.admits:  # someone else's, or one that admits nobody
            return await self.finish(_message("not_found", visit, status=404), visit)
        printed = await pass_pdf.pass_file(self.ctx, pass_id=found.detail.id, language=visit.locale)
        headers = dict(HEADERS)
        headers["Content-Disposition"] = f'attachment; filename="{printed.filename}"'
        response = Response(printed.pdf, media_type="application/pdf", headers=headers)
        return await self.finish(response, visit)


# -- helpers -------------------------------------------------------------------------------------


def signin_errors(email: str, pass_code: str) -> dict[str, str]:
    """What is missing or cannot be right, by field, as keys the template words: the format
    only, never whether such an address or pass exists."""
    errors = {}
    if not email:
        errors["email"] = "required"
    elif len(email) > 254 or "@" not in email:
        errors["email"] = "invalid"
    if not pass_code:
        errors["pass_code"] = "required"
    elif len(pass_code) > 20 or normalize_reference(pass_code) is None:
        errors["pass_code"] = "invalid"
    return errors


def pass_card(found: HolderPass, locale: str) -> dict[str, Any]:
    """One pass as the overview shows it, formatted in the page's language."""
    detail = found.detail
    seat = detail.seat.label(locale) if detail.seat else detail.product.row.area_name
    return {
        "id": detail.id,
        "product": detail.product.row.settings.name,
        "season": detail.season_name,
        "holder": detail.holder_name,
        "code": detail.code,
        "seat": seat,
        "status": found.status,
        "deadline": when(detail.deadline, _zone(found), locale) if detail.deadline else "",
        "credit": money(detail.credit_minor, detail.currency, locale),
        "admits": found.admits,
        "pdf_url": f"{PATH}/passes/{detail.id}/pdf",
        "card_url": f"/t/{detail.secret}",
        "dates": [
            {
                "event": d.date.event_title,
                "when": when(d.date.starts_at, d.date.timezone, locale),
                "admitted": when(d.admitted_at, d.date.timezone, locale)
                if d.admitted_at is not None
                else "",
                "door": d.door,
            }
            for d in found.dates
        ],
    }


def _zone(found: HolderPass) -> str:
    return found.dates[0].date.timezone if found.dates else "UTC"


async def _form(request: Request) -> FormData | None:
    if len(await request.body()) > FORM_MAX:
        return None
    return await read_form(request)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _redirect(path: str) -> Response:
    """303: the browser GETs the next page, and a reload there posts nothing again."""
    return RedirectResponse(path, status_code=303, headers=HEADERS)


def _message(what: str, visit: _Visit, *, status: int) -> Response:
    return _render("message.html", visit, status=status, what=what)


def _render(name: str, visit: _Visit, *, status: int = 200, **values: Any) -> Response:
    template = customer_environment(visit.locale).get_template(f"account/{name}")
    html = template.render(
        locale=visit.locale,
        csrf=visit.cookie.csrf,
        path=visit.request.url.path,
        minutes=int(holder_access.CODE_TTL.total_seconds() // 60),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


@cache
def _stylesheet() -> str:
    return STYLE.read_text(encoding="utf-8")  # read once: it does not change while serving


async def style(request: Request) -> Response:
    """The page's styles, from this site (the CSP allows no inline style)."""
    return Response(
        _stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )
