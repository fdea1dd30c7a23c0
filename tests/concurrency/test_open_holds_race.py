"""The limit of open holds per customer under concurrency (issue 11, point 14): one customer
firing many holds at once gets exactly the limit, on SQLite and PostgreSQL (``ctx``).

Each guarded run widens the race window on purpose (a pause after the count, inside the
transaction), and each guard is shown necessary by a run without it that lets too many
through: a count taken before the hold's transaction (both databases), and on PostgreSQL the
count without the customer row's lock.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services import holds
from booking.tables.bookings import Booking
from booking.views import BookingView, CustomerView
from tests.builders import Catalog, as_customer, make_catalog, make_customer
from tests.concurrency.test_holds_race import gather_bounded, in_flight, split

LIMIT = 3
ATTEMPTS = 30
PAUSE_S = 0.02  # after the count, before the booking is written


@pytest.fixture(autouse=True)
def slow_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hold pauses between counting the open holds and writing its booking."""
    count = holds._open_holds

    async def counted_then_paused(conn: AsyncConnection, customer_id: int) -> int:
        found = await count(conn, customer_id)
        await asyncio.sleep(PAUSE_S)
        return found

    monkeypatch.setattr(holds, "_open_holds", counted_then_paused)


async def open_holds(ctx: Context, customer_id: int) -> int:
    async def work(session: AsyncSession) -> int:
        query = (
            select(func.count())
            .select_from(Booking)
            .where(
                col(Booking.customer_id) == customer_id,
                col(Booking.status).in_(sorted(states.OPEN)),
            )
        )
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


async def race(
    ctx: Context, cat: Catalog, ana: CustomerView, *, naive: bool = False
) -> tuple[list[BookingView], Counter[str], list[BaseException]]:
    """ATTEMPTS holds of one place by one customer at once, through Telegram."""
    actor = as_customer(ana)

    async def hold_one() -> BookingView:
        if naive:
            # The unguarded twin: the count checked first, in its own transaction, then the
            # hold written (the engine's own count switched off).
            if await open_holds(ctx, ana.id) >= LIMIT:
                raise BookingError("too_many_holds", count=LIMIT)
            await asyncio.sleep(PAUSE_S)
        return await holds.hold(
            ctx,
            actor=actor,
            customer_id=ana.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.ga_tariff, quantity=1)],
        )

    outcomes = await gather_bounded([hold_one] * ATTEMPTS, in_flight(ctx, ATTEMPTS))
    return split(outcomes)


async def test_many_holds_at_once_by_one_customer_stop_exactly_at_the_limit(ctx: Context) -> None:
    ctx.settings.max_open_holds = LIMIT
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)

    made, refused, other = await race(ctx, cat, ana)

    assert other == []
    assert len(made) == LIMIT
    assert refused == {"too_many_holds": ATTEMPTS - LIMIT}
    assert await open_holds(ctx, ana.id) == LIMIT


async def test_a_count_checked_before_the_hold_s_transaction_lets_too_many_through(
    ctx: Context,
) -> None:
    ctx.settings.max_open_holds = 0  # only the naive check before the transaction
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)

    made, refused, other = await race(ctx, cat, ana, naive=True)

    assert other == [] and set(refused) <= {"too_many_holds"}
    assert len(made) > LIMIT
    assert await open_holds(ctx, ana.id) > LIMIT


# SQLite runs one writer at a time: there is no lock to take away there.
@pytest.mark.parametrize(
    "ctx", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_on_postgresql_without_the_customer_row_lock_too_many_get_through(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx.settings.max_open_holds = LIMIT

    async def no_lock(conn: AsyncConnection, customer_id: int) -> None:
        return None

    monkeypatch.setattr(holds, "_lock_customer", no_lock)
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)

    made, refused, other = await race(ctx, cat, ana)

    assert other == [] and set(refused) <= {"too_many_holds"}
    assert len(made) > LIMIT
