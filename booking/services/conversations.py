"""Conversation state for the bot (aiogram FSM), in the database: it survives a restart and is
shared by every bot process."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.tables.channels import Conversation


async def get(ctx: Context, *, key: str) -> tuple[str | None, dict[str, Any]]:
    async def work(session: AsyncSession) -> tuple[str | None, dict[str, Any]]:
        row = await session.get(Conversation, key)
        return (row.state, json.loads(row.data)) if row else (None, {})

    return await ctx.db.read(work)


async def put(
    ctx: Context,
    *,
    key: str,
    state: str | None = None,
    data: dict[str, Any] | None = None,
    keep_state: bool = False,
    keep_data: bool = False,
) -> None:
    """Set the state and/or the data of one conversation (``keep_*`` leaves that part alone)."""

    async def work(session: AsyncSession) -> None:
        row = await session.get(Conversation, key)
        if row is None:
            row = Conversation(key=key, updated_at=ctx.clock.now())
            session.add(row)
        if not keep_state:
            row.state = state
        if not keep_data:
            row.data = json.dumps(data or {}, default=str)
        row.updated_at = ctx.clock.now()

    await ctx.db.write(work)
