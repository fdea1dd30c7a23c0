"""Looking at the database behind the bot's back, to check what the services recorded."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from booking.context import Context
from booking.tables.bookings import Booking, HistoryEntry, Payment
from booking.tables.catalog import Gauge
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage


async def history(ctx: Context, reference: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, channel, detail) of a booking, oldest first."""

    async def work(session: Any) -> list[tuple[str, str, dict[str, Any]]]:
        rows = await session.execute(
            select(HistoryEntry)
            .join(Booking, col(Booking.id) == HistoryEntry.booking_id)
            .where(col(Booking.reference) == reference)
            .order_by(col(HistoryEntry.id))
        )
        return [(h.action, h.channel, json.loads(h.detail)) for h in rows.scalars()]

    return await ctx.db.read(work)


async def references(ctx: Context, status: str | None = None) -> list[str]:
    async def work(session: Any) -> list[str]:
        query = select(col(Booking.reference)).order_by(col(Booking.id))
        if status is not None:
            query = query.where(col(Booking.status) == status)
        return list((await session.execute(query)).scalars())

    return await ctx.db.read(work)


async def remaining(ctx: Context, performance_id: int, area_id: int) -> int:
    async def work(session: Any) -> int:
        query = select(col(Gauge.remaining)).where(
            col(Gauge.performance_id) == performance_id, col(Gauge.area_id) == area_id
        )
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


async def payments_count(ctx: Context) -> int:
    async def work(session: Any) -> int:
        return int((await session.execute(select(func.count()).select_from(Payment))).scalar_one())

    return await ctx.db.read(work)


async def outbox(ctx: Context) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(kind, channel, status, payload) of every outbox row, oldest first."""

    async def work(session: Any) -> list[tuple[str, str, str, dict[str, Any]]]:
        rows = await session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return [(m.kind, m.channel, m.status, json.loads(m.payload)) for m in rows.scalars()]

    return await ctx.db.read(work)


async def telegram_unreachable(ctx: Context, customer_id: int) -> bool:
    async def work(session: Any) -> bool:
        customer = await session.get(Customer, customer_id)
        return bool(customer.telegram_unreachable)

    return await ctx.db.read(work)


async def mailed_code(ctx: Context) -> str:
    """The code of the latest code mail (read in the outbox, as the customer reads their mail)."""
    codes = [p["code"] for kind, _, _, p in await outbox(ctx) if kind == "link_code"]
    assert codes, "no code was mailed"
    return str(codes[-1])


async def code_mails(ctx: Context) -> list[tuple[str, str]]:
    """(channel, address) of every code mail, oldest first."""
    return [(c, str(p.get("to"))) for kind, c, _, p in await outbox(ctx) if kind == "link_code"]
