"""Adding newly scheduled dates to every pass of an automatic product in one action (SPEC §9,
issue 12 item 5): the console shows the count first (``preview``), then ``add_new_dates``.

A new date is a date of the product's linked events, on sale and not started, that a live pass
of the product (its booking held, overdue or paid) does not include yet. Each such pass gets
an item there, priced 0: the pass was sold for the dates it included then, and a date added
afterwards is the organizer's gift, not a change of price (the booking's total and a payment
already made stay exact). The item takes the gauge with the conditional update and, for a
fixed-seat pass, the pass's own seat through the unique (performance, seat) claim; where the
gauge is empty or the seat taken, that pass gets no item there and the **conflict** is listed
(pass code, holder, date, seat) for the organizer to settle.

One transaction per product, the product row locked first (``passes.locked_product``): the
passes and the items they have are read under that lock, so running it twice adds nothing
(the second run finds every item the first wrote), and a sale of the product running at the
same moment either comes before (its pass is then read and completed) or after (it then
includes the new date itself). tests/concurrency/test_pass_addition_race.py shows the sale
missing the date without the lock; tests/concurrency/test_add_dates_vs_renew.py the same for a
renewal into the product.

While a renewal campaign is open, the seat kept for each invited holder in this product
(``SeatClaim.renewal_id``, one claim per included date) is kept at the new dates too, under the
same lock: otherwise anyone could take it there, and the holder's renewal (which asks for the
kept seat at every date) would be refused. As at the launch, all dates or none: a holder whose
seat is taken (or whose area is full) at a new date keeps nothing, the kept claims go back on
sale, and ``renew`` offers the same seat where free, else the best one (``kept_lost``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries.passes import IncludedDate, included_dates
from booking.rules import pass_holders, states
from booking.services import places
from booking.services.passes import locked_product, product_tariffs
from booking.sql import skip_locked
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Event, Gauge, Performance, Seat, SeatClaim
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassProduct
from booking.tables.renewals import Renewal, RenewalCampaign
from booking.views import SeatPlace

LIVE = (states.HELD, states.OVERDUE, states.CONFIRMED)
# Core tables, for the inserts of one date's items and claims in one statement each.
_ITEM: Any = Item.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack __table__
_CLAIM: Any = SeatClaim.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AdditionPreview:
    product_id: int
    new_dates: tuple[IncludedDate, ...]  # missing from at least one live pass
    passes: int  # live passes missing at least one of them
    items_to_add: int  # one per (pass, missing date)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A pass that could not get a new date: no place left there, or its seat taken."""

    pass_id: int
    pass_code: str
    holder: str
    date: IncludedDate
    seat: SeatPlace | None  # the pass's seat (fixed-seat products)
    reason: str  # "seat_taken" | "sold_out"


@dataclass(frozen=True, slots=True)
class AdditionReport:
    product_id: int
    dates_added: int  # new dates at which at least one pass got an item
    passes: int  # passes that got at least one item
    items_added: int
    conflicts: tuple[Conflict, ...]
    # Seats kept for invited renewal holders: claims added at the new dates, and the holders
    # whose seat could not be kept at one of them (so it is kept at none: module docstring).
    kept_extended: int = 0
    kept_lost: tuple[Conflict, ...] = ()


@dataclass(frozen=True, slots=True)
class _Live:
    """A live pass as plain columns (thousands of them are read at once)."""

    pass_id: int
    code: str
    seat_id: int | None
    seat: SeatPlace | None
    booking_id: int
    starts_at: datetime  # the booking's
    holder: str
    missing: tuple[int, ...]  # performance ids


@dataclass(frozen=True, slots=True)
class _Plan:
    dates: dict[int, tuple[Performance, Event]]  # the new dates, by performance id
    passes: list[_Live]  # the live passes missing at least one

    @property
    def items(self) -> int:
        return sum(len(p.missing) for p in self.passes)

    def included(self, performance_id: int) -> IncludedDate:
        performance, event = self.dates[performance_id]
        return IncludedDate(performance_id, performance.starts_at, event.timezone, event.title)


class _NoPlace(Exception):
    """The gauge is empty at that date: the savepoint rolls back, a conflict is listed."""


