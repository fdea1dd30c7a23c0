"""Releasing holds: the deadline sweep, and the organizer's bulk extend / release (SPEC §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.deadlines import extended_by, is_due
from booking.services import credit_ledger, places, renewal_lapses
from booking.services.common import booking_for, event_of
from booking.services.extensions import set_deadline
from booking.services.transitions import move
from booking.sql import skip_locked
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Event, Gauge, Performance
from booking.tables.customers import Customer

SWEEPER = Actor.system("release job")


@dataclass
class SweepReport:
    expired: int = 0
    overdue: int = 0


@dataclass(frozen=True, slots=True)
class BulkResult:
    done: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (reference, code)


async def release_due(ctx: Context, *, batch: int = 500) -> SweepReport:
    """Expire (firm) or mark overdue (flexible) every hold past its deadline; close overdue
    holds whose performance has started. Reads only due rows, in batches; safe to run in two
    processes at once (compare-and-set per booking, SKIP LOCKED on PostgreSQL)."""
    report = SweepReport()
    while True:
        moved = await ctx.db.write(lambda s: _sweep(s, ctx.clock.now(), batch, report))
        if moved < batch:
            return report


async def _sweep(session: AsyncSession, now: datetime, batch: int, report: SweepReport) -> int:
    due = (
        select(
            col(Booking.id),
            col(Booking.checkout),
            col(Event.policy),
            col(Performance.policy),
            col(Booking.starts_at),
        )
        .join(Performance, col(Performance.id) == Booking.performance_id)
        .join(Event, col(Event.id) == Booking.event_id)
        .where(col(Booking.status) == states.HELD, col(Booking.deadline) <= now)
        .order_by(col(Booking.deadline))
        .limit(batch)
    )
    started = (
        select(col(Booking.id))
        .where(col(Booking.status) == states.OVERDUE, col(Booking.starts_at) <= now)
        .limit(batch)
    )
    if skip_locked(session):
        due = due.with_for_update(skip_locked=True, of=Booking)
        started = started.with_for_update(skip_locked=True)
    rows = (await session.execute(due)).all()
    firm: list[int | None] = []
    flexible: list[int | None] = []
    for booking_id, checkout, event_policy, date_policy, starts_at in rows:
        # Once the performance has started nobody can wait on the organizer: expire, never overdue.
        closes = checkout or (date_policy or event_policy) == "firm" or starts_at <= now
        (firm if closes else flexible).append(booking_id)
    late = list((await session.execute(started)).scalars())
    expired = await bulk_move(session, firm, states.HELD, states.EXPIRED, now, "booking_expired")
    expired += await bulk_move(
        session, late, states.OVERDUE, states.EXPIRED, now, "booking_expired"
    )
    report.expired += expired
    report.overdue += await bulk_move(
        session, flexible, states.HELD, states.OVERDUE, now, "booking_overdue"
    )
    return len(rows) + len(late)


async def bulk_move(
    session: AsyncSession,
    ids: Sequence[int | None],
    source: str,
    target: str,
    now: datetime,
    notice: str,
) -> int:
    """The sweep's ``transitions.move`` for many bookings at once, in a few statements."""
    if not ids:
        return 0
    moved = (
        await session.execute(
            update(Booking)
            .where(col(Booking.id).in_(list(ids)), col(Booking.status) == source)
            .values(status=target, updated_at=now)
            .returning(col(Booking.id), col(Booking.customer_id), col(Booking.event_id))
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not moved:
        return 0
    booking_ids = cast(list[int], [b for b, _, _ in moved])  # RETURNING ids are never None
    if target not in states.HOLDS_PLACES:
        items = (
            await session.execute(select(Item).where(Item.booking_id.in_(booking_ids)))  # type: ignore[attr-defined]
        ).scalars()
        await places.release_items(session, items)
    await history.record_many(
        session,
        [history.row(booking_id=b, actor=SWEEPER, at=now, action=target) for b in booking_ids],
    )
    if target in states.CLOSED:  # pass credit they used goes back (issue 12, item 7)
        await credit_ledger.give_back(session, booking_ids, actor=SWEEPER, now=now)
    # Renewal holds among them put their holders back to invited (or not renewed), with the
    # bookings this compare-and-set moved only, in its transaction: a renewal paid meanwhile
    # is never reopened.
    lapses = (
        await renewal_lapses.lapse(session, booking_ids, actor=SWEEPER, now=now)
        if target in states.CLOSED
        else {}
    )
    customers = {
        c.id: c
        for c in (
            await session.execute(select(Customer).where(Customer.id.in_({c for _, c, _ in moved})))  # type: ignore[union-attr]
        ).scalars()
    }
    # Only once the places are back: the expired booking's own date may be on sale again.
    on_sale = (
        await events_on_sale(session, {e for _, _, e in moved}, now)
        if target == states.EXPIRED
        else set()
    )
    rows = [
        row
        for booking_id, customer_id, event_id in moved
        for row in outbox.booking_rows(
            kind=notice,
            owner=customers[customer_id],
            actor=SWEEPER,
            now=now,
            booking_id=booking_id,
            # The moment is part of the key: a hold extended and overdue again is told again.
            key=f"{notice}:{booking_id}:{now.isoformat()}",
            payload=_closed_payload(lapses.get(booking_id or 0), event_id, on_sale),
        )
    ]
    await outbox.enqueue_rows(session, rows)
    return len(moved)


def _closed_payload(
    lapsed: renewal_lapses.Lapse | None, event_id: int, on_sale: set[int]
) -> dict[str, object] | None:
    """A lapsed renewal can still be renewed: the notice says so (and offers no new booking
    of the date); any other booking is offered to book again where that can succeed."""
    if lapsed is not None and lapsed.reopened:
        return lapsed.payload()
    return {"book_again": event_id} if event_id in on_sale else None


async def events_on_sale(session: AsyncSession, event_ids: set[int], now: datetime) -> set[int]:
    """Those of ``event_ids`` with a future date on sale and a place left: the expiry notice
    offers to book again only where booking again can succeed."""
    if not event_ids:
        return set()
    query = (
        select(col(Performance.event_id))
        .join(Gauge, col(Gauge.performance_id) == Performance.id)
        .where(
            col(Performance.event_id).in_(event_ids),
            col(Performance.starts_at) > now,
            col(Performance.on_sale).is_(True),
            col(Gauge.remaining) > 0,
        )
        .distinct()
    )
    return set((await session.execute(query)).scalars())


async def bulk_extend(
    ctx: Context,
    *,
    actor: Actor,
    references: Sequence[str],
    until: datetime | None = None,
    by_days: int | None = None,
) -> BulkResult:
    """Give many holds a new deadline (a date, or N more days), never past their performance.

    N days end at 23:59:59 at the venue, counted from the deadline or, for an overdue hold,
    from now. A hold whose new deadline would not be later than its current one (a date
    before it; already at the performance) is skipped and named, never shortened; so are
    bookings that changed meanwhile (paid, released). Only the holds extended are told.
    """
    if (until is None) == (by_days is None) or (by_days is not None and by_days <= 0):
        raise BookingError("bad_value", field="until")

    async def work(session: AsyncSession) -> BulkResult:
        now = ctx.clock.now()
        done: list[str] = []
        skipped: list[tuple[str, str]] = []
        for reference in references:
            try:
                booking = await booking_for(session, reference, actor)
                new = await _new_deadline(session, booking, now, until=until, by_days=by_days)
                await set_deadline(session, booking, new, now)
            except BookingError as exc:
                skipped.append((reference, exc.code))
                continue
            history.record(
                session,
                booking_id=booking.id or 0,
                actor=actor,
                at=now,
                action="deadline_extended",
                until=new,
            )
            await outbox.tell_owner(
                session,
                kind="deadline_extended",
                booking=booking,
                actor=actor,
                now=now,
                key=f"extended:{booking.id}:{new.isoformat()}",
                payload={"until": new.isoformat()},
            )
            done.append(booking.reference)
        return BulkResult(tuple(done), tuple(skipped))

    return await ctx.db.write(work)


async def _new_deadline(
    session: AsyncSession,
    booking: Booking,
    now: datetime,
    *,
    until: datetime | None,
    by_days: int | None,
) -> datetime:
    if until is not None:
        return min(until, booking.starts_at)
    event, _ = await event_of(session, booking)
    return extended_by(
        booking.deadline,
        days=by_days or 0,
        now=now,
        starts_at=booking.starts_at,
        timezone=event.timezone,
    )


async def bulk_release(
    ctx: Context, *, actor: Actor, references: Sequence[str], include_not_due: bool = False
) -> BulkResult:
    """Release many holds now: their places go back on sale and their customers are told.

    A hold whose deadline has not come yet is kept and reported as ``not_yet_due`` unless
    ``include_not_due``: the organizer confirms those by name (the screen lists them), so
    "release the overdue ones" never takes places a customer still has time to pay for.
    """

    async def work(session: AsyncSession) -> BulkResult:
        now = ctx.clock.now()
        done: list[str] = []
        skipped: list[tuple[str, str]] = []
        for reference in references:
            try:
                booking = await booking_for(session, reference, actor)
            except BookingError as exc:
                skipped.append((reference, exc.code))
                continue
            if (
                booking.status in states.OPEN
                and not include_not_due
                and not is_due(booking.status, booking.deadline, now=now)
            ):
                skipped.append((booking.reference, "not_yet_due"))
                continue
            if await move(
                session,
                booking,
                sources=sorted(states.OPEN),
                target=states.EXPIRED,
                actor=actor,
                now=now,
                due_by=None if include_not_due else now,
            ):
                assert booking.id is not None
                lapsed = await renewal_lapses.lapse_one(session, booking.id, actor=actor, now=now)
                await outbox.tell_owner(
                    session,
                    kind="booking_released",
                    booking=booking,
                    actor=actor,
                    now=now,
                    key=f"booking_released:{booking.id}:{now.isoformat()}",
                    payload=lapsed.payload() if lapsed is not None else None,
                )
                done.append(booking.reference)
            else:
                still_open = booking.status in states.OPEN  # refreshed: extended meanwhile
                skipped.append((booking.reference, "not_yet_due" if still_open else "not_held"))
        return BulkResult(tuple(done), tuple(skipped))

    return await ctx.db.write(work)
