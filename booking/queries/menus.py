"""The choices of the console's filter forms (events, an event's dates), read
in the same transaction as the list they filter: one snapshot, one round trip less."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.tables.catalog import Event, Performance


@dataclass(frozen=True, slots=True)
class EventChoice:
    id: int
    title: str
    policy: str
    extension_days: int
    auto_extend_days: int
    upcoming: bool  # has a date still to come


@dataclass(frozen=True, slots=True)
class DateChoice:
    id: int
    starts_at: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class Menus:
    events: tuple[EventChoice, ...]
    dates: tuple[DateChoice, ...]  # of the chosen event, if any


async def load_menus(session: AsyncSession, *, now: datetime, event_id: int | None) -> Menus:
    upcoming = (
        select(col(Performance.id))
        .where(col(Performance.event_id) == Event.id, col(Performance.starts_at) > now)
        .exists()
    )
    events = tuple(
        EventChoice(e.id or 0, e.title, e.policy, e.extension_days, e.auto_extend_days, bool(u))
        for e, u in (
            await session.execute(select(Event, upcoming).order_by(col(Event.title), col(Event.id)))
        ).all()
    )
    dates: tuple[DateChoice, ...] = ()
    if event_id is not None:
        rows = await session.execute(
            select(col(Performance.id), col(Performance.starts_at), col(Event.timezone))
            .join(Event, col(Event.id) == Performance.event_id)
            .where(col(Performance.event_id) == event_id)
            .order_by(col(Performance.starts_at))
        )
        dates = tuple(DateChoice(int(i or 0), s, z) for i, s, z in rows.all())
    return Menus(events, dates)
