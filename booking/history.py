"""The booking history: who did what, when, through which channel."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from booking.actors import Actor
from booking.sql import Prepared, connection_of
from booking.tables.bookings import HistoryEntry

# Compiled once. A table insert, so it runs on the connection without the ORM.
_INSERT = Prepared(insert(HistoryEntry.__table__))  # type: ignore[attr-defined]  # no stub


def row(
    *, booking_id: int, actor: Actor, at: datetime, action: str, **detail: Any
) -> dict[str, Any]:
    return {
        "booking_id": booking_id,
        "at": at,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "channel": actor.channel,
        "action": action,
        "detail": json.dumps(detail, default=str, sort_keys=True),
    }


def record(
    session: AsyncSession,
    *,
    booking_id: int,
    actor: Actor,
    at: datetime,
    action: str,
    **detail: Any,
) -> None:
    session.add(
        HistoryEntry(**row(booking_id=booking_id, actor=actor, at=at, action=action, **detail))
    )


async def write(
    session: AsyncSession | AsyncConnection,
    *,
    booking_id: int,
    actor: Actor,
    at: datetime,
    action: str,
    **detail: Any,
) -> None:
    """``record``, written at once with a prepared INSERT (for paths that use no ORM object)."""
    conn = await connection_of(session)
    await _INSERT.run(conn, row(booking_id=booking_id, actor=actor, at=at, action=action, **detail))


async def record_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(HistoryEntry), rows)
