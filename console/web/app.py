"""The web application. Built by the composition root; nothing happens at import time.

Layout: ``/healthz``; the organizer console under ``/console/`` (routes/, one module per
page); and whatever other adapters mount beside it through ``extra_routes`` (the pay page
under ``/pay/``, the Telegram webhook), wired by the composition root so that console.web never
imports another adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from booking.context import Context
from booking.services import health
from console.web.pages import Web
from console.web.render import STATIC, render, translator
from console.web.routes import console_routes
from console.web.security import SecurityHeaders

MAX_BODY = 4_000_000  # the largest upload is a seat plan (2 MB); nothing needs more


def build_app(
    ctx: Context, roles: Mapping[str, str], *, extra_routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """``roles`` maps each role to "running" or to why it is off, as /healthz reports it.

    ``extra_routes`` are mounted as given, beside the console (e.g. ``Mount("/pay", …)``).
    """

    async def healthz(request: Request) -> JSONResponse:
        database = await health.database_status(ctx)
        ok = database == "ok"
        # A channel out (SMTP, Bot API) degrades its role but stays 200: this process still
        # serves, and a load balancer must not take the console away for a mail outage.
        troubles = await health.channel_troubles(ctx) if ok else []
        shown = dict(roles) | {t.role: t.describe() for t in troubles}
        status = "ok" if ok and not troubles else "degraded"
        body = {"status": status, "database": database, "roles": shown}
        return JSONResponse(body, status_code=200 if ok else 503)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Mount("/console/static", StaticFiles(directory=STATIC), name="static"),
        Mount("/console", routes=console_routes()),
        *extra_routes,
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, https=ctx.settings.public_url.startswith("https://"))
        ],
        exception_handlers={HTTPException: _http_error},
        max_body_size=MAX_BODY,
    )
    app.state.console = Web(ctx)
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    """Plain pages for 404/405/413 and the like; the console's look under /console."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith("/console") or exc.status_code >= 500:
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    gettext = translator(request.headers.get("accept-language", "en")[:2])
    body = render(
        "console/refused.html",
        {
            "_": gettext,
            "title": gettext("Not found") if exc.status_code == 404 else exc.detail,
            "text": gettext("There is nothing at this address. Use the menu to go on."),
            "kind": str(exc.status_code),
            "role": "",
            "lang": "en",
        },
    )
    return HTMLResponse(body, status_code=exc.status_code, headers=exc.headers)
