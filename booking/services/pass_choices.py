"""Adding a date to a pass with choice by its code (SPEC §9, issue 12 item 6), in the bot and
at the box office: one transaction takes one of the pass's choices left and one place at the
date, on the pass's own booking.

The count of choices left is the guard: the conditional ``UPDATE seasonpass SET choices_left =
choices_left - 1 WHERE id = ? AND choices_left >= 1`` lets exactly as many dates in as the
pass has choices, however many holders (or desks) add at once
(tests/concurrency/test_pass_choice_race.py shows two adding the last one, and the same race
with a read-then-write letting both in). It runs first, before the "already included" read:
on PostgreSQL it locks the pass's row, so a second add to the same pass waits for the first
to commit and its read then sees the first's date.

The new item is priced at the next unused share of what was paid (the pass's price over its N
dates, largest remainder), so the booking's total does not change: a paid pass stays paid and
needs no new ticket, since its secret admits at every date its booking holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries.pass_choices import choosable, dates_in, pass_of_code
from booking.rules import states
from booking.rules.apportion import apportion
from booking.rules.references import normalize_reference
from booking.services import places
from booking.services.passes import product_tariffs
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Performance, Seat, SeatClaim
from booking.tables.passes import Pass, PassProduct
from booking.views import SeatPlace, seat_place

LIVE = (states.HELD, states.OVERDUE, states.CONFIRMED)  # a pass that may still gain a date
SEAT_ATTEMPTS = 5  # seats taken between the read and the claim: try the next best


@dataclass(frozen=True, slots=True)
class AddedDate:
    pass_id: int
    code: str
    performance_id: int
    choices_left: int
    seat: SeatPlace | None = None  # the seat at the added date (fixed-seat passes)
    other_seat: bool = False  # the pass's own seat was taken at that date: this is another


@dataclass(frozen=True, slots=True)
class FoundPass:
    """A pass a code named, checked (with choice, alive), with its booking and product rows:
    inside one transaction only, never handed to a caller outside the core."""

    row: Pass
    booking: Booking
    product: PassProduct


async def add_date(ctx: Context, *, actor: Actor, code: str, performance_id: int) -> AddedDate:
    """Add ``performance_id`` to the pass with this code (typed as people type it).

    A customer adds to their own pass only; the box office (staff) to any. A code nobody of
    that customer holds is ``pass_code_unknown``, the same answer as a mistyped one (a
    stranger learns nothing). Then: pass_not_choice, pass_void (its booking cancelled or
    expired), pass_date_not_choosable, pass_no_choice_left, pass_date_already_in, and the
    place's (sold_out)."""
    typed = normalize_reference(code)
    shown = code.strip()[:20]
    if typed is None:
        raise BookingError("pass_code_unknown", pass_code=shown)

    async def work(session: AsyncSession) -> AddedDate:
        found = await find_pass(session, typed, actor, shown)
        left = await take_choice(session, found.row.id or 0)
        if left is None:
            raise BookingError("pass_no_choice_left", pass_code=found.row.code)
        return await add_item(session, ctx, actor, found, performance_id, left)

    return await ctx.db.write(work)


async def find_pass(session: AsyncSession, code: str, actor: Actor, shown: str) -> FoundPass:
    """The pass this (normalized) code names for this actor, checked: with choice, alive."""
    owner = actor.id if actor.kind == "customer" else None
    if actor.kind == "customer" and owner is None:
        raise BookingError("pass_code_unknown", pass_code=shown)
    pass_id = await pass_of_code(session, code, owner)
    if pass_id is None:
        raise BookingError("pass_code_unknown", pass_code=shown)
    row, booking, product = (
        await session.execute(
            select(Pass, Booking, PassProduct)
            .join(Booking, col(Booking.id) == Pass.booking_id)
            .join(PassProduct, col(PassProduct.id) == Pass.product_id)
            .where(col(Pass.id) == pass_id)
        )
    ).one()
    if product.includes != "choice" or row.choices_left is None:
        raise BookingError("pass_not_choice", pass_code=row.code)
    if booking.status not in LIVE:
        raise BookingError("pass_void", pass_code=row.code)
    return FoundPass(row, booking, product)


