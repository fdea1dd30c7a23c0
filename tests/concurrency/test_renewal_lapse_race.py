"""A renewal hold lapsing while it is paid or renewed again (SQLite and PostgreSQL), each guard
shown to matter by its companion:

- the expiry job racing the payment of the same renewal hold: the lapse runs in the sweep's
  own transaction, on the bookings its compare-and-set moved, so whichever wins, the holder
  ends with one paid pass and a renewed renewal (paid in time, or expired then re-instated by
  the late payment). The companion runs the lapse after the sweep, in a transaction of its
  own, as a separate job would: a payment landing in between is re-instated, the job then
  reopens a paid renewal, and the holder renews it a second time — two passes;
- the late payment of a lapsed hold racing a second renewal of the reopened renewal: the
  compare-and-set ``invited -> renewed`` of ``renewal_lapses.reinstate`` lets exactly one
  through (the other is refunded, or refused ``renewal_done``); without it the pass's uniques
  (code, secret, ``renewed_from_id``) still refuse the second; without both, two passes;
- the lapse racing a second renewal: the renewal is refused while its hold still stands, and
  renewed once the lapse committed — never left invited with its pass code still taken.

Calls start on one event loop, each in its own session, as in production. On PostgreSQL the
transactions truly overlap; on SQLite the process's writers run one after the other, so each
test also runs both orders one after the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.errors import BookingError
from booking.services import releases, renewal_lapses
from booking.services import renewals as service
from booking.tables.bookings import Booking
from booking.tables.passes import Pass
from tests.booking.test_renewal_lapse import Renewing, late_payment, renewing, status_of
from tests.booking.test_renewals import DAY, renewal_of, rows
from tests.builders import STAFF

ORDERS = ["at_once", "first_then_second", "second_then_first"]


async def run(
    order: str, first: Callable[[], Awaitable[Any]], second: Callable[[], Awaitable[Any]]
) -> list[Any]:
    """Both calls at once, or one after the other; outcomes (or exceptions) in call order."""
    if order == "at_once":
        start = asyncio.Event()

        async def started(call: Callable[[], Awaitable[Any]]) -> Any:
            await start.wait()
            return await call()

        tasks = [asyncio.create_task(started(c)) for c in (first, second)]
        await asyncio.sleep(0)
        start.set()
        return list(await asyncio.gather(*tasks, return_exceptions=True))
    calls = (first, second) if order == "first_then_second" else (second, first)
    outcomes = []
    for call in calls:
        try:
            outcomes.append(await call())
        except BookingError as exc:
            outcomes.append(exc)
    return outcomes if order == "first_then_second" else outcomes[::-1]


async def live_passes(ctx: Context, r: Renewing) -> list[int]:
    """The holder's passes of the new season whose booking is held, overdue or paid."""
    found = await rows(
        ctx,
        select(Pass.id)
        .join(Booking, Booking.id == Pass.booking_id)
        .where(
            Pass.customer_id == r.customer_id,
            Pass.season_id == r.w.ids["new"],
            Booking.status.in_(("held", "overdue", "confirmed")),  # type: ignore[attr-defined]
        ),
    )
    return sorted(p for (p,) in found)


async def renewed_from_old(ctx: Context, r: Renewing) -> int:
    query = select(func.count()).select_from(Pass).where(Pass.renewed_from_id == r.old.id)
    return int((await rows(ctx, query))[0][0])


async def at_deadline(ctx: Context, r: Renewing) -> None:
    (booking,) = await rows(ctx, select(Booking).where(Booking.reference == r.sold.reference))
    ctx.clock.set(booking[0].deadline)  # type: ignore[attr-defined]  # due now, not before


# -- the expiry job and the payment of one renewal hold ---------------------------------------


@pytest.mark.parametrize("order", ORDERS)
async def test_expiry_racing_the_payment_leaves_one_paid_renewal(ctx: Context, order: str) -> None:
    r = await renewing(ctx)
    await at_deadline(ctx, r)

    swept, paid = await run(
        order, lambda: releases.release_due(ctx), lambda: late_payment(ctx, r.sold)
    )

    assert paid in ("confirmed", "reinstated")
    assert swept.expired == (1 if paid == "reinstated" else 0)
    assert await status_of(ctx, r.sold.reference) == "confirmed"
    renewal = await renewal_of(ctx, r.old.id)
    assert (renewal.state, renewal.new_pass_id) == ("renewed", r.sold.id)
    assert await live_passes(ctx, r) == [r.sold.id]
    assert await renewed_from_old(ctx, r) == 1
    with pytest.raises(BookingError) as again:
        await service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan)
    assert again.value.code == "renewal_done"


