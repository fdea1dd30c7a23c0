"""Health of what the core depends on."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context


async def database_status(ctx: Context) -> str:
    """ "ok", or the kind of failure (never the connection string: it may hold a password)."""

    async def ping(session: AsyncSession) -> None:
        await session.execute(text("SELECT 1"))

    try:
        await ctx.db.read(ping)
    except Exception as exc:  # any failure is reported, not raised: this is a health probe
        return f"error: {type(exc).__name__}"
    return "ok"
