"""A pass holder puts a date on resale while a door scans the same pass for that date
(issue 13): exactly one wins. Either the listing exists and the door answers "not valid", or
the check-in exists and the listing is refused "resale_used"; never both, on SQLite and
PostgreSQL. The guard (booking/services/resale.py's docstring): the listing's placeholder
check-in row meets the door's INSERT on the check-in's unique index, and the door looks for an
open listing after its INSERT.

1. Many pairs at once, each in its own session: one winner per pair.
2. The two interleavings forced (a pause injected in the real code): the listing first (the
   door waits, then refuses) and the door first (the listing waits, then is refused).
3. Companions without the guard: checks read in one transaction and rows written in another
   (both databases), and, on PostgreSQL, the real transactions without the placeholder: both
   the listing and the check-in are written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services import checkin, resale
from booking.services.resale import ListingView
from booking.tables.bookings import Item
from booking.tables.checkin import CheckIn
from booking.tables.passes import Pass
from booking.tables.resale import OPEN_STATES, ResaleListing
from tests.booking.test_pass_credit import Holder, holder_with_credit, pass_product, scalar
from tests.booking.test_resale import allow, dates_of, secret_of
from tests.builders import as_customer

DOOR = Actor(kind="staff", name="Door Test", channel="console")
PAIRS = 6  # passes, each listed and scanned at once (the product's area has 10 seats)
WAIT = 0.3  # long enough for a blocked statement to show it is blocked


async def holders(ctx: Context, count: int) -> tuple[list[Holder], int]:
    """``count`` holders of one product, resale allowed; returns them and the first date."""
    product_id = await pass_product(ctx)
    found = [
        await holder_with_credit(
            ctx, 0, product_id=product_id, email=f"h{n}@example.org", name=f"Holder {n}"
        )
        for n in range(count)
    ]
    dates = await dates_of(ctx, found[0])
    await allow(ctx, [e for _, e in dates])
    return found, dates[0][0]


async def at_once(calls: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    start = asyncio.Event()

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        await start.wait()
        return await call()

    tasks = [asyncio.create_task(one(call)) for call in calls]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def list_now(ctx: Context, holder: Holder, performance: int) -> list[ListingView]:
    return await resale.list_places(
        ctx, actor=as_customer(holder.customer), pass_id=holder.pass_id,
        performance_ids=[performance], payout="donate",
    )  # fmt: skip


def list_one(ctx: Context, holder: Holder, performance: int) -> Callable[[], Awaitable[Any]]:
    return lambda: list_now(ctx, holder, performance)


async def written(ctx: Context, pass_id: int, performance: int) -> tuple[bool, bool]:
    """(an open listing exists, a check-in exists) for the pass at the date."""
    listing = select(col(ResaleListing.id)).where(
        col(ResaleListing.pass_id) == pass_id,
        col(ResaleListing.performance_id) == performance,
        col(ResaleListing.state).in_(OPEN_STATES),
    )
    entered = select(col(CheckIn.id)).where(
        col(CheckIn.entitlement_kind) == "pass",
        col(CheckIn.entitlement_id) == pass_id,
        col(CheckIn.performance_id) == performance,
    )

    async def work(session: AsyncSession) -> tuple[bool, bool]:
        return (
            (await session.execute(listing)).first() is not None,
            (await session.execute(entered)).first() is not None,
        )

    return await ctx.db.read(work)


def winner(listed: Any, answer: Any) -> str:
    """Which side won one pair, or "both"/"neither" (a bug either way)."""
    listing_won = isinstance(listed, list)
    door_won = isinstance(answer, checkin.Answer) and answer.outcome == "admitted"
    if listing_won and not door_won:
        assert isinstance(answer, checkin.Answer) and answer.outcome == "not_valid", answer
        return "listing"
    if door_won and not listing_won:
        assert isinstance(listed, BookingError) and listed.code == "resale_used", listed
        return "door"
    return "both" if listing_won else "neither"


# -- 1. many pairs at once -----------------------------------------------------------------


async def test_a_listing_and_a_door_scan_at_once_exactly_one_wins(ctx: Context) -> None:
    found, performance = await holders(ctx, PAIRS)
    secrets = [await secret_of(ctx, h.pass_id) for h in found]
    calls: list[Callable[[], Awaitable[Any]]] = []
    for holder, secret in zip(found, secrets, strict=True):
        calls.append(list_one(ctx, holder, performance))
        calls.append(
            partial(checkin.admit, ctx, actor=DOOR, secret=secret, performance_id=performance)
        )
    outcomes = await at_once(calls)

    winners = [winner(outcomes[2 * n], outcomes[2 * n + 1]) for n in range(PAIRS)]
    assert set(winners) <= {"listing", "door"}, winners
    for holder, won in zip(found, winners, strict=True):
        assert await written(ctx, holder.pass_id, performance) == (
            won == "listing",
            won == "door",
        )


# -- 2. the interleavings forced -----------------------------------------------------------


def paused(
    original: Callable[..., Awaitable[Any]], reached: asyncio.Event, go: asyncio.Event
) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        await asyncio.wait_for(go.wait(), timeout=10)
        return await original(*args, **kwargs)

    return wrapper


async def test_listing_first_the_door_waits_then_refuses_the_pass(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ana,), performance = await holders(ctx, 1)
    secret = await secret_of(ctx, ana.pass_id)
    reached, go = asyncio.Event(), asyncio.Event()
    # The listing stops after its placeholder and its rows, before it commits.
    monkeypatch.setattr(resale, "_unguard", paused(resale._unguard, reached, go))

    listing = asyncio.create_task(list_now(ctx, ana, performance))
    await asyncio.wait_for(reached.wait(), timeout=10)
    door = asyncio.create_task(
        checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=performance)
    )
    await asyncio.sleep(WAIT)
    assert not door.done()  # PostgreSQL: on the placeholder's key; SQLite: the write lock
    go.set()

    assert winner(await listing, await door) == "listing"
    assert await written(ctx, ana.pass_id, performance) == (True, False)


async def test_door_first_the_listing_waits_then_is_refused_as_used(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ana,), performance = await holders(ctx, 1)
    secret = await secret_of(ctx, ana.pass_id)
    reached, go = asyncio.Event(), asyncio.Event()
    # The door stops after its INSERT, before its resale lookup and its commit.
    monkeypatch.setattr(checkin, "_on_resale", paused(checkin._on_resale, reached, go))

    door = asyncio.create_task(
        checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=performance)
    )
    await asyncio.wait_for(reached.wait(), timeout=10)
    listing = asyncio.create_task(list_now(ctx, ana, performance))
    await asyncio.sleep(WAIT)
    assert not listing.done()  # PostgreSQL: its placeholder on the door's key; SQLite: lock
    go.set()

    listed = await asyncio.gather(listing, return_exceptions=True)
    assert winner(listed[0], await door) == "door"
    assert await written(ctx, ana.pass_id, performance) == (False, True)


# -- 3. companions: without the guard both are written -------------------------------------


async def test_checks_apart_from_the_writes_let_both_the_listing_and_the_door_in(
    ctx: Context,
) -> None:
    """Each side checks the other (the real checks: ``quote`` and ``check``) in one
    transaction and writes in another: both see nothing, both write."""
    (ana,), performance = await holders(ctx, 1)
    secret = await secret_of(ctx, ana.pass_id)
    both_read = asyncio.Barrier(2)

    async def naive_listing() -> None:
        (quote,) = await resale.quote(
            ctx, actor=as_customer(ana.customer), pass_id=ana.pass_id,
            performance_ids=[performance],
        )  # fmt: skip
        await asyncio.wait_for(both_read.wait(), timeout=5)
        item_id = await _item_of(ctx, ana.pass_id, performance)

        async def work(session: AsyncSession) -> None:
            session.add(
                ResaleListing(
                    pass_id=ana.pass_id,
                    performance_id=performance,
                    item_id=item_id,
                    payout="donate",
                    price_minor=quote.price_minor,
                    fee_minor=quote.fee_minor,
                    created_at=ctx.clock.now(),
                )
            )

        await ctx.db.write(work)

    async def naive_door() -> None:
        answer = await checkin.check(ctx, actor=DOOR, secret=secret, performance_id=performance)
        assert answer.outcome == "admissible"
        await asyncio.wait_for(both_read.wait(), timeout=5)

        async def work(session: AsyncSession) -> None:
            session.add(
                CheckIn(
                    entitlement_kind="pass",
                    entitlement_id=ana.pass_id,
                    performance_id=performance,
                    admitted_at=ctx.clock.now(),
                    door="North",
                )
            )

        await ctx.db.write(work)

    await asyncio.gather(naive_listing(), naive_door())
    assert await written(ctx, ana.pass_id, performance) == (True, True)


async def test_without_the_placeholder_a_door_admits_a_pass_being_listed(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL, the real transactions with the listing's placeholder taken out: the door's
    INSERT no longer waits, its lookup cannot see the uncommitted listing, and both commit.
    (SQLite runs write transactions one at a time: they cannot overlap there.)"""
    if ctx.db.sqlite:
        pytest.skip("SQLite serializes write transactions: they cannot overlap")
    (ana,), performance = await holders(ctx, 1)
    secret = await secret_of(ctx, ana.pass_id)
    reached, go = asyncio.Event(), asyncio.Event()

    async def no_guard(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(resale, "_guard", no_guard)
    monkeypatch.setattr(resale, "_unguard", paused(no_guard, reached, go))

    listing = asyncio.create_task(list_now(ctx, ana, performance))
    await asyncio.wait_for(reached.wait(), timeout=10)
    answer = await asyncio.wait_for(
        checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=performance), timeout=10
    )
    go.set()
    listed = await listing

    assert answer.outcome == "admitted" and isinstance(listed, list)
    assert await written(ctx, ana.pass_id, performance) == (True, True)


async def _item_of(ctx: Context, pass_id: int, performance: int) -> int:
    query = (
        select(col(Item.id))
        .join(Pass, col(Pass.booking_id) == Item.booking_id)
        .where(col(Pass.id) == pass_id, col(Item.performance_id) == performance)
    )
    return int(await scalar(ctx, query))


async def test_two_listings_of_one_date_at_once_make_one(ctx: Context) -> None:
    """The bot and the holder page list the same date at once: the second waits on the
    first's placeholder, then meets the partial unique index (or, on SQLite, the first's
    committed row): "resale_already_listed"."""
    (ana,), performance = await holders(ctx, 1)
    outcomes = await at_once([list_one(ctx, ana, performance), list_one(ctx, ana, performance)])

    listed = [o for o in outcomes if isinstance(o, list)]
    refused = [o.code for o in outcomes if isinstance(o, BookingError)]
    assert (len(listed), refused) == (1, ["resale_already_listed"]), outcomes
    assert await written(ctx, ana.pass_id, performance) == (True, False)
