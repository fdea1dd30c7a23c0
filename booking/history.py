"""The booking history: who did what, when, through which channel."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.actors import Actor
from booking.tables.bookings import HistoryEntry


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


async def record_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(HistoryEntry), rows)
