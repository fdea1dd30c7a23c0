"""Adding newly scheduled dates to a product while renewals into it run (SQLite and
PostgreSQL), each guard shown to matter by its companion:

- a renewal reads the dates it includes, a new date is scheduled and added to every pass
  before the renewal commits: the product row, locked by both, makes the addition wait, and
  it then completes the renewed pass. Without the lock (PostgreSQL) the addition reads the
  passes before the renewal's exists, and the renewed pass misses the date;
- the seat kept for an invited holder is kept at the new date too (a bug this race showed:
  otherwise anyone could take it there and the holder's renewal, which asks for the kept seat
  at every date, was refused). Without it the holder's renewal is refused; a seat already
  taken at the new date keeps nothing for that holder (all dates or none, as at the launch),
  and the renewal then gets the best seat;
- a renewal holding its renewal's row (its compare-and-set) waits for the product lock the
  addition holds: the addition skips the row it cannot lock (``FOR UPDATE SKIP LOCKED``)
  rather than wait for it, and both complete. Without the skip (PostgreSQL) each waits for
  the other: a deadlock, and PostgreSQL aborts one.

Both run on one event loop, each in its own session, as in production. The renewal is held in
its transaction until the addition is done (or has waited half a second on a lock), so the
two truly overlap on PostgreSQL; on SQLite one process's writers run one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.services import catalog, holds, pass_additions, passes
from booking.services import renewals as service
from booking.tables.bookings import Item
from booking.tables.passes import Pass, PassProduct
from booking.tables.renewals import Renewal
from tests.booking.test_renewals import (
    DAY,
    World,
    campaign,
    dates,
    holder,
    kept_claims,
    refused,
    remaining,
    renewal_of,
    world,
)
from tests.builders import STAFF, make_customer

HOLD_S = 0.5  # how long the renewal waits, mid-transaction, for the addition to finish


async def invited(ctx: Context) -> tuple[World, int, passes.SoldPass]:
    """Ana (last season's A1) invited, her seat kept at both new dates of the same plan."""
    w = await world(ctx)
    _, ana = await holder(ctx, w, "A1", name="Ana")
    report = await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    assert report.seats_kept == 1
    return w, (await renewal_of(ctx, ana.id)).id or 0, ana


async def new_date(ctx: Context, w: World) -> int:
    return await catalog.add_performance(
        ctx, actor=STAFF, event_id=w.ids["opera_next"], starts_at=ctx.clock.now() + 110 * DAY
    )


async def dates_of_pass(ctx: Context, pass_id: int) -> set[int]:
    async def work(session: AsyncSession) -> set[int]:
        query = (
            select(col(Item.performance_id))
            .join(Pass, col(Pass.booking_id) == Item.booking_id)
            .where(col(Pass.id) == pass_id)
        )
        return set((await session.execute(query)).scalars())

    return await ctx.db.read(work)


def pausing(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    reached: asyncio.Event,
    go: asyncio.Event,
) -> None:
    """``owner.name`` waits, when called, for ``go`` (at most HOLD_S: it may be what ``go``
    waits for) before doing its work; ``reached`` says it was called."""
    real: Callable[..., Awaitable[Any]] = getattr(owner, name)

    async def paused(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(go.wait(), timeout=HOLD_S)
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, paused)


async def adding(ctx: Context, w: World, done: asyncio.Event) -> pass_additions.AdditionReport:
    try:
        return await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=w.same_plan)
    finally:
        done.set()


# -- a renewal that read the dates before a new one was added ---------------------------------


async def renewal_race(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, Any]:
    """(the renewed pass's id, the new date's id, the addition's report)."""
    w, renewal_id, _ = await invited(ctx)
    read_dates, added = asyncio.Event(), asyncio.Event()
    # The renewal has read its dates and is about to hold them when it pauses.
    pausing(monkeypatch, holds, "hold_dates_in_session", read_dates, added)
    renewal = asyncio.create_task(
        service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan)
    )
    await read_dates.wait()
    late = await new_date(ctx, w)
    sold, report = await asyncio.gather(renewal, adding(ctx, w, added))
    return sold.id, late, report


async def test_a_renewal_made_while_dates_are_added_gets_the_new_date(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    sold, late, report = await renewal_race(ctx, monkeypatch)

    assert late in await dates_of_pass(ctx, sold)
    assert (report.passes, report.items_added) == (1, 1)  # added after the renewal committed
    assert await kept_claims(ctx) == []


async def test_without_the_product_lock_the_renewed_pass_misses_the_new_date(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ctx.db.sqlite:
        pytest.skip("SQLite runs one writer at a time: the renewal and the addition cannot overlap")

    async def unlocked(session: AsyncSession, product_id: int) -> PassProduct | None:
        return await session.get(PassProduct, product_id)  # no FOR UPDATE

    async def unlocked_row(conn: AsyncConnection, product_id: int) -> passes.ProductRow | None:
        table: Any = PassProduct.__table__  # type: ignore[attr-defined]
        columns = [table.c[name] for name in passes.ProductRow.__dataclass_fields__]
        found = (await conn.execute(select(*columns).where(table.c.id == product_id))).first()
        return None if found is None else passes.ProductRow(*found)  # no FOR UPDATE

    monkeypatch.setattr(passes, "product_row", unlocked_row)  # the renewal's lock
    monkeypatch.setattr(pass_additions, "locked_product", unlocked)
    sold, late, report = await renewal_race(ctx, monkeypatch)

    assert late not in await dates_of_pass(ctx, sold)
    assert report.items_added == 0  # it read the passes before the renewed pass existed


# -- the seat kept for an invited holder, at the new date -------------------------------------


async def someone_takes(ctx: Context, w: World, performance_id: int, seat: str) -> None:
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=w.ids["opera_next"], area_id=w.ids["salle_Stalls"],
        name="Place", price_minor=5000,
    )  # fmt: skip
    someone = await make_customer(ctx, email="someone@example.org")
    seat_id = w.seat("salle", seat[0], int(seat[1:]))
    await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id, performance_id=performance_id,
        lines=[holds.Line(tariff, seat_ids=(seat_id,))],
    )  # fmt: skip


