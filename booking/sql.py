"""Small dialect helpers for statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession


async def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *, key: str
) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING; returns how many rows were new."""
    if not rows:
        return 0
    dialect = _bind(session).dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=[key])
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def skip_locked(session: AsyncSession) -> bool:
    """FOR UPDATE SKIP LOCKED where the database has it; SQLite's IMMEDIATE lock serializes."""
    return _bind(session).dialect.name == "postgresql"


def _bind(session: AsyncSession) -> AsyncEngine | AsyncConnection:
    """The session's bind; our sessions are always created bound to the engine."""
    return cast("AsyncEngine | AsyncConnection", session.bind)
