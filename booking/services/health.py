"""Health of what the core depends on: the database, and the channels notices go out on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.sql import insert_ignoring_duplicates
from booking.tables.staff import Setting


async def database_status(ctx: Context) -> str:
    """ "ok", or the kind of failure (never the connection string: it may hold a password)."""

    async def ping(session: AsyncSession) -> None:
        await session.execute(text("SELECT 1"))

    try:
        await ctx.db.read(ping)
    except Exception as exc:  # any failure is reported, not raised: this is a health probe
        return f"error: {type(exc).__name__}"
    return "ok"


# -- delivery channels ---------------------------------------------------------------------
#
# An outage of a channel (the SMTP server down or refusing us, the Bot API answering 5xx) is
# kept as one Setting row per channel, ``health:<channel>``, holding when it began and why.
# The row is shared by every process: /healthz runs in the web process, delivery in the
# worker, often not the same one. The row is the episode: the first failure that inserts it
# logs the one WARNING (an insert that finds it there already is the same episode and says
# nothing), and the first delivery that goes through on that channel deletes it, logs the
# recovery and ends the episode. Both happen inside the outbox's own write transactions.

HEALTH_KEY = "health:"
# The role /healthz names for each channel's trouble.
CHANNEL_ROLES = {"email": "mail", "telegram": "bot"}


@dataclass(frozen=True, slots=True)
class ChannelTrouble:
    channel: str
    reason: str  # as the adapter said it: never a password or token
    since: datetime

    @property
    def role(self) -> str:
        return CHANNEL_ROLES.get(self.channel, self.channel)

    def describe(self) -> str:
        return f"degraded: {self.reason} (since {self.since.isoformat(timespec='seconds')})"


async def channel_down(session: AsyncSession, *, channel: str, reason: str, now: datetime) -> bool:
    """Record that ``channel`` is out; True when this begins the episode (say it once)."""
    value = json.dumps({"since": now.isoformat(), "reason": reason[:300]})
    table: Any = Setting.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
    row = {"key": HEALTH_KEY + channel, "value": value}
    return await insert_ignoring_duplicates(session, table, [row], key="key") == 1


async def channels_up(session: AsyncSession, *, channels: Iterable[str]) -> list[str]:
    """A delivery went through on each of ``channels``: end their episodes; returns those
    that were out."""
    keys = [HEALTH_KEY + c for c in sorted(set(channels))]
    if not keys:
        return []
    ended = await session.execute(
        delete(Setting).where(col(Setting.key).in_(keys)).returning(col(Setting.key))
    )
    return [str(k).removeprefix(HEALTH_KEY) for k in ended.scalars()]


async def channel_troubles(ctx: Context) -> list[ChannelTrouble]:
    """The channels out right now, as the last delivery attempts found them."""

    async def work(session: AsyncSession) -> list[ChannelTrouble]:
        query = select(Setting).where(col(Setting.key).startswith(HEALTH_KEY))
        return [_trouble(row) for row in (await session.execute(query)).scalars()]

    try:
        return await ctx.db.read(work)
    except Exception:  # a health probe reports; the database's own status says it is down
        return []


def _trouble(row: Setting) -> ChannelTrouble:
    data = json.loads(row.value or "{}")
    return ChannelTrouble(
        channel=row.key.removeprefix(HEALTH_KEY),
        reason=str(data.get("reason") or "unknown"),
        since=datetime.fromisoformat(str(data.get("since"))),
    )
