"""The door page (SPEC §9): a code typed or scanned (a USB scanner types the ticket URL and
presses Enter) admits its holder to the chosen performance, with a big answer and the counts.

``GET /console/door?code=…`` (the ticket page's staff link) shows the answer for that code
without admitting, with one button to admit: the code travels in the query string, which the
access log never shows (console.serving), and is admitted only by a POST with the CSRF token.

``POST /console/door`` (``scan``) checks the session, the CSRF token and the role as every
console page does, but the session and the role in the admission's own transaction (see its
docstring); the ticket's own page ``/t/<secret>`` (console.web.ticket_page) admits with one
tap too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking.queries import door as door_queries
from booking.services import checkin
from console.web.forms import int_or_none
from console.web.pages import Page, Web, allowed, guarded, read_form


async def _page(
    page: Page,
    *,
    answer: checkin.Answer | None,
    code: str = "",
    board: door_queries.DoorBoard | None = None,
) -> Response:
    """The page around an answer; ``board`` when the scan read it already."""
    if board is None:
        wanted = int_or_none(page.value("performance") or page.query("performance"))
        board = await door_queries.board(page.ctx, wanted)
    return page.render(
        "console/door.html",
        performances=board.performances,
        chosen=board.chosen,
        counts=board.counts,
        answer=answer,
        pending_code=code,
        door_name=page.value("door") or page.query("door"),
        seat=_seat(answer, page.staff.language),
    )


def _seat(answer: checkin.Answer | None, language: str) -> str:
    found = answer.entitlement if answer else None
    return found.seat.label(language) if found and found.seat else ""


@guarded("door")
async def door(page: Page) -> Response:
    code = checkin.secret_of(page.query("code"))
    if not code:
        return await _page(page, answer=None)
    performance = await _performance(page)
    if performance is None:
        return await _page(page, answer=None)
    answer = await checkin.check(
        page.ctx, actor=page.staff.actor(), secret=code, performance_id=performance
    )
    return await _page(page, answer=answer, code=code if answer.admits else "")


@guarded("door")
async def _scan_guarded(page: Page) -> Response:
    """The scan through the console's guard: every refusal, and a form without a code."""
    code = checkin.secret_of(page.value("code"))
    performance = await _performance(page)
    if not code or performance is None:
        return await _page(page, answer=None)
    scanned = await checkin.scan(
        page.ctx,
        actor=page.staff.actor(),
        secret=code,
        performance_id=performance,
        door=page.value("door"),
    )
    return await _page(page, answer=scanned.answer, board=scanned.board)


async def scan(request: Request) -> Response:
    """``POST /console/door``: a scan, in one write transaction with the session check.

    The guard (``console.web.pages.guarded``) reads the session in a transaction of its own
    before the handler; at the door that read cost more than the admission itself
    (bench/passes.py). So a scan whose form is complete and whose CSRF token matches the
    cookie is handed to ``checkin.scan_as_session``, which checks the session and the role
    (the guard's "door" permission) in the admission's own transaction and admits only when
    both hold. Anything else, or a session or role found wanting there (nothing admitted),
    goes through the guard, which answers exactly as on every console page: the checks are
    the guard's, in the guard's order (session, CSRF, role), only fewer transactions."""
    web: Web = request.app.state.console
    session = (await web.codec()).load(request)
    form = await read_form(request)
    raw_code = form.get("code") if form is not None else None
    code = checkin.secret_of(raw_code) if isinstance(raw_code, str) else ""
    raw_performance = form.get("performance") if form is not None else None
    performance = int_or_none(raw_performance) if isinstance(raw_performance, str) else None
    raw_csrf = form.get("csrf") if form is not None else None
    token_ok = isinstance(raw_csrf, str) and session.csrf_ok(raw_csrf)
    if form is None or not session.token or not token_ok or not code or performance is None:
        return await _scan_guarded(request)
    door_name = form.get("door")
    scanned = await checkin.scan_as_session(
        web.ctx,
        token=session.token,
        may=lambda role: allowed(role, "door"),
        secret=code,
        performance_id=performance,
        door=door_name if isinstance(door_name, str) else "",
    )
    if scanned is None:
        return await _scan_guarded(request)
    session.account = scanned.account
    page = Page(request, web, scanned.account, session, form)
    response = await _page(page, answer=scanned.scan.answer, board=scanned.scan.board)
    return await web.finish(response, session)


scan.permission = "door"  # type: ignore[attr-defined]  # as guarded marks it (tests/console)


async def _performance(page: Page) -> int | None:
    """The chosen performance, or the door's default (today's first)."""
    wanted = int_or_none(page.value("performance") or page.query("performance"))
    if wanted is not None:
        return wanted
    shown = await door_queries.performances(page.ctx)
    return shown[0].id if shown else None


routes = [
    Route("/door", door, methods=["GET"]),
    Route("/door", scan, methods=["POST"]),
]
