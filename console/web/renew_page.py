"""/renew/<token> (issue 12): placeholder, filled by its owner this session."""

from __future__ import annotations

from starlette.routing import Route

from booking.context import Context


def routes(ctx: Context) -> list[Route]:
    return []
