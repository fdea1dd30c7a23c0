"""``/t/<secret>``, what every ticket's and pass's QR code opens (SPEC §9 "The door").

Anyone sees the ticket itself: event, date and place, seat, booking reference, valid or not,
and the holder's name (no other personal data), in the holder's language.

Door staff signed in to the console (a role that may use the door) get, on the same page and
in their own language, the check-in answer for the current performance (or the date they
choose among the code's: ``booking.queries.door.tap_choice`` says which is current) and one
**Admit** button: a POST to this same address with the CSRF token, which checks the staff
session on the server again and admits through ``checkin.admit``, the door page's own path.
Who is staff is told by the door cookie (``console.web.security``, "The door cookie"): scoped to
``/t/``, naming the console's server-side session, so sign-out ends it. Anyone else, with no
cookie, a forged one or one of an ended session, gets the public page and no button, and their
POST admits nothing.

The secret is in the path, which console.serving redacts from the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from booking.context import Context
from booking.queries import door as door_queries
from booking.rules.formatting import pick_locale, when
from booking.services import checkin, staff_admin
from booking.services.staff_admin import StaffAccount
from booking.views import Entitlement
from console.web.forms import int_or_none
from console.web.pages import Web, allowed, read_form, refusal
from console.web.render import Formats, render, translator
from console.web.security import CONSOLE_CSP, DoorPass

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    # The page has an admit form for staff: no script, no framing, forms to this site only.
    "Content-Security-Policy": CONSOLE_CSP,
}


@dataclass(frozen=True, slots=True)
class DoorStaff:
    account: StaffAccount
    door_pass: DoorPass


def routes(ctx: Context) -> list[Route]:
    async def ticket(request: Request) -> Response:
        secret = request.path_params["secret"]
        staff, stale = await door_staff(ctx, request)
        if request.method == "POST":
            response = await _admit(ctx, request, secret, staff)
        else:
            wanted = int_or_none(request.query_params.get("performance", ""))
            response = await _show(ctx, request, secret, staff, wanted=wanted)
        if stale:  # a door cookie of a session that has ended: take it away
            (await _web(request).codec()).forget_door(response)
        return response

    return [Route("/t/{secret}", ticket, methods=["GET", "POST"])]


def _web(request: Request) -> Web:
    web: Web = request.app.state.console
    return web


async def door_staff(ctx: Context, request: Request) -> tuple[DoorStaff | None, bool]:
    """The staff member the door cookie names, checked on the server now (the session open,
    the account active, a role that may use the door); and whether a cookie was there for a
    session that has ended."""
    door_pass = (await _web(request).codec()).load_door(request)
    if door_pass is None:
        return None, False
    check = await staff_admin.resume_session(ctx, token=door_pass.token)
    account = check.account
    if account is None:
        return None, True
    if not allowed(account.role, "door"):
        return None, False
    return DoorStaff(account, door_pass), False


async def _show(
    ctx: Context,
    request: Request,
    secret: str,
    staff: DoorStaff | None,
    *,
    wanted: int | None,
    answer: checkin.Answer | None = None,
    door: str = "",
    choice: door_queries.TapChoice | None = None,
) -> Response:
    if staff is None:
        return _public(request, await checkin.show(ctx, secret=secret))
    if choice is None:
        choice = await door_queries.tap_choice(ctx, secret=secret, wanted=wanted)
    current = choice.current
    if answer is None and current is not None:
        answer = await checkin.check(
            ctx, actor=staff.account.actor(), secret=secret, performance_id=current.id
        )
    found = answer.entitlement if answer else None
    if found is None:  # no answer (no door open), or a code nobody has
        found = await checkin.show(ctx, secret=secret)
    if found is None:
        return _public(request, None)
    values = _staff_values(staff, found, choice, answer, door, request.url.path)
    return _page(values, status=200)


async def _admit(ctx: Context, request: Request, secret: str, staff: DoorStaff | None) -> Response:
    """The Admit button: the staff session and its CSRF token first, then one admission."""
    heard = pick_locale(request.headers.get("accept-language", "en")[:5])
    if staff is None:
        return _refused(refusal(heard, "expired", 401))
    language = staff.account.language
    form = await read_form(request)
    if form is None or not staff.door_pass.csrf_ok(_text(form.get("csrf"))):
        return _refused(refusal(language, "csrf", 403))
    wanted = int_or_none(_text(form.get("performance")))
    door = _text(form.get("door")).strip()[:40]
    choice = await door_queries.tap_choice(ctx, secret=secret, wanted=wanted)
    if choice.current is None or choice.current.id != wanted:
        # Not a date this page offered (or no longer): show the answer, admit nothing.
        return await _show(ctx, request, secret, staff, wanted=wanted, door=door)
    answer = await checkin.admit(
        ctx, actor=staff.account.actor(), secret=secret, performance_id=wanted, door=door
    )
    return await _show(
        ctx, request, secret, staff, wanted=wanted, answer=answer, door=door, choice=choice
    )


def _public(request: Request, found: Entitlement | None) -> Response:
    heard = request.headers.get("accept-language", "en")[:5]
    locale = pick_locale(found.language if found else heard)
    values: dict[str, Any] = {"_": translator(locale), "lang": locale, "ticket": found}
    values["door"] = None
    if found is not None:
        values |= _ticket_values(found, locale)
        # Staff not signed in yet: the door page shows the same answer once they are.
        values["door_link"] = "/console/door?code=" + quote(found_secret(request), safe="")
    return _page(values, status=200 if found else 404)


def _ticket_values(found: Entitlement, locale: str) -> dict[str, Any]:
    return {
        "when": when(found.starts_at, found.timezone, locale),
        "seat": found.seat.label(locale) if found.seat else "",
    }


def _staff_values(
    staff: DoorStaff,
    found: Entitlement,
    choice: door_queries.TapChoice,
    answer: checkin.Answer | None,
    door: str,
    action: str,
) -> dict[str, Any]:
    locale = pick_locale(staff.account.language)
    return {
        "_": translator(locale),
        "lang": locale,
        "ticket": found,
        **_ticket_values(found, locale),
        "door": {
            "fmt": Formats(locale, found.timezone),
            "dates": choice.dates,
            "current": choice.current,
            "answer": answer,
            "csrf": staff.door_pass.csrf,
            "name": door,
            "action": action,
        },
    }


def _page(values: dict[str, Any], *, status: int) -> Response:
    return HTMLResponse(render("ticket/ticket.html", values), status_code=status, headers=HEADERS)


def _refused(response: HTMLResponse) -> Response:
    response.headers.update(HEADERS)
    return response


def found_secret(request: Request) -> str:
    return str(request.path_params["secret"])


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
