"""Key/value settings kept in the database (shared by every process)."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.tables.staff import Setting


async def secret_key(ctx: Context) -> str:
    """GUICHET_SECRET_KEY, or one generated once and kept in the database for every process."""
    if ctx.settings.secret_key:
        return ctx.settings.secret_key

    async def work(session: AsyncSession) -> str:
        row = await session.get(Setting, "secret_key")
        if row is None:
            row = Setting(key="secret_key", value=secrets.token_urlsafe(48))
            session.add(row)
        return row.value

    # Kept on the context: pay links and replies ask for it often, and it never changes.
    ctx.settings.secret_key = await ctx.db.write(work)
    return ctx.settings.secret_key
