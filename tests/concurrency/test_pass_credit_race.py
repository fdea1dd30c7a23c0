"""A pass's credit spent twice at once (SQLite and PostgreSQL), and the companions showing each
race without its guard.

1. Two bookings of the holder paid with the same credit at the same moment (the bot and the
   box office): the conditional ``UPDATE seasonpass SET credit_minor = credit_minor - :x WHERE
   credit_minor - :x >= 0`` lets one take it; the other is refused with nothing taken. The
   companion reads the balance, then writes what it read less the amount (a form showing
   "CHF 90 credit"): both bookings are paid, with credit the pass had only once.
2. One booking paid with credit twice at once (a double click, or two passes): the ledger's
   unique key ``spent:<booking>`` lets one in. The companion checks "no credit used yet" by a
   read and writes without the key: the booking uses more credit than its total.

Both calls start on one event loop, each in its own session, as in production. On PostgreSQL
the guarded transactions truly overlap (the second UPDATE waits on the first's row lock, the
second key on the first's uncommitted one); the companions' reads both happen before either
write, on both databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services import credit_ledger, pass_credit, payments
from booking.services.common import booking_for
from booking.tables.pass_credit import PassCredit
from booking.tables.passes import Pass
from tests.booking.test_pass_credit import (
    balance,
    holder_with_credit,
    pass_product,
    scalar,
    tickets_of,
)
from tests.builders import STAFF, as_customer, make_catalog, make_held_booking

Apply = Callable[[Context, Actor, str, int], Awaitable[Any]]


async def guarded(ctx: Context, actor: Actor, reference: str, pass_id: int) -> Any:
    return await pass_credit.apply(ctx, actor=actor, reference=reference, pass_id=pass_id)


async def at_once(calls: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    start = asyncio.Event()

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        await start.wait()
        return await call()

    tasks = [asyncio.create_task(one(call)) for call in calls]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def spent(ctx: Context, pass_id: int | None = None, booking_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(PassCredit.amount_minor), 0)).where(
        col(PassCredit.kind) == "spent"
    )
    if pass_id is not None:
        query = query.where(col(PassCredit.pass_id) == pass_id)
    if booking_id is not None:
        query = query.where(col(PassCredit.booking_id) == booking_id)
    return -int(await scalar(ctx, query))


# -- 1. two bookings, one credit -----------------------------------------------------------


async def two_bookings(ctx: Context, apply: Apply = guarded) -> tuple[list[Any], int, int]:
    """Ana's pass has 90.00 of credit; she has two bookings of 90.00; the bot and the box office
    pay one each with it at once. Returns (outcomes, the pass id, the credit it had)."""
    ana = await holder_with_credit(ctx, 9000)
    first = await tickets_of(ctx, ana)
    cat = await make_catalog(ctx, name="Salle Deux")
    second = await make_held_booking(ctx, cat, ana.customer)
    outcomes = await at_once(
        [
            lambda: apply(ctx, as_customer(ana.customer), first.reference, ana.pass_id),
            lambda: apply(ctx, STAFF, second.reference, ana.pass_id),
        ]
    )
    return outcomes, ana.pass_id, 9000


async def test_two_bookings_spending_the_same_credit_pay_exactly_one(ctx: Context) -> None:
    outcomes, pass_id, had = await two_bookings(ctx)

    paid = [o for o in outcomes if isinstance(o, pass_credit.CreditApplied)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert [p.outcome for p in paid] == ["paid"]
    assert len(refused) == 1 and isinstance(refused[0], BookingError)
    # PostgreSQL: the UPDATE found too little after the other committed; SQLite's writers
    # queue, so the second saw no credit left at all. Either way nothing was taken.
    assert refused[0].code in ("credit_short", "credit_none")
    assert (await balance(ctx, pass_id), await spent(ctx, pass_id)) == (0, had)


async def test_with_a_read_then_write_both_bookings_are_paid_with_one_credit(
    ctx: Context,
) -> None:
    read_both = asyncio.Barrier(2)

    async def read_then_write(ctx: Context, actor: Actor, reference: str, pass_id: int) -> Any:
        """apply with its guard replaced: the balance is read, then what was read less the
        amount is written; the rest (the checks, the payment, the ledger row) is the real code."""
        had = await balance(ctx, pass_id)
        await asyncio.wait_for(read_both.wait(), timeout=5)  # the other reads meanwhile

        async def work(session: AsyncSession) -> str:
            now = ctx.clock.now()
            booking = await booking_for(session, reference, actor)
            due = await payments.amount_due(session, booking)
            await payments.confirm_by_credit(
                session, ctx, actor=actor, booking=booking, amount_minor=due
            )
            await session.execute(
                update(Pass).where(col(Pass.id) == pass_id).values(credit_minor=had - due)
            )
            session.add(
                PassCredit(
                    pass_id=pass_id,
                    booking_id=booking.id,
                    kind="spent",
                    amount_minor=-due,
                    currency="CHF",
                    balance_minor=had - due,
                    key=f"spent:{booking.id}",
                    actor_kind=actor.kind,
                    actor_name=actor.name,
                    channel=actor.channel,
                    at=now,
                )
            )
            return booking.status

        return await ctx.db.write(work)

    outcomes, pass_id, had = await two_bookings(ctx, read_then_write)

    assert outcomes == ["confirmed", "confirmed"]
    assert await balance(ctx, pass_id) == 0
    assert await spent(ctx, pass_id) == 2 * had  # twice the credit the pass ever had


# -- 2. one booking, credit twice ----------------------------------------------------------


async def one_booking(ctx: Context, apply: Apply = guarded) -> tuple[list[Any], int, int]:
    """Ana has two passes of 50.00 credit each and one booking of 90.00; two applications
    (a double click on two offers) land at once. Returns (outcomes, booking id, its total)."""
    product_id = await pass_product(ctx)
    ana = await holder_with_credit(ctx, 5000, product_id=product_id)
    other = await holder_with_credit(ctx, 0, product_id=product_id, email="ana2@example.org")
    # The second pass is Ana's too: the same customer bought it for herself.
    await _give_to(ctx, other.pass_id, ana.customer.id)
    await pass_credit.add(
        ctx, actor=STAFF, pass_id=other.pass_id, amount_minor=5000, source="staff"
    )
    held = await tickets_of(ctx, ana)
    actor = as_customer(ana.customer)
    outcomes = await at_once(
        [
            lambda: apply(ctx, actor, held.reference, ana.pass_id),
            lambda: apply(ctx, actor, held.reference, other.pass_id),
        ]
    )
    return outcomes, held.id, held.total_minor


async def _give_to(ctx: Context, pass_id: int, customer_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(Pass).where(col(Pass.id) == pass_id).values(customer_id=customer_id)
        )

    await ctx.db.write(work)


async def test_one_booking_paid_with_credit_twice_at_once_uses_credit_once(ctx: Context) -> None:
    outcomes, booking_id, total = await one_booking(ctx)

    applied = [o for o in outcomes if isinstance(o, pass_credit.CreditApplied)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert [(a.outcome, a.used_minor, a.due_minor) for a in applied] == [("partial", 5000, 4000)]
    assert [e.code for e in refused if isinstance(e, BookingError)] == ["credit_used"]
    assert await spent(ctx, booking_id=booking_id) == 5000 < total


async def test_without_the_key_one_booking_uses_more_credit_than_its_total(ctx: Context) -> None:
    read_both = asyncio.Barrier(2)

    async def check_then_write(ctx: Context, actor: Actor, reference: str, pass_id: int) -> Any:
        """apply with its guard replaced: "no credit used yet" is read first, and the ledger
        row is written without its unique key; the balance update is the real one."""

        async def used(session: AsyncSession) -> int:
            booking = await booking_for(session, reference, actor)
            return await credit_ledger.applied(session, booking.id or 0)

        assert await ctx.db.read(used) == 0
        await asyncio.wait_for(read_both.wait(), timeout=5)

        async def work(session: AsyncSession) -> int:
            booking = await booking_for(session, reference, actor)
            found = await session.get(Pass, pass_id)
            assert found is not None
            use = min(found.credit_minor, booking.total_minor)
            await credit_ledger.move(
                session,
                found=found,
                amount_minor=-use,
                kind="spent",
                currency="CHF",
                actor=actor,
                now=ctx.clock.now(),
                booking_id=booking.id,
                key=None,
            )
            return use

        return await ctx.db.write(work)

    outcomes, booking_id, total = await one_booking(ctx, check_then_write)

    assert outcomes == [5000, 5000]
    assert await spent(ctx, booking_id=booking_id) == 10_000 > total  # 100.00 on a 90.00 booking