async def take_choice(session: AsyncSession, pass_id: int) -> int | None:
    """One choice taken, or None when none is left: the database decides, not a prior read.
    Returns the choices left after it."""
    done = await session.execute(
        update(Pass)
        .where(col(Pass.id) == pass_id, col(Pass.choices_left) >= 1)
        .values(choices_left=col(Pass.choices_left) - 1)
        .returning(col(Pass.choices_left))
        .execution_options(synchronize_session=False)
    )
    left = done.scalar_one_or_none()
    return None if left is None else int(left)


async def add_item(
    session: AsyncSession,
    ctx: Context,
    actor: Actor,
    found: FoundPass,
    performance_id: int,
    left: int,
) -> AddedDate:
    """The date's item on the pass's booking, once a choice is taken (``left`` after it)."""
    now = ctx.clock.now()
    product, booking = found.product, found.booking
    dates = {p.id: (p, e) for p, e in await choosable(session, product, now)}
    if performance_id not in dates:
        raise BookingError("pass_date_not_choosable")
    performance, event = dates[performance_id]
    have = await dates_in(session, booking.id or 0)
    if performance_id in have:
        raise BookingError("pass_date_already_in", pass_code=found.row.code)
    tariff = (await product_tariffs(session, product, {event.id or 0}))[event.id or 0]
    if not await places.take_gauge(session, performance_id, product.area_id, 1):
        raise BookingError("sold_out")
    item = Item(
        booking_id=booking.id or 0,
        performance_id=performance_id,
        tariff_id=tariff,
        area_id=product.area_id,
        price_minor=await _next_share(session, booking, left),
    )
    session.add(item)
    await session.flush()
    seat = None
    if product.seating == "fixed_seat":
        seat = await _claim_seat(session, found.row, performance_id, item)
    _earlier_start(booking, performance)
    await history.write(
        session,
        booking_id=booking.id or 0,
        actor=actor,
        at=now,
        action="pass_date_added",
        places=1,
    )
    return AddedDate(
        pass_id=found.row.id or 0,
        code=found.row.code,
        performance_id=performance_id,
        choices_left=left,
        seat=seat_place(seat) if seat is not None else None,
        other_seat=seat is not None and seat.id != found.row.seat_id,
    )


async def _next_share(session: AsyncSession, booking: Booking, left: int) -> int:
    """The next unused share of the price paid: the pass's N dates are the items it has plus
    the choices left before this one, and the items already carry the first shares. Read
    after the choice was taken, so two adds to one pass never count the same share."""
    count = await session.execute(
        select(func.count()).select_from(Item).where(col(Item.booking_id) == booking.id)
    )
    had = int(count.scalar_one())  # this date's item is not written yet
    shares = apportion(booking.total_minor, [1] * (had + left + 1))
    return shares[had]


async def _claim_seat(
    session: AsyncSession, row: Pass, performance_id: int, item: Item
) -> Seat | None:
    """The pass's own seat at that date when free, else the best free one; claimed for the
    pass by the unique (performance, seat), so a seat taken meanwhile tries the next."""
    own = await session.get(Seat, row.seat_id) if row.seat_id is not None else None
    free = await places.free_seats(session, performance_id, item.area_id)
    candidates = ([own] if own is not None else []) + [s for s in free if s.id != row.seat_id]
    for seat in candidates[:SEAT_ATTEMPTS]:
        try:
            async with session.begin_nested():
                session.add(
                    SeatClaim(
                        performance_id=performance_id,
                        seat_id=seat.id or 0,
                        item_id=item.id,
                        pass_id=row.id,
                    )
                )
        except IntegrityError:
            continue
        item.seat_id = seat.id
        await session.flush()
        return seat
    raise BookingError("sold_out")


def _earlier_start(booking: Booking, performance: Performance) -> None:
    """A date before the booking's first one becomes its start (closing at the start)."""
    if performance.starts_at < booking.starts_at:
        booking.starts_at = performance.starts_at