async def test_without_the_lapse_in_the_sweeps_transaction_a_paid_renewal_is_reopened(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lapse as a separate job after the sweep: the payment lands in between."""
    r = await renewing(ctx)
    await at_deadline(ctx, r)
    real = renewal_lapses.lapse
    deferred: list[int] = []

    async def later(session: AsyncSession, booking_ids: Sequence[int], **kw: Any) -> dict[int, Any]:
        deferred.extend(booking_ids)  # for the job that runs after the sweep committed
        return {}

    monkeypatch.setattr(renewal_lapses, "lapse", later)
    assert (await releases.release_due(ctx)).expired == 1
    assert await late_payment(ctx, r.sold) == "reinstated"  # the pass is paid
    monkeypatch.setattr(renewal_lapses, "lapse", real)
    await ctx.db.write(lambda s: real(s, deferred, actor=releases.SWEEPER, now=ctx.clock.now()))

    assert (await renewal_of(ctx, r.old.id)).state == "invited"  # a paid renewal reopened
    again = await service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan)
    assert await live_passes(ctx, r) == sorted([r.sold.id, again.id])  # two passes


# -- the late payment of a lapsed hold and a second renewal -----------------------------------


async def lapsed(ctx: Context, seat: str | None = "A1") -> Renewing:
    r = await renewing(ctx, seat=seat)
    ctx.clock.advance(8 * DAY)  # type: ignore[attr-defined]
    assert (await releases.release_due(ctx)).expired == 1
    assert (await renewal_of(ctx, r.old.id)).state == "invited"
    return r


def pay_and_renew(ctx: Context, r: Renewing) -> tuple[Callable[[], Awaitable[Any]], ...]:
    return (
        lambda: late_payment(ctx, r.sold),
        lambda: service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.product_id),
    )


def one_pass_either_way(outcomes: list[Any]) -> None:
    paid, renewed = outcomes
    if paid == "reinstated":
        assert isinstance(renewed, BookingError) and renewed.code == "renewal_done"
    else:
        assert paid == "refund_due" and not isinstance(renewed, BaseException)


@pytest.mark.parametrize("order", ORDERS)
async def test_a_late_payment_racing_a_second_renewal_makes_one_pass(
    ctx: Context, order: str
) -> None:
    r = await lapsed(ctx)

    outcomes = await run(order, *pay_and_renew(ctx, r))

    one_pass_either_way(outcomes)
    (live,) = await live_passes(ctx, r)
    renewal = await renewal_of(ctx, r.old.id)
    assert (renewal.state, renewal.new_pass_id) == ("renewed", live)
    assert await renewed_from_old(ctx, r) == 1


async def unguarded_cas(session: AsyncSession, renewal_id: int, pass_id: int, now: Any) -> int:
    """No compare-and-set: the renewal read, then written whatever its state."""
    from booking.tables.renewals import Renewal

    renewal = await session.get(Renewal, renewal_id)
    assert renewal is not None
    renewal.state, renewal.new_pass_id = "renewed", pass_id
    await session.flush()
    return renewal.pass_id


@pytest.mark.parametrize("order", ORDERS)
async def test_without_the_compare_and_set_the_pass_uniques_still_refuse_the_second(
    ctx: Context, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = await lapsed(ctx)
    monkeypatch.setattr(renewal_lapses, "_renewed_again", unguarded_cas)

    outcomes = await run(order, *pay_and_renew(ctx, r))

    one_pass_either_way(outcomes)
    assert len(await live_passes(ctx, r)) == 1


async def test_without_the_compare_and_set_and_the_uniques_one_renewal_makes_two_passes(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payment lands just after the second renewal (the order the guards must stop). In
    general admission, where no seat claim of the second pass stands in the way of the
    places taken again."""
    r = await lapsed(ctx, seat=None)

    async def untied(session: AsyncSession, pass_id: int, old_pass_id: int) -> None:
        return None  # the pass re-instated without taking back code, secret and lineage

    monkeypatch.setattr(renewal_lapses, "_renewed_again", unguarded_cas)
    monkeypatch.setattr(renewal_lapses, "_restore_identity", untied)

    paid, renewed = await run("second_then_first", *pay_and_renew(ctx, r))

    assert paid == "reinstated" and not isinstance(renewed, BaseException)
    assert await live_passes(ctx, r) == sorted([r.sold.id, renewed.id])  # two passes


# -- the lapse and a second renewal -----------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
async def test_the_lapse_racing_a_second_renewal_never_leaves_a_dead_end(
    ctx: Context, order: str
) -> None:
    r = await renewing(ctx)
    await at_deadline(ctx, r)

    swept, renewed = await run(
        order,
        lambda: releases.release_due(ctx),
        lambda: service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan),
    )

    assert swept.expired == 1
    if isinstance(renewed, BookingError):  # it ran while the first hold still stood
        assert renewed.code == "renewal_done"
        renewed = await service.renew(
            ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan
        )
    assert not isinstance(renewed, BaseException)
    assert await live_passes(ctx, r) == [renewed.id]
    assert await renewed_from_old(ctx, r) == 1
    assert (await renewal_of(ctx, r.old.id)).new_pass_id == renewed.id
