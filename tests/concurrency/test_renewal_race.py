"""Renewals racing (SQLite and PostgreSQL), each guard shown to matter by its companion:

- two holders whose kept seats are gone renew at once asking for the same freed seat: the
  unique (performance, seat) of the seat claims lets exactly one through, the other is refused
  with nothing written (its renewal still invited). Without the claims, both get the seat;
- two renewals of one pass at once: the compare-and-set ``invited -> renewed`` makes one new
  pass; behind it the uniques of the pass (``renewed_from_id``, code and secret per season)
  refuse a second on their own; without the compare-and-set and the uniques, two passes.

Both calls start on one event loop, each in its own session, as in production. On PostgreSQL
the transactions truly overlap (the target product's row lock then queues them); on SQLite
the process's writers run one after the other, so the companions show what the guards stop
whichever order the writers take.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from secrets import token_urlsafe
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.rules.references import new_reference
from booking.services import catalog, holds, passes, places
from booking.services import renewals as service
from booking.tables.bookings import Booking
from booking.tables.passes import Pass
from booking.tables.renewals import Renewal
from tests.booking.test_renewals import campaign, dates, holder, renewal_of, world
from tests.builders import STAFF, make_customer


async def count(ctx: Context, query: Any) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


async def at_once(
    calls: Sequence[Callable[[], Awaitable[passes.SoldPass]]],
) -> tuple[list[passes.SoldPass], list[BaseException]]:
    start = asyncio.Event()

    async def run(call: Callable[[], Awaitable[passes.SoldPass]]) -> passes.SoldPass:
        await start.wait()
        return await call()

    tasks = [asyncio.create_task(run(c)) for c in calls]
    await asyncio.sleep(0)
    start.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    sold = [o for o in outcomes if isinstance(o, passes.SoldPass)]
    return sold, [o for o in outcomes if isinstance(o, BaseException)]


async def freed_seat_race(
    ctx: Context, unguard: Callable[[], None] = lambda: None
) -> tuple[list[passes.SoldPass], list[BaseException], int]:
    """Ana (A1) and Ben (A2) could not keep their seats (each sold at one new date before the
    launch); both ask for B1, free at every date, at once (``unguard`` runs just before)."""
    w = await world(ctx)
    _, ana = await holder(ctx, w, "A1", name="Ana")
    _, ben = await holder(ctx, w, "A2", name="Ben")
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=w.ids["opera_next"], area_id=w.ids["salle_Stalls"],
        name="Place", price_minor=5000,
    )  # fmt: skip
    someone = await make_customer(ctx, email="someone@example.org")
    first = (await dates(ctx, w.ids["opera_next"]))[0]
    for seat in ("A1", "A2"):
        await holds.hold(
            ctx, actor=STAFF, customer_id=someone.id, performance_id=first,
            lines=[holds.Line(tariff, seat_ids=(w.seat("salle", seat[0], int(seat[1])),))],
        )  # fmt: skip
    report = await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    assert (report.seats_kept, report.not_kept) == (0, 2)
    b1 = w.seat("salle", "B", 1)
    renewals = [(await renewal_of(ctx, p.id)).id or 0 for p in (ana, ben)]

    def renewing(renewal_id: int) -> Callable[[], Awaitable[passes.SoldPass]]:
        return lambda: service.renew(
            ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan, seat_id=b1
        )

    unguard()
    sold, refused = await at_once([renewing(r) for r in renewals])
    return sold, refused, b1


async def test_two_holders_renewing_for_one_freed_seat_get_it_once(ctx: Context) -> None:
    sold, refused, b1 = await freed_seat_race(ctx)

    assert len(sold) == 1
    assert [type(e) for e in refused] == [BookingError]
    assert isinstance(refused[0], BookingError)
    assert refused[0].code in ("seat_taken", "pass_seat_taken")
    assert await count(ctx, select(func.count()).select_from(Pass).where(Pass.seat_id == b1)) == 1
    states = select(func.count()).select_from(Renewal).where(Renewal.state == "invited")
    assert await count(ctx, states) == 1  # the loser's renewal rolled back, still open
    renewed = select(func.count()).select_from(Pass).where(col(Pass.renewed_from_id).is_not(None))
    assert await count(ctx, renewed) == 1


async def test_without_the_seat_claims_both_holders_get_the_freed_seat(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unguarded(session: AsyncSession, performance_id: int, claims: Any) -> None:
        return None  # no claim row, so no unique (performance, seat) to refuse the second

    sold, refused, b1 = await freed_seat_race(
        ctx, lambda: monkeypatch.setattr(places, "claim_seats", unguarded)
    )

    assert (len(sold), refused) == (2, [])
    assert await count(ctx, select(func.count()).select_from(Pass).where(Pass.seat_id == b1)) == 2


async def double_renewal(ctx: Context) -> tuple[list[passes.SoldPass], list[BaseException]]:
    """Ana's one renewal, sent twice at once (a double tap in the bot and a mail reply)."""
    w = await world(ctx)
    _, ana = await holder(ctx, w, "A1", name="Ana")
    await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    renewal_id = (await renewal_of(ctx, ana.id)).id or 0

    def renewing() -> Awaitable[passes.SoldPass]:
        return service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.floor)

    return await at_once([renewing, renewing])


async def test_two_renewals_of_one_pass_at_once_make_one_pass(ctx: Context) -> None:
    sold, refused = await double_renewal(ctx)

    assert len(sold) == 1
    assert [e.code for e in refused if isinstance(e, BookingError)] == ["renewal_done"]
    assert len(refused) == 1
    renewed = select(func.count()).select_from(Pass).where(col(Pass.renewed_from_id).is_not(None))
    assert await count(ctx, renewed) == 1
    assert await count(ctx, select(func.count()).select_from(Booking)) == 2  # old + renewal


async def test_without_the_compare_and_set_the_uniques_still_refuse_the_second(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second guard alone: the renewal reaches the insert of its pass, and the uniques of
    the pass (renewed_from_id; code and secret per season) refuse it, all rolled back."""
    monkeypatch.setattr(service, "_mark_renewed", always)
    sold, refused = await double_renewal(ctx)

    assert len(sold) == 1
    assert [e.code for e in refused if isinstance(e, BookingError)] == ["renewal_done"]
    assert await count(ctx, select(func.count()).select_from(Booking)) == 2


async def test_without_the_compare_and_set_and_the_uniques_one_pass_is_renewed_twice(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = service._renewed_pass

    def unrelated(*args: Any) -> dict[str, Any]:
        row = made(*args)
        # As if the new pass were not tied to the old one: no lineage, its own code and secret.
        return row | {"renewed_from_id": None, "code": new_reference(), "secret": token_urlsafe(24)}

    monkeypatch.setattr(service, "_mark_renewed", always)
    monkeypatch.setattr(service, "_renewed_pass", unrelated)
    sold, refused = await double_renewal(ctx)

    assert (len(sold), refused) == (2, [])
    assert (
        await count(ctx, select(func.count()).select_from(Booking)) == 3
    )  # one pass renewed twice


async def always(session: AsyncSession, renewal_id: int, now: Any) -> bool:
    return True  # no state check: every renewal moves the row