async def preview(ctx: Context, *, product_id: int) -> AdditionPreview:
    """What ``add_new_dates`` would add now: the count the console shows first."""

    async def work(session: AsyncSession) -> AdditionPreview:
        product = await session.get(PassProduct, product_id)
        if product is None:
            raise BookingError("unknown_item")
        plan = await _plan(session, product, ctx.clock.now())
        ordered = sorted(plan.dates, key=lambda p: (plan.dates[p][0].starts_at, p))
        return AdditionPreview(
            product_id=product_id,
            new_dates=tuple(plan.included(p) for p in ordered),
            passes=len(plan.passes),
            items_to_add=plan.items,
        )

    return await ctx.db.read(work)


async def add_new_dates(ctx: Context, *, actor: Actor, product_id: int) -> AdditionReport:
    """Give every live pass of the product an item at each new date, where a place (and, for
    a fixed seat, the pass's seat) is free; list the others as conflicts. Staff only."""
    if actor.kind != "staff":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> AdditionReport:
        product = await locked_product(session, product_id)
        if product is None:
            raise BookingError("unknown_item")
        if product.includes != "automatic":
            raise BookingError("pass_not_automatic")
        now = ctx.clock.now()
        plan = await _plan(session, product, now)
        tariffs = await product_tariffs(
            session, product, {e.id or 0 for _p, e in plan.dates.values()}
        )
        added: dict[int, list[int]] = defaultdict(list)  # pass id -> performance ids
        conflicts: list[Conflict] = []
        # Dates outer, passes inner: the gauges are locked in date order, as a sale takes them.
        for performance_id in sorted(plan.dates, key=lambda p: (plan.dates[p][0].starts_at, p)):
            event = plan.dates[performance_id][1]
            waiting = [live for live in plan.passes if performance_id in live.missing]
            got, lost = await _add_date(
                session, product, waiting, performance_id, tariffs[event.id or 0]
            )
            for live in got:
                added[live.pass_id].append(performance_id)
            conflicts += [_conflict(plan, live, performance_id, why) for live, why in lost]
        for live in plan.passes:
            dated = added.get(live.pass_id)
            if dated:
                await _record(session, actor, live, [plan.dates[p][0] for p in dated], now)
        kept_extended, kept_lost = await _extend_kept(session, product, now)
        return AdditionReport(
            product_id=product_id,
            dates_added=len({p for dated in added.values() for p in dated}),
            passes=len(added),
            items_added=sum(len(dated) for dated in added.values()),
            conflicts=tuple(sorted(conflicts, key=lambda c: (c.date.starts_at, c.pass_id))),
            kept_extended=kept_extended,
            kept_lost=tuple(sorted(kept_lost, key=lambda c: (c.date.starts_at, c.pass_id))),
        )

    return await ctx.db.write(work)


async def _plan(session: AsyncSession, product: PassProduct, now: datetime) -> _Plan:
    """The live passes of the product and the included dates each one lacks. In the write,
    this read comes after the product lock: what an earlier run or sale wrote is seen."""
    dates = await included_dates(session, product.id or 0, now)
    if not dates:
        return _Plan({}, [])
    rows = (
        await session.execute(
            select(
                col(Pass.id), col(Pass.code), col(Pass.seat_id), col(Pass.holder),
                col(Booking.id), col(Booking.starts_at), col(Customer.name),
                col(Seat.section), col(Seat.row), col(Seat.number),
            )
            .join(Booking, col(Booking.id) == Pass.booking_id)
            .join(Customer, col(Customer.id) == Pass.customer_id)
            .outerjoin(Seat, col(Seat.id) == Pass.seat_id)
            .where(col(Pass.product_id) == product.id, col(Booking.status).in_(LIVE))
            .order_by(col(Pass.id))
        )
    ).all()  # fmt: skip
    have: dict[int, set[int]] = defaultdict(set)
    for held_by, performance_id in (
        await session.execute(
            select(col(Item.booking_id), col(Item.performance_id))
            .join(Pass, col(Pass.booking_id) == Item.booking_id)
            .where(col(Pass.product_id) == product.id)
        )
    ).all():
        have[int(held_by)].add(int(performance_id))
    passes = []
    for pass_id, code, seat_id, holder, booking_id, starts_at, name, section, row, number in rows:
        missing = tuple(d.id or 0 for d in dates if d.id not in have[booking_id or 0])
        if missing:
            answers = pass_holders.answers_from_json(holder)
            passes.append(
                _Live(
                    pass_id=pass_id or 0,
                    code=code,
                    seat_id=seat_id,
                    seat=SeatPlace(section, row, number) if seat_id is not None else None,
                    booking_id=booking_id or 0,
                    starts_at=starts_at,
                    holder=pass_holders.holder_name(answers, name),
                    missing=missing,
                )
            )
    wanted = {p for live in passes for p in live.missing}
    events = {
        e.id: e
        for e in (
            await session.execute(
                select(Event).where(col(Event.id).in_({d.event_id for d in dates}))
            )
        ).scalars()
    }
    return _Plan({d.id or 0: (d, events[d.event_id]) for d in dates if d.id in wanted}, passes)


