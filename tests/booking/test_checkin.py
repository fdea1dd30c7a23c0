"""Door check-in answers on a real database (SQLite and PostgreSQL): admitted, already used
(when, which door), wrong date, not valid; and the codes a door may type or scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries import door
from booking.services import cancellations, checkin, payments
from booking.tables.bookings import Booking, Ticket
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking

DOOR = Actor(kind="staff", name="Door Test", channel="console", id=None)


async def paid_secrets(ctx: Context, **catalog: object) -> tuple[int, str, list[str]]:
    cat = await make_catalog(ctx, cancellation_allowed=True, **catalog)  # type: ignore[arg-type]
    booking = await make_held_booking(ctx, cat, await make_customer(ctx), quantity=2)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=booking.reference, method="cash"
    )

    async def work(session: AsyncSession) -> list[str]:
        query = (
            select(col(Ticket.secret))
            .join(Booking, col(Booking.id) == Ticket.booking_id)
            .where(col(Booking.reference) == booking.reference)
            .order_by(col(Ticket.id))
        )
        return list((await session.execute(query)).scalars())

    return cat.performance_id, booking.reference, await ctx.db.read(work)


async def test_a_ticket_admits_once_then_says_when_and_at_which_door(ctx: Context) -> None:
    performance, reference, (first, second) = await paid_secrets(ctx)
    assert (await door.counts(ctx, performance)) == door.DoorCounts(0, 2)
    ahead = await checkin.check(ctx, actor=DOOR, secret=first, performance_id=performance)
    assert ahead.outcome == "admissible" and ahead.entitlement is not None
    assert ahead.entitlement.reference == reference and ahead.entitlement.holder == "Ana Test"

    done = await checkin.admit(
        ctx, actor=DOOR, secret=first, performance_id=performance, door="North"
    )
    assert done.outcome == "admitted"
    again = await checkin.admit(
        ctx, actor=DOOR, secret=first, performance_id=performance, door="South"
    )
    assert again.outcome == "already_used" and again.used is not None
    assert again.used.door == "North" and again.used.at == ctx.clock.now()
    assert (await door.counts(ctx, performance)) == door.DoorCounts(1, 2)
    other = await checkin.admit(ctx, actor=DOOR, secret=second, performance_id=performance)
    assert other.outcome == "admitted"
    assert (await door.counts(ctx, performance)) == door.DoorCounts(2, 2)


async def test_a_ticket_for_another_performance_is_the_wrong_date(ctx: Context) -> None:
    performance, _ref, (secret, _) = await paid_secrets(ctx)
    later = await make_catalog(ctx, starts_in=timedelta(days=40), name="Salle Autre")
    answer = await checkin.admit(
        ctx, actor=DOOR, secret=secret, performance_id=later.performance_id
    )
    assert answer.outcome == "wrong_date"
    assert answer.entitlement is not None and answer.entitlement.performance_id == performance
    assert (await door.counts(ctx, later.performance_id)).checked_in == 0


async def test_cancelled_and_unknown_codes_are_not_valid(ctx: Context) -> None:
    performance, reference, (secret, _) = await paid_secrets(ctx)
    unknown = await checkin.admit(ctx, actor=DOOR, secret="x" * 32, performance_id=performance)
    assert unknown.outcome == "not_valid" and unknown.entitlement is None
    await cancellations.cancel(ctx, actor=STAFF, reference=reference, reason="mistake")
    cancelled = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=performance)
    assert cancelled.outcome == "not_valid"
    assert cancelled.entitlement is not None and cancelled.entitlement.invalid == "cancelled"
    assert (await door.counts(ctx, performance)) == door.DoorCounts(0, 0)


async def test_only_staff_may_check_in(ctx: Context) -> None:
    performance, _ref, (secret, _) = await paid_secrets(ctx)
    customer = Actor(kind="customer", name="Ana", channel="telegram", id=1)
    with pytest.raises(BookingError):
        await checkin.admit(ctx, actor=customer, secret=secret, performance_id=performance)


@pytest.mark.parametrize(
    "typed",
    [
        "SeCrEt_-123",
        "  SeCrEt_-123 \n",
        "https://tickets.example/t/SeCrEt_-123",
        " http://127.0.0.1:8000/t/SeCrEt_-123/ ",
        "https://tickets.example/t/SeCrEt_-123?utm=x",
    ],
)
def test_the_door_reads_a_url_or_a_bare_secret(typed: str) -> None:
    assert checkin.secret_of(typed) == "SeCrEt_-123"
