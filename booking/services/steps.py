"""Bot conversation steps in one statement each: save (an upsert), and claim exactly once.

``conversations`` keeps the general get/put; the bot saves a step on almost every update, so
here the write is a single ``INSERT … ON CONFLICT DO UPDATE``. A double or triple click on
"Hold" arrives as two or three updates, possibly in two webhook processes at once: the
handler first moves the conversation away from the step it expects with a compare-and-set
(``advance``), and only the update that wins goes on to call the service.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.tables.channels import Conversation

_TABLE: Any = Conversation.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it


async def save(ctx: Context, *, key: str, state: str | None, data: dict[str, Any]) -> None:
    """Set both the state and the data of conversation ``key``."""
    await save_many(ctx, [(key, state, data)])


async def save_many(ctx: Context, saves: Sequence[tuple[str, str | None, dict[str, Any]]]) -> None:
    """Save several conversations (key, state, data) in one transaction: the bot groups the
    saves of concurrent updates, so that a busy minute costs a few commits, not thousands."""
    if not saves:
        return
    now = ctx.clock.now()
    latest = {key: (state, data) for key, state, data in saves}  # the last save of a key wins
    rows = [
        {"key": key, "state": state, "data": json.dumps(data, default=str), "updated_at": now}
        for key, (state, data) in latest.items()
    ]

    async def work(session: AsyncSession) -> None:
        module: Any = postgresql if ctx.db.url.startswith("postgresql") else sqlite
        stmt = module.insert(_TABLE)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "state": stmt.excluded.state,
                "data": stmt.excluded.data,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        await session.execute(stmt, rows)

    await ctx.db.write(work)


async def advance(ctx: Context, *, key: str, expected: str, to: str | None) -> bool:
    """Move conversation ``key`` from state ``expected`` to ``to``; False when it was elsewhere
    (another update already took this step). The data is left as it is."""

    async def work(session: AsyncSession) -> bool:
        result = await session.execute(
            update(Conversation)
            .where(col(Conversation.key) == key, col(Conversation.state) == expected)
            .values(state=to, updated_at=ctx.clock.now())
        )
        return getattr(result, "rowcount", 0) == 1

    return await ctx.db.write(work)