async def _add_date(
    session: AsyncSession,
    product: PassProduct,
    waiting: list[_Live],
    performance_id: int,
    tariff: int,
) -> tuple[list[_Live], list[tuple[_Live, str]]]:
    """One new date for the passes that lack it: (the passes that got it, the conflicts).

    Seats claimed and places left are read first, so the passes that cannot have the date
    are known without trying; the others get it in one go (one gauge update for all, one
    insert of the items, one of the claims), in a savepoint. Should a hold take a place or one
    of those seats between the read and the writes, the unique claim or the conditional gauge
    refuses, the savepoint rolls back and the passes are tried one by one."""
    lost: list[tuple[_Live, str]] = []
    if product.seating == "fixed_seat":
        taken = await _claimed(session, performance_id)
        lost = [(live, "seat_taken") for live in waiting if live.seat_id in taken]
        waiting = [live for live in waiting if live.seat_id not in taken]
    left = await _left(session, performance_id, product.area_id)
    fits = waiting[:left]
    lost += [(live, "sold_out") for live in waiting[left:]]
    if not fits or await _in_one_go(session, product, fits, performance_id, tariff):
        return fits, lost
    got = []
    for live in fits:
        why = await _add_one(session, product, live, performance_id, tariff)
        if why:
            lost.append((live, why))
        else:
            got.append(live)
    return got, lost


async def _claimed(session: AsyncSession, performance_id: int) -> set[int]:
    query = select(col(SeatClaim.seat_id)).where(col(SeatClaim.performance_id) == performance_id)
    return {int(s) for s in (await session.execute(query)).scalars()}


async def _left(session: AsyncSession, performance_id: int, area_id: int) -> int:
    query = select(col(Gauge.remaining)).where(
        col(Gauge.performance_id) == performance_id, col(Gauge.area_id) == area_id
    )
    return int((await session.execute(query)).scalar_one_or_none() or 0)


async def _in_one_go(
    session: AsyncSession,
    product: PassProduct,
    fits: list[_Live],
    performance_id: int,
    tariff: int,
) -> bool:
    """Every pass of ``fits`` gets the date, or (a place or a seat taken meanwhile) none."""
    try:
        async with session.begin_nested():
            if not await places.take_gauge(session, performance_id, product.area_id, len(fits)):
                raise _NoPlace
            rows = [_item_row(live, performance_id, tariff, product.area_id) for live in fits]
            inserted = await session.execute(
                insert(_ITEM).returning(_ITEM.c.id, sort_by_parameter_order=True), rows
            )
            claims = [
                {
                    "performance_id": performance_id,
                    "seat_id": live.seat_id,
                    "item_id": item_id,
                    "pass_id": live.pass_id,
                }
                for live, item_id in zip(fits, inserted.scalars().all(), strict=True)
                if live.seat_id is not None
            ]
            if claims:
                await session.execute(insert(_CLAIM), claims)
    except (_NoPlace, IntegrityError):
        return False
    return True


def _item_row(live: _Live, performance_id: int, tariff: int, area_id: int) -> dict[str, Any]:
    return {
        "booking_id": live.booking_id,
        "performance_id": performance_id,
        "tariff_id": tariff,
        "area_id": area_id,
        "seat_id": live.seat_id,
        "price_minor": 0,
        "discount_minor": 0,
    }


