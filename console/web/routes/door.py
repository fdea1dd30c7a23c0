"""The door page (SPEC §9): a code typed or scanned (a USB scanner types the ticket URL and
presses Enter) admits its holder to the chosen performance, with a big answer and the counts.

``GET /console/door?code=…`` (the ticket page's staff link) shows the answer for that code
without admitting, with one button to admit: the code travels in the query string, which the
access log never shows (console.serving), and is admitted only by a POST with the CSRF token.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.queries import door as door_queries
from booking.services import checkin
from console.web.forms import int_or_none
from console.web.pages import Page, guarded


async def _page(page: Page, *, answer: checkin.Answer | None, code: str = "") -> Response:
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
async def scan(page: Page) -> Response:
    code = checkin.secret_of(page.value("code"))
    performance = await _performance(page)
    if not code or performance is None:
        return await _page(page, answer=None)
    answer = await checkin.admit(
        page.ctx,
        actor=page.staff.actor(),
        secret=code,
        performance_id=performance,
        door=page.value("door"),
    )
    return await _page(page, answer=answer)


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
