"""A count per key over a window that starts again when it is over: the console's sign-in
failures (``staff_admin``) and the holder page's requests and tries (``holder_access``).

``bump`` is one conditional upsert, counted before anything is looked up: SQLite holds the
write lock from BEGIN (IMMEDIATE); PostgreSQL's ``ON CONFLICT DO UPDATE … WHERE`` locks the
key's row and re-checks the condition on its latest version, so no two requests can both take
the last place under a limit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def bump(
    session: AsyncSession,
    table: Any,
    column: str,
    *,
    key: str,
    now: datetime,
    window: timedelta,
    limit: int | None,
) -> int | None:
    """Add one to ``table.<column>`` for ``key`` (a window over ``window`` old starts again at
    one; the table has ``key`` unique and ``window_start``): the new count, or None when the
    key is at ``limit`` within its window (then nothing changes). No limit: always counted."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    count = table.c[column]
    stmt = dialect.insert(table).values({"key": key, column: 1, "window_start": now})
    stale = table.c.window_start <= now - window
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            column: case((stale, 1), else_=count + 1),
            "window_start": case((stale, stmt.excluded.window_start), else_=table.c.window_start),
        },
        where=None if limit is None else or_(stale, count < limit),
    )
    row = (await session.execute(stmt.returning(count))).first()
    return None if row is None else int(row[0])