async def _add_one(
    session: AsyncSession, product: PassProduct, live: _Live, performance_id: int, tariff: int
) -> str:
    """One item for one pass at one date, all or nothing in a savepoint: the gauge, the item,
    the seat claim. Returns "" when added, else the conflict's reason. The careful path, for
    a date whose writes in one go were refused."""
    try:
        async with session.begin_nested():
            if not await places.take_gauge(session, performance_id, product.area_id, 1):
                raise _NoPlace
            item = Item(
                booking_id=live.booking_id,
                performance_id=performance_id,
                tariff_id=tariff,
                area_id=product.area_id,
                seat_id=live.seat_id,
                price_minor=0,
            )
            session.add(item)
            await session.flush()
            if live.seat_id is not None:
                session.add(
                    SeatClaim(
                        performance_id=performance_id,
                        seat_id=live.seat_id,
                        item_id=item.id,
                        pass_id=live.pass_id,
                    )
                )
                await session.flush()
    except _NoPlace:
        return "sold_out"
    except IntegrityError:
        return "seat_taken"
    return ""


def _conflict(plan: _Plan, live: _Live, performance_id: int, reason: str) -> Conflict:
    return Conflict(
        pass_id=live.pass_id,
        pass_code=live.code,
        holder=live.holder,
        date=plan.included(performance_id),
        seat=live.seat,
        reason=reason,
    )


async def _record(
    session: AsyncSession, actor: Actor, live: _Live, got: list[Performance], now: datetime
) -> None:
    """The booking's history, and its start when a new date comes before its first one."""
    first = min(p.starts_at for p in got)
    if first < live.starts_at:
        await session.execute(
            update(Booking)
            .where(col(Booking.id) == live.booking_id)
            .values(starts_at=first)
            .execution_options(synchronize_session=False)
        )
    await history.write(
        session,
        booking_id=live.booking_id,
        actor=actor,
        at=now,
        action="pass_dates_added",
        places=len(got),
    )


# -- seats kept for renewal holders -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kept:
    """An invited holder's seat kept in this product, and the included dates it lacks."""

    renewal_id: int
    seat_id: int
    pass_id: int  # the holder's (last season's) pass
    code: str
    holder: str
    seat: SeatPlace
    missing: tuple[int, ...]


async def _extend_kept(
    session: AsyncSession, product: PassProduct, now: datetime
) -> tuple[int, list[Conflict]]:
    """Keep each invited holder's seat at every included date it lacks (module docstring):
    (claims added, holders who lost their kept seat). Dates outer, holders inner, as for the
    passes: one gauge update and one insert per date, holder by holder only if that failed."""
    if product.seating != "fixed_seat":
        return 0, []
    dates = await included_dates(session, product.id or 0, now)
    kept = await _kept_seats(session, product, [d.id or 0 for d in dates])
    if not kept:
        return 0, []
    events = await _events(session, {d.event_id for d in dates})
    lost: dict[int, Conflict] = {}
    added: Counter[int] = Counter()  # renewal id -> claims this run added
    for date in dates:
        waiting = [k for k in kept if date.id in k.missing and k.renewal_id not in lost]
        if not waiting:
            continue
        got, refused = await _keep_at(session, product, waiting, date.id or 0)
        added.update(k.renewal_id for k in got)
        event = events[date.event_id]
        included = IncludedDate(date.id or 0, date.starts_at, event.timezone, event.title)
        for k, why in refused:
            lost[k.renewal_id] = Conflict(k.pass_id, k.code, k.holder, included, k.seat, why)
    if lost:
        await _release_kept(session, product, sorted(lost))
    return sum(n for r, n in added.items() if r not in lost), list(lost.values())


