"""Two doors scanning one ticket at the same moment: exactly one admits, the other is told
"already used". The unique index on (entitlement, performance) is the guard; its companion
runs the same check-then-insert on a copy of the table without it and admits twice.

On SQLite and PostgreSQL (the ``ctx`` fixture), on one event loop, each call in its own session.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.services import checkin, payments
from booking.tables.bookings import Booking, Ticket
from booking.tables.checkin import CheckIn
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking

DOOR = Actor(kind="staff", name="Door Test", channel="console")
TICKETS = 8  # each scanned by two doors at once


async def secrets_and_performance(ctx: Context) -> tuple[int, list[str]]:
    cat = await make_catalog(ctx)
    booking = await make_held_booking(ctx, cat, await make_customer(ctx), quantity=TICKETS)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=booking.reference, method="cash"
    )

    async def work(session: AsyncSession) -> list[str]:
        query = (
            select(col(Ticket.secret))
            .join(Booking, col(Booking.id) == Ticket.booking_id)
            .where(col(Booking.reference) == booking.reference)
        )
        return list((await session.execute(query)).scalars())

    return cat.performance_id, await ctx.db.read(work)


async def rows_per_entitlement(ctx: Context, table: Table) -> Counter[int]:
    async def work(session: AsyncSession) -> Counter[int]:
        return Counter((await session.execute(select(table.c.entitlement_id))).scalars())

    return await ctx.db.read(work)


async def test_two_doors_scanning_one_ticket_at_once_admit_it_once(ctx: Context) -> None:
    performance, secrets = await secrets_and_performance(ctx)
    answers = await asyncio.gather(
        *(
            checkin.admit(ctx, actor=DOOR, secret=s, performance_id=performance, door=door)
            for s in secrets
            for door in ("North", "South")
        )
    )
    for n in range(TICKETS):
        pair = sorted(a.outcome for a in answers[2 * n : 2 * n + 2])
        assert pair == ["admitted", "already_used"], pair
    real: Table = CheckIn.__table__  # type: ignore[attr-defined]
    assert set((await rows_per_entitlement(ctx, real)).values()) == {1}


def checkin_copy_without_unique() -> Table:
    return Table(
        f"checkin_unguarded_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("entitlement_kind", String(10), nullable=False),
        Column("entitlement_id", Integer, nullable=False),
        Column("performance_id", Integer, nullable=False),
        Column("admitted_at", DateTime(timezone=True), nullable=False),
        Column("door", String(40), nullable=False),
    )


async def naive_admit(
    ctx: Context, table: Table, secret: str, performance: int, door: str, checked: asyncio.Barrier
) -> str:
    """The unguarded step: SELECT whether the ticket came in, then INSERT the admission (once
    every door has checked: the other door checks meanwhile, however busy the machine)."""
    now = ctx.clock.now()
    found = await ctx.db.read(
        lambda session: checkin.entitlement(session, secret, performance, now=now)
    )
    assert found is not None

    async def used(session: AsyncSession) -> bool:
        query = select(table.c.id).where(
            table.c.entitlement_id == found.id, table.c.performance_id == performance
        )
        return (await session.execute(query)).first() is not None

    seen = await ctx.db.read(used)
    await asyncio.wait_for(checked.wait(), timeout=10)
    if seen:
        return "already_used"
    row = {
        "entitlement_kind": found.kind,
        "entitlement_id": found.id,
        "performance_id": performance,
        "admitted_at": ctx.clock.now(),
        "door": door,
    }

    async def record(session: AsyncSession) -> None:
        await session.execute(insert(table).values(**row))

    await ctx.db.write(record)
    return "admitted"


async def test_without_the_unique_index_two_doors_admit_the_same_ticket(ctx: Context) -> None:
    performance, secrets = await secrets_and_performance(ctx)
    unguarded = checkin_copy_without_unique()
    async with ctx.db.engine.begin() as conn:
        await conn.run_sync(unguarded.create)
    checked = asyncio.Barrier(2 * len(secrets))
    try:
        results = await asyncio.gather(
            *(
                naive_admit(ctx, unguarded, s, performance, door, checked)
                for s in secrets
                for door in ("North", "South")
            )
        )
        per_ticket = await rows_per_entitlement(ctx, unguarded)
    finally:
        async with ctx.db.engine.begin() as conn:
            await conn.run_sync(unguarded.drop)
    twice = [n for n in range(TICKETS) if results[2 * n : 2 * n + 2] == ["admitted"] * 2]
    assert twice, "no ticket was admitted twice: the race was not observed"
    assert 2 in per_ticket.values()