async def test_the_seat_kept_for_an_invited_holder_is_kept_at_the_new_date(ctx: Context) -> None:
    w, renewal_id, _ = await invited(ctx)
    late = await new_date(ctx, w)
    before = await remaining(ctx, w.ids["salle_Stalls"])

    report = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=w.same_plan)

    a1 = w.seat("salle", "A", 1)
    assert (report.kept_extended, report.kept_lost) == (1, ())
    assert (late, a1, renewal_id) in await kept_claims(ctx)
    assert (await remaining(ctx, w.ids["salle_Stalls"]))[late] == before[late] - 1
    taken = await refused(someone_takes(ctx, w, late, "A1"))
    assert taken.code == "seat_taken"
    again = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=w.same_plan)
    assert again.kept_extended == 0  # idempotent
    sold = await service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan)
    assert late in await dates_of_pass(ctx, sold.id)
    assert await kept_claims(ctx) == []


async def test_without_keeping_it_at_the_new_date_the_holders_renewal_is_refused(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_kept(session: AsyncSession, product: Any, now: Any) -> tuple[int, list[Any]]:
        return 0, []

    monkeypatch.setattr(pass_additions, "_extend_kept", not_kept)
    w, renewal_id, _ = await invited(ctx)
    late = await new_date(ctx, w)
    await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=w.same_plan)
    await someone_takes(ctx, w, late, "A1")  # nothing keeps it there

    error = await refused(
        service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan)
    )

    assert error.code in ("seat_taken", "pass_seat_taken")


async def test_a_kept_seat_taken_at_the_new_date_keeps_nothing_and_the_renewal_gets_another(
    ctx: Context,
) -> None:
    w, renewal_id, ana = await invited(ctx)
    late = await new_date(ctx, w)
    await someone_takes(ctx, w, late, "A1")  # before the organizer adds the date
    before = await remaining(ctx, w.ids["salle_Stalls"])

    report = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=w.same_plan)

    (lost,) = report.kept_lost
    assert (lost.pass_code, lost.date.performance_id, lost.reason) == (ana.code, late, "seat_taken")
    assert report.kept_extended == 0
    assert await kept_claims(ctx) == []  # all dates or none
    after = await remaining(ctx, w.ids["salle_Stalls"])
    assert all(
        after[p] == before[p] + 1 for p in await dates(ctx, w.ids["opera_next"]) if p != late
    )
    renewal = await renewal_of(ctx, ana.id)
    assert (renewal.product_id, renewal.seat_id) == (None, None)
    sold = await service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan)
    assert late in await dates_of_pass(ctx, sold.id)


# -- a renewal holding its row while the addition holds the product ----------------------------


async def row_race(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Ana's renewal has moved its row (the compare-and-set) and waits to lock the product;
    the addition, holding the product, reaches the seats kept for invited holders."""
    w, renewal_id, _ = await invited(ctx)
    late = await new_date(ctx, w)
    moved, added = asyncio.Event(), asyncio.Event()
    pausing(monkeypatch, passes, "product_row", moved, added)  # the renewal's product lock
    renewal = asyncio.create_task(
        service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan)
    )
    await moved.wait()  # (the addition takes the product's lock through its own import)
    outcomes = await asyncio.gather(renewal, adding(ctx, w, added), return_exceptions=True)
    sold = outcomes[0]
    if isinstance(sold, passes.SoldPass):
        assert late in await dates_of_pass(ctx, sold.id)
    return outcomes


async def test_a_renewal_holding_its_row_and_the_addition_both_complete(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    sold, report = await row_race(ctx, monkeypatch)

    assert isinstance(sold, passes.SoldPass)
    assert isinstance(report, pass_additions.AdditionReport)
    # PostgreSQL: the renewal's row skipped (it renews at every date itself); SQLite: the
    # addition ran after the renewal committed. Either way nothing is kept any more.
    assert (report.kept_extended, report.kept_lost) == (0, ())
    assert await kept_claims(ctx) == []


async def test_without_skipping_the_locked_renewal_the_two_deadlock(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ctx.db.sqlite:
        pytest.skip("SQLite runs one writer at a time: no row locks to wait for")

    def waiting(session: AsyncSession, query: Any) -> Any:
        return query.with_for_update(of=Renewal)  # waits for the row the renewal holds

    monkeypatch.setattr(pass_additions, "_locking", waiting)
    outcomes = await row_race(ctx, monkeypatch)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], DBAPIError)
    assert "deadlock" in str(errors[0]).lower()