async def _kept_seats(
    session: AsyncSession, product: PassProduct, date_ids: list[int]
) -> list[_Kept]:
    """The invited renewals of open campaigns whose seat is kept in this product and lacks one
    of ``date_ids``. On PostgreSQL ``FOR UPDATE SKIP LOCKED``: a renewal being renewed at this
    moment holds its row and waits for the product lock this transaction holds; waiting for
    it in turn would deadlock, and that holder's renewal claims its seat at every date itself."""
    if not date_ids:
        return []
    query = (
        select(
            col(Renewal.id), col(Renewal.seat_id), col(Pass.id), col(Pass.code),
            col(Pass.holder), col(Customer.name), col(Seat.section), col(Seat.row),
            col(Seat.number),
        )
        .join(RenewalCampaign, col(RenewalCampaign.id) == Renewal.campaign_id)
        .join(Pass, col(Pass.id) == Renewal.pass_id)
        .join(Customer, col(Customer.id) == Pass.customer_id)
        .join(Seat, col(Seat.id) == Renewal.seat_id)
        .where(
            col(Renewal.product_id) == product.id,
            col(Renewal.state) == "invited",
            col(RenewalCampaign.state) == "open",
        )
        .order_by(col(Renewal.id))
    )  # fmt: skip
    rows = (await session.execute(_locking(session, query))).all()
    if not rows:
        return []
    have: dict[int, set[int]] = defaultdict(set)
    claims = await session.execute(
        select(col(SeatClaim.renewal_id), col(SeatClaim.performance_id)).where(
            col(SeatClaim.renewal_id).in_([r for r, *_ in rows])
        )
    )
    for renewal_id, performance_id in claims.all():
        have[int(renewal_id or 0)].add(int(performance_id))
    kept = []
    for renewal_id, seat_id, pass_id, code, holder, name, section, row, number in rows:
        missing = tuple(d for d in date_ids if d not in have[int(renewal_id or 0)])
        if missing:
            answers = pass_holders.answers_from_json(holder)
            kept.append(
                _Kept(
                    renewal_id=int(renewal_id or 0),
                    seat_id=int(seat_id or 0),
                    pass_id=int(pass_id or 0),
                    code=code,
                    holder=pass_holders.holder_name(answers, name),
                    seat=SeatPlace(section, row, number),
                    missing=missing,
                )
            )
    return kept


def _locking(session: AsyncSession, query: Any) -> Any:
    """The renewals' rows locked, skipping those a renewal holds (``_kept_seats``)."""
    return query.with_for_update(skip_locked=True, of=Renewal) if skip_locked(session) else query


async def _events(session: AsyncSession, event_ids: set[int]) -> dict[int, Event]:
    found = await session.execute(select(Event).where(col(Event.id).in_(event_ids)))
    return {e.id or 0: e for e in found.scalars()}


async def _keep_at(
    session: AsyncSession, product: PassProduct, waiting: list[_Kept], performance_id: int
) -> tuple[list[_Kept], list[tuple[_Kept, str]]]:
    """The kept seats of ``waiting`` claimed at one new date: (kept there, refused and why).
    Seats claimed and places left are read first; the guards (the unique claim, the
    conditional gauge) decide, in a savepoint."""
    taken = await _claimed(session, performance_id)
    refused = [(k, "seat_taken") for k in waiting if k.seat_id in taken]
    waiting = [k for k in waiting if k.seat_id not in taken]
    left = await _left(session, performance_id, product.area_id)
    fits = waiting[:left]
    refused += [(k, "sold_out") for k in waiting[left:]]
    if not fits or await _claim_kept(session, product, fits, performance_id):
        return fits, refused
    got = []
    for k in fits:
        if await _claim_kept(session, product, [k], performance_id):
            got.append(k)
        else:
            refused.append((k, "seat_taken"))
    return got, refused


async def _claim_kept(
    session: AsyncSession, product: PassProduct, kept: list[_Kept], performance_id: int
) -> bool:
    """One gauge update and one insert of claims for these kept seats: all, or none."""
    try:
        async with session.begin_nested():
            if not await places.take_gauge(session, performance_id, product.area_id, len(kept)):
                raise _NoPlace
            await session.execute(
                insert(_CLAIM),
                [
                    {
                        "performance_id": performance_id,
                        "seat_id": k.seat_id,
                        "renewal_id": k.renewal_id,
                    }
                    for k in kept
                ],
            )
    except (_NoPlace, IntegrityError):
        return False
    return True


async def _release_kept(
    session: AsyncSession, product: PassProduct, renewal_ids: list[int]
) -> None:
    """These holders keep no seat any more (one date could not be kept): their claims deleted
    (those of this run too), the places back to the product's area, the renewal keeping
    nothing (``renew`` then offers the same seat where free at every date, else the best)."""
    deleted = await session.execute(
        delete(SeatClaim)
        .where(col(SeatClaim.renewal_id).in_(renewal_ids))
        .returning(col(SeatClaim.performance_id))
        .execution_options(synchronize_session=False)
    )
    per_date = Counter(int(p) for p in deleted.scalars())
    for performance_id, n in sorted(per_date.items()):
        await session.execute(
            update(Gauge)
            .where(
                col(Gauge.performance_id) == performance_id, col(Gauge.area_id) == product.area_id
            )
            .values(remaining=col(Gauge.remaining) + n)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Renewal)
        .where(col(Renewal.id).in_(renewal_ids))
        .values(product_id=None, seat_id=None)
        .execution_options(synchronize_session=False)
    )
