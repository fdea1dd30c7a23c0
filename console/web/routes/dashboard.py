"""The dashboard: what needs attention today."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.queries import dashboard as dashboard_service
from booking.services import outbox_admin
from console.web.pages import Page, guarded


@guarded("dashboard")
async def dashboard(page: Page) -> Response:
    board = await dashboard_service.dashboard(page.ctx)
    waiting = outbox_admin.Waiting(
        {"email": board.waiting_email, "telegram": board.waiting_telegram}
    )
    return page.render(
        "console/dashboard.html", board=board, waiting=waiting, configured=set(page.ctx.channels)
    )


routes = [Route("/", dashboard)]
