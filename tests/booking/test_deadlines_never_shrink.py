"""Deadlines never move earlier through an extension (issue 10, point 3), in the core that every
channel goes through: approval, bulk extend, a customer's request; "by N days" ends at the end
of a local day; "release now" keeps the holds that are not yet due unless told otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.deadlines import check_extension, extended_by, is_due, proposed_deadline
from booking.services import bookings, extensions, releases
from booking.services.extensions import set_deadline
from booking.services.transitions import move
from booking.tables.bookings import Booking
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking

ZURICH = ZoneInfo("Europe/Zurich")
# make_catalog's default rule, booked at the frozen 2026-11-23 09:00Z: 7 days, end of day.
FIRST_DEADLINE = datetime(2026, 11, 30, 23, 59, 59, tzinfo=ZURICH)
MORE_TIME = ("extension_approved", "deadline_extended")  # the notices that say "more time"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZURICH)


async def deadline_of(ctx: Context, booking: BookingView) -> datetime | None:
    return (await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)).deadline


async def notices(ctx: Context, booking: BookingView) -> list[str]:
    async def work(session):  # type: ignore[no-untyped-def]
        query = select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking.id)
        return list((await session.execute(query)).scalars())

    return await ctx.db.read(work)


async def refused(code: str, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BookingError) as caught:
        await call
    assert caught.value.code == code


# --- the pure rules -------------------------------------------------------------------------


def test_a_date_not_later_than_the_deadline_is_refused_by_the_rule():
    now, start = local(2026, 11, 23, 10, 0), local(2026, 12, 23, 20, 0)
    deadline = local(2026, 12, 20, 23, 59, 59)
    assert check_extension(local(2026, 12, 10, 23, 59, 59), deadline=deadline, now=now,
                           starts_at=start) == "deadline_not_later"  # fmt: skip
    assert check_extension(deadline, deadline=deadline, now=now, starts_at=start) == (
        "deadline_not_later"
    )
    assert check_extension(start, deadline=start, now=now, starts_at=start) == (
        "deadline_at_performance"
    )
    assert check_extension(local(2026, 12, 21, 23, 59, 59), deadline=deadline, now=now,
                           starts_at=start) is None  # fmt: skip


def test_by_n_days_on_an_overdue_hold_ends_at_the_end_of_the_local_day():
    # Overdue since 30 Nov; the organizer acts on Wed 2 Dec at 07:04 in Zurich.
    now = local(2026, 12, 2, 7, 4)
    until = extended_by(FIRST_DEADLINE, days=3, now=now, starts_at=local(2026, 12, 23, 20, 0),
                        timezone="Europe/Zurich")  # fmt: skip
    assert until == local(2026, 12, 5, 23, 59, 59)  # not Sat 5 Dec 07:04


def test_by_n_days_across_the_spring_change_still_ends_at_23_59_59_local():
    deadline = local(2027, 3, 25, 23, 59, 59)  # CET (+1); Zurich moves to CEST on 28 Mar
    until = extended_by(deadline, days=7, now=local(2027, 3, 20, 9, 0),
                        starts_at=local(2027, 5, 1, 20, 0), timezone="Europe/Zurich")  # fmt: skip
    assert until == datetime(2027, 4, 1, 21, 59, 59, tzinfo=UTC)  # 23:59:59 CEST
    # Stored deadlines are UTC: adding 7 x 24 hours to one would end at 00:59:59 CEST.
    assert deadline.astimezone(UTC) + timedelta(days=7) != until


def test_by_n_days_never_runs_past_the_performance():
    start = local(2026, 12, 2, 20, 0)
    assert extended_by(FIRST_DEADLINE, days=7, now=local(2026, 11, 29, 9, 0), starts_at=start,
                       timezone="Europe/Zurich") == start  # fmt: skip


def test_a_proposal_is_never_earlier_than_the_deadline_it_extends():
    # The customer asked for 4 Dec; an organizer has meanwhile given until 10 Dec.
    deadline = local(2026, 12, 10, 23, 59, 59)
    proposal = proposed_deadline(
        deadline, starts_at=local(2026, 12, 23, 20, 0), now=local(2026, 11, 25, 9, 0),
        extension_days=7, wanted=local(2026, 12, 4, 23, 59, 59), timezone="Europe/Zurich",
    )  # fmt: skip
    assert proposal == local(2026, 12, 17, 23, 59, 59)


# --- approval (the inbox) -------------------------------------------------------------------


async def test_approving_with_an_earlier_date_is_refused_and_nothing_is_told(ctx):
    """Y9C-X94: 20 Dec became 10 Dec, and the customer was told "More time granted"."""
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference
    )

    await refused(
        "deadline_not_later",
        extensions.approve_extension(
            ctx, actor=STAFF, request_id=request.id, until=local(2026, 11, 27, 23, 59, 59)
        ),
    )

    assert await deadline_of(ctx, booking) == FIRST_DEADLINE
    assert [r.id for r in await extensions.list_requests(ctx)] == [request.id]  # still waiting
    assert not set(MORE_TIME) & set(await notices(ctx, booking))


async def test_a_request_overtaken_by_a_later_deadline_is_never_approved_as_asked(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference, until=date(2026, 12, 4)
    )
    moved = await releases.bulk_extend(
        ctx, actor=STAFF, references=[booking.reference], until=local(2026, 12, 10, 23, 59, 59)
    )
    assert moved.done == (booking.reference,)

    await refused(
        "deadline_not_later",
        extensions.approve_extension(
            ctx, actor=STAFF, request_id=request.id, until=request.requested_until
        ),
    )
    decided = await extensions.approve_extension(ctx, actor=STAFF, request_id=request.id)

    assert decided.granted_until == local(2026, 12, 17, 23, 59, 59)  # 10 Dec + 7 days
    assert await deadline_of(ctx, booking) == local(2026, 12, 17, 23, 59, 59)


async def test_approving_a_long_overdue_request_gives_days_to_the_end_of_a_local_day(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    ctx.clock.set(local(2026, 12, 2, 7, 4))
    await releases.release_due(ctx)
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference
    )

    decided = await extensions.approve_extension(ctx, actor=STAFF, request_id=request.id)

    assert decided.granted_until == local(2026, 12, 9, 23, 59, 59)


# --- a customer's request -------------------------------------------------------------------


async def test_asking_when_the_deadline_is_the_performance_is_refused_not_auto_approved(ctx):
    # The performance comes before the 7 days: the hold lasts until it, no more time to give.
    cat = await make_catalog(ctx, starts_in=timedelta(days=5), auto_extend_days=3)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    assert await deadline_of(ctx, booking) == cat.starts_at

    await refused(
        "deadline_at_performance",
        extensions.request_extension(ctx, actor=as_customer(ana), reference=booking.reference),
    )

    assert await extensions.list_requests(ctx) == []
    assert not set(MORE_TIME) & set(await notices(ctx, booking))


# --- bulk extend (the release screen and the booking page) ----------------------------------


async def test_bulk_extend_to_an_earlier_date_skips_and_names_that_hold(ctx):
    cat = await make_catalog(ctx)
    early = await make_held_booking(ctx, cat, await make_customer(ctx, email="e@example.org"))
    ctx.clock.advance(timedelta(days=4))  # booked 4 days later: due 4 Dec
    later = await make_held_booking(ctx, cat, await make_customer(ctx, email="l@example.org"))
    assert await deadline_of(ctx, later) == local(2026, 12, 4, 23, 59, 59)

    result = await releases.bulk_extend(
        ctx,
        actor=STAFF,
        references=[early.reference, later.reference],
        until=local(2026, 12, 3, 23, 59, 59),
    )

    assert result.done == (early.reference,)
    assert result.skipped == ((later.reference, "deadline_not_later"),)
    assert await deadline_of(ctx, early) == local(2026, 12, 3, 23, 59, 59)
    assert await deadline_of(ctx, later) == local(2026, 12, 4, 23, 59, 59)
    assert "deadline_extended" not in await notices(ctx, later)


async def test_by_n_days_when_the_deadline_is_already_the_performance_is_skipped(ctx):
    cat = await make_catalog(ctx, starts_in=timedelta(days=5))  # due at the start
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))

    result = await releases.bulk_extend(ctx, actor=STAFF, references=[booking.reference], by_days=3)

    assert result.skipped == ((booking.reference, "deadline_at_performance"),)
    assert await deadline_of(ctx, booking) == cat.starts_at
    assert "deadline_extended" not in await notices(ctx, booking)


async def test_by_n_days_on_an_overdue_hold_ends_at_23_59_59_at_the_venue(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    ctx.clock.set(local(2026, 12, 2, 7, 4))
    await releases.release_due(ctx)

    result = await releases.bulk_extend(ctx, actor=STAFF, references=[booking.reference], by_days=3)

    assert result.done == (booking.reference,)
    assert await deadline_of(ctx, booking) == local(2026, 12, 5, 23, 59, 59)


async def test_by_n_days_across_a_dst_change_ends_at_23_59_59_local(ctx):
    ctx.clock.set(local(2027, 3, 20, 7, 4))
    cat = await make_catalog(ctx, policy="flexible", days_after_booking=2)
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    ctx.clock.set(local(2027, 3, 23, 7, 4))  # overdue since 22 Mar 23:59:59 CET
    await releases.release_due(ctx)

    await releases.bulk_extend(ctx, actor=STAFF, references=[booking.reference], by_days=7)

    deadline = await deadline_of(ctx, booking)
    assert deadline == datetime(2027, 3, 30, 21, 59, 59, tzinfo=UTC)  # 23:59:59 CEST


async def test_the_database_refuses_a_shorter_deadline_even_from_a_stale_read(ctx):
    """The guard is in the UPDATE: a booking read before a colleague extended it (PostgreSQL,
    read committed) still cannot shorten the deadline that colleague gave."""
    cat = await make_catalog(ctx)
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    colleague = local(2026, 12, 20, 23, 59, 59)
    ours = local(2026, 12, 10, 23, 59, 59)

    async def work(session):  # type: ignore[no-untyped-def]
        stale = await session.get(Booking, booking.id)
        await session.execute(  # the colleague's extension, committed after our read
            update(Booking).where(Booking.id == booking.id).values(deadline=colleague)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        # Without the guard in the statement, the check on what we read lets ours through:
        assert check_extension(ours, deadline=stale.deadline, now=ctx.clock.now(),
                               starts_at=stale.starts_at) is None  # fmt: skip
        with pytest.raises(BookingError) as caught:
            await set_deadline(session, stale, ours, ctx.clock.now())
        return caught.value.code

    assert await ctx.db.write(work) == "deadline_not_later"
    assert await deadline_of(ctx, booking) == colleague


# --- release now ----------------------------------------------------------------------------


async def test_release_now_keeps_holds_not_yet_due_unless_confirmed(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    late = await make_held_booking(ctx, cat, await make_customer(ctx, email="late@example.org"))
    ctx.clock.set(FIRST_DEADLINE + timedelta(hours=1))
    await releases.release_due(ctx)
    fresh = await make_held_booking(ctx, cat, await make_customer(ctx, email="new@example.org"))

    result = await releases.bulk_release(
        ctx, actor=STAFF, references=[late.reference, fresh.reference]
    )

    assert result.done == (late.reference,)
    assert result.skipped == ((fresh.reference, "not_yet_due"),)
    assert "booking_released" not in await notices(ctx, fresh)
    confirmed = await releases.bulk_release(
        ctx, actor=STAFF, references=[fresh.reference], include_not_due=True
    )
    assert confirmed.done == (fresh.reference,)


async def test_release_now_keeps_a_hold_a_colleague_extended_after_our_read(ctx):
    """The due check is in the release's UPDATE: a hold read as overdue, then extended by a
    colleague before our statement (PostgreSQL, read committed), is kept."""
    cat = await make_catalog(ctx, policy="flexible")
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    ctx.clock.set(FIRST_DEADLINE + timedelta(hours=1))
    later = FIRST_DEADLINE + timedelta(days=5)

    async def release(session, *, due_by):  # type: ignore[no-untyped-def]
        stale = await session.get(Booking, booking.id)
        assert is_due(stale.status, stale.deadline, now=ctx.clock.now())  # what we read
        await session.execute(  # the colleague's extension, committed after our read
            update(Booking).where(Booking.id == booking.id).values(deadline=later)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        now = ctx.clock.now()
        return await move(session, stale, sources=sorted(states.OPEN), target=states.EXPIRED,
                          actor=STAFF, now=now, notice=None, due_by=due_by)  # fmt: skip

    assert await ctx.db.write(lambda s: release(s, due_by=ctx.clock.now())) is False
    assert await deadline_of(ctx, booking) == later


async def test_unguarded_release_now_takes_a_hold_extended_after_its_read(ctx):
    """The companion: without ``due_by`` the same stale read releases the extended hold."""
    cat = await make_catalog(ctx, policy="flexible")
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    ctx.clock.set(FIRST_DEADLINE + timedelta(hours=1))

    async def release(session):  # type: ignore[no-untyped-def]
        stale = await session.get(Booking, booking.id)
        await session.execute(
            update(Booking).where(Booking.id == booking.id)
            .values(deadline=FIRST_DEADLINE + timedelta(days=5))
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return await move(session, stale, sources=sorted(states.OPEN), target=states.EXPIRED,
                          actor=STAFF, now=ctx.clock.now(), notice=None)  # fmt: skip

    assert await ctx.db.write(release) is True
