"""The web application. Built by the composition root; nothing happens at import time."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from booking.context import Context
from booking.services import health


def build_app(ctx: Context, roles: Mapping[str, str]) -> Starlette:
    """``roles`` maps each role to "running" or to why it is off, as /healthz reports it."""

    async def healthz(request: Request) -> JSONResponse:
        database = await health.database_status(ctx)
        ok = database == "ok"
        body = {"status": "ok" if ok else "degraded", "database": database, "roles": dict(roles)}
        return JSONResponse(body, status_code=200 if ok else 503)

    return Starlette(routes=[Route("/healthz", healthz)])
