"""Holding places: reserve now, pay before the deadline (or buy now when it has passed).

A hold is the desk's busiest write, so its transaction is kept short without giving up any
guarantee: one read of everything it checks (the date, its event, the tariffs and their areas,
the customer), then only writes, each a prebuilt statement (compiled once) run on the
transaction's connection: the conditional gauge update, the booking, its items in one
statement, seat claims, the history row and the outbox row. The booking's reference is drawn
at random and the unique constraint settles the (rare) clash: ``Database.write`` re-runs the
whole transaction with a new one.

A season pass is one booking too: ``hold_dates_in_session`` takes one place at each of several
performances (all or none, in one transaction) through the same guards and writes: the read,
the eligibility and deadline checks, the conditional gauge update, the unique seat claim and
``_write_booking``. Only its prices come from the caller (the pass's price apportioned).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.deadlines import DeadlineRule, compute_deadline
from booking.rules.references import new_reference
from booking.services import places
from booking.services.common import notify_skip
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Area, Event, Gauge, Performance, Seat, Tariff
from booking.tables.customers import Customer
from booking.views import BookingView, ItemView, seat_place


@dataclass(frozen=True, slots=True)
class Line:
    """Places of one tariff: a GA quantity, chosen seats, or a quantity of best seats together."""

    tariff_id: int
    quantity: int = 0
    seat_ids: tuple[int, ...] = ()

    @property
    def count(self) -> int:
        return len(self.seat_ids) or self.quantity


@dataclass(frozen=True, slots=True)
class DateLine:
    """One place at one date of a several-date booking (a season pass): its tariff (the pass
    product's own tariff for that date's event), its share of the booking's price, and the
    seat in a numbered area (None: general admission)."""

    performance_id: int
    tariff_id: int
    price_minor: int
    seat_id: int | None = None


class RuleSource(Protocol):
    """A tariff, a date or an event: each may set the deadline rule."""

    @property
    def days_after_booking(self) -> int | None: ...
    @property
    def days_before_event(self) -> int | None: ...


class Dated(RuleSource, Protocol):
    @property
    def starts_at(self) -> datetime: ...


class Zoned(RuleSource, Protocol):
    @property
    def timezone(self) -> str: ...


class Capped(Protocol):
    @property
    def max_per_booking(self) -> int | None: ...


class Ordered(Protocol):
    @property
    def max_per_order(self) -> int: ...


def quantity_cap(tariff: Capped, event: Ordered) -> int:
    """The most places of this tariff one booking may have: its own maximum, within the
    event's per-order maximum (what remains is another matter, checked by the gauge)."""
    if tariff.max_per_booking is None:
        return event.max_per_order
    return min(tariff.max_per_booking, event.max_per_order)


def effective_rule(tariff: RuleSource, performance: RuleSource, event: RuleSource) -> DeadlineRule:
    """The tariff's rule, else the date's, else the event's (the first that sets anything)."""
    for source in (tariff, performance):
        if source.days_after_booking is not None or source.days_before_event is not None:
            return DeadlineRule(source.days_after_booking, source.days_before_event)
    return DeadlineRule(event.days_after_booking, event.days_before_event)


def hold_deadline(
    tariff: RuleSource, performance: Dated, event: Zoned, now: datetime
) -> datetime | None:
    """When a hold of this tariff made now must be paid; None: it can only be bought."""
    return compute_deadline(
        effective_rule(tariff, performance, event),
        booked_at=now,
        starts_at=performance.starts_at,
        timezone=event.timezone,
    )


async def hold(
    ctx: Context,
    *,
    actor: Actor,
    customer_id: int,
    performance_id: int,
    lines: Sequence[Line],
    buy: bool = False,
) -> BookingView:
    """Take the places and open a booking: ``held`` until its deadline.

    ``buy=True`` is the "pay now" path: a short checkout hold that is never reminded or made
    overdue. Raises BookingError (sold_out, not_enough_left, seat_taken, buy_only,
    below_minimum, bad_quantity, too_many_holds, not_eligible_*, …).
    """
    if actor.kind == "customer" and actor.id != customer_id:
        raise BookingError("not_owner")
    if not lines or any(line.count <= 0 for line in lines):
        raise BookingError("bad_quantity", min=1, max=10)
    return await ctx.db.write(
        lambda s: hold_in_session(s, ctx, actor, customer_id, performance_id, list(lines), buy)
    )


# -- what a hold reads: one statement -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Date:
    id: int
    event_id: int
    starts_at: datetime
    on_sale: bool
    days_after_booking: int | None
    days_before_event: int | None


@dataclass(frozen=True, slots=True)
class _Event:
    id: int
    title: str
    timezone: str
    max_per_order: int
    days_after_booking: int | None
    days_before_event: int | None
    currency: str  # every place of the booking is priced in it


@dataclass(frozen=True, slots=True)
class _Tariff:
    id: int
    event_id: int
    area_id: int
    seated: bool  # the area's kind
    name: str
    price_minor: int
    currency: str  # its own event's: differs from the date's only for another event's tariff
    hold_channels: str
    buy_channels: str
    customer_types: str
    days_after_booking: int | None
    days_before_event: int | None
    active: bool
    min_per_booking: int
    max_per_booking: int | None
    pass_product_id: int | None  # a pass product's tariff: held only by hold_dates_in_session


@dataclass(frozen=True, slots=True)
class _Customer:
    """The columns of the customer a hold needs (its checks and ``outbox.Recipient``)."""

    id: int
    organization_id: int | None
    customer_type: str
    language: str
    email: str | None
    email_undeliverable: bool
    telegram_chat_id: int | None
    telegram_unreachable: bool


_P: Any = Performance.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack __table__
_E: Any = Event.__table__  # type: ignore[attr-defined]
_T: Any = Tariff.__table__  # type: ignore[attr-defined]
_A: Any = Area.__table__  # type: ignore[attr-defined]
_C: Any = Customer.__table__  # type: ignore[attr-defined]
_TE: Any = _E.alias("tariff_event")  # the event each wanted tariff belongs to
_B: Any = Booking.__table__  # type: ignore[attr-defined]
_I: Any = Item.__table__  # type: ignore[attr-defined]
_G: Any = Gauge.__table__  # type: ignore[attr-defined]


def _read_statement(tariffs: int, dates: int | None = None) -> Prepared:
    """The date and its event, each wanted tariff with its area's kind (none: no tariff row),
    and the customer (NULLs: unknown). One row per tariff found; no row: no such date.

    With ``dates``: the same for that many dates at once (binds ``p0``…), each row ending with
    its date's id (``hold_dates_in_session``: one read whatever the number of dates)."""
    wanted: list[Any] = [bindparam(f"t{k}") for k in range(tariffs)]
    if dates is None:
        which, extra = _P.c.id == bindparam("performance_id"), []
    else:
        which = _P.c.id.in_([bindparam(f"p{k}") for k in range(dates)])
        extra = [_P.c.id]
    return Prepared(
        select(
            _P.c.event_id,
            _P.c.starts_at,
            _P.c.on_sale,
            _P.c.days_after_booking,
            _P.c.days_before_event,
            _E.c.title,
            _E.c.timezone,
            _E.c.max_per_order,
            _E.c.days_after_booking,
            _E.c.days_before_event,
            _T.c.id,
            _T.c.event_id,
            _T.c.area_id,
            _A.c.kind,
            _T.c.name,
            _T.c.price_minor,
            _TE.c.currency,
            _T.c.hold_channels,
            _T.c.buy_channels,
            _T.c.customer_types,
            _T.c.days_after_booking,
            _T.c.days_before_event,
            _T.c.active,
            _C.c.id,
            _C.c.organization_id,
            _C.c.customer_type,
            _C.c.language,
            _C.c.email,
            _C.c.email_undeliverable,
            _C.c.telegram_chat_id,
            _C.c.telegram_unreachable,
            _E.c.currency,
            _T.c.min_per_booking,
            _T.c.max_per_booking,
            _T.c.pass_product_id,
            *extra,
        )
        .select_from(_P)
        .join(_E, _E.c.id == _P.c.event_id)
        .outerjoin(_T, _T.c.id.in_(wanted))
        .outerjoin(_A, _A.c.id == _T.c.area_id)
        .outerjoin(_TE, _TE.c.id == _T.c.event_id)
        .outerjoin(_C, _C.c.id == bindparam("customer_id"))
        .where(which)
    )


# One statement per number of distinct tariffs (plain binds: no IN list expanded per call).
_READS: dict[int, Prepared] = {}
_INSERT_BOOKING = Prepared(insert(_B).returning(_B.c.id))
_ITEM_COLUMNS = (
    "booking_id",
    "performance_id",
    "tariff_id",
    "area_id",
    "seat_id",
    "price_minor",
    "discount_minor",
)
_INSERTS_ITEMS: dict[int, Prepared] = {}


def _insert_items(n: int) -> Prepared:
    """Every item of a booking in one statement (one multi-row VALUES, one round trip), one
    statement per number of places. RETURNING says which id each (date, tariff, seat) got, whatever
    order the rows come back in; places of one tariff without a seat are alike, so which of
    their ids goes first does not matter (lowest first)."""
    found = _INSERTS_ITEMS.get(n)
    if found is None:
        rows = [
            {c: bindparam(f"{c}_{k}", type_=_I.c[c].type) for c in _ITEM_COLUMNS} for k in range(n)
        ]
        found = Prepared(
            insert(_I)
            .values(rows)
            .returning(_I.c.id, _I.c.performance_id, _I.c.tariff_id, _I.c.seat_id)
        )
        _INSERTS_ITEMS[n] = found
    return found


@dataclass(frozen=True, slots=True)
class _Read:
    performance: _Date
    event: _Event
    tariffs: dict[int, _Tariff]  # every tariff found by id, of any event, active or not
    customer: _Customer | None


async def _read(
    conn: AsyncConnection, performance_id: int, customer_id: int, tariff_ids: list[int]
) -> _Read | None:
    statement = _READS.get(len(tariff_ids))
    if statement is None:
        statement = _READS[len(tariff_ids)] = _read_statement(len(tariff_ids))
    params: dict[str, Any] = {f"t{k}": t for k, t in enumerate(tariff_ids)}
    params |= {"customer_id": customer_id, "performance_id": performance_id}
    rows = (await statement.run(conn, params)).rows
    return _parsed(performance_id, rows) if rows else None


# One statement per (number of dates, number of distinct tariffs).
_DATES_READS: dict[tuple[int, int], Prepared] = {}


async def _read_dates(
    conn: AsyncConnection, performance_ids: list[int], customer_id: int, tariff_ids: list[int]
) -> dict[int, _Read]:
    """``_read`` for several dates in one statement: date id -> what it read (a date missing
    from the answer does not exist)."""
    key = (len(performance_ids), len(tariff_ids))
    statement = _DATES_READS.get(key)
    if statement is None:
        statement = _DATES_READS[key] = _read_statement(len(tariff_ids), len(performance_ids))
    params: dict[str, Any] = {f"t{k}": t for k, t in enumerate(tariff_ids)}
    params |= {f"p{k}": p for k, p in enumerate(performance_ids)}
    params["customer_id"] = customer_id
    per_date: dict[int, list[tuple[Any, ...]]] = {}
    for row in (await statement.run(conn, params)).rows:
        per_date.setdefault(row[-1], []).append(row)
    return {p: _parsed(p, rows) for p, rows in per_date.items()}


def _parsed(performance_id: int, rows: Sequence[tuple[Any, ...]]) -> _Read:
    """One date's rows of ``_read_statement`` (one per tariff found) as a ``_Read``."""
    first = rows[0]
    performance = _Date(performance_id, *first[0:5])
    event = _Event(first[0], first[5], first[6], first[7], first[8], first[9], first[31])
    customer = _Customer(*first[23:31]) if first[23] is not None else None
    tariffs: dict[int, _Tariff] = {}
    for r in rows:
        if r[10] is not None:
            tariffs[r[10]] = _Tariff(r[10], r[11], r[12], r[13] == "seated", *r[14:23], *r[32:35])
    return _Read(performance, event, tariffs, customer)


# -- the hold ----------------------------------------------------------------------------------


async def hold_in_session(
    session: AsyncSession,
    ctx: Context,
    actor: Actor,
    customer_id: int,
    performance_id: int,
    lines: list[Line],
    buy: bool,
) -> BookingView:
    """The one hold engine, in the caller's transaction (``hold``; the desk form, whose form
    key and new customer commit with the hold or not at all)."""
    now = ctx.clock.now()
    conn = await connection_of(session)
    wanted = sorted({line.tariff_id for line in lines})
    found = await _read(conn, performance_id, customer_id, wanted)
    if found is None or not found.performance.on_sale:
        raise BookingError("unknown_performance")
    performance, event, customer = found.performance, found.event, found.customer
    if performance.starts_at <= now:
        raise BookingError("performance_started")
    if customer is None:
        raise BookingError("unknown_customer")
    _one_currency(event, found.tariffs)
    tariffs = {
        i: t
        for i, t in found.tariffs.items()
        if t.event_id == event.id and t.active and _sold_alone(t)
    }
    if set(tariffs) != set(wanted):
        raise BookingError("unknown_tariff")
    total_places = sum(line.count for line in lines)
    if total_places > event.max_per_order:
        raise BookingError("bad_quantity", min=1, max=event.max_per_order)
    _check_tariff_quantities(event, tariffs, lines)
    deadline = _deadline(ctx, actor, customer, performance, event, tariffs, now, buy)
    limit = open_holds_limit(ctx, actor)
    if limit:
        await _lock_customer(conn, customer_id)
        count = await _open_holds(conn, customer_id)
        if count >= limit:
            raise BookingError("too_many_holds", count=count)
    per_area = Counter[int]()
    for line in lines:
        per_area[tariffs[line.tariff_id].area_id] += line.count
    seated = any(tariffs[line.tariff_id].seated for line in lines)
    # On PostgreSQL the gauge row is the hot lock (every hold of the date updates it): take it
    # last, just before COMMIT, so it is held for one statement instead of the whole
    # transaction. Not with seats: there the gauge lock is what queues two "best seats"
    # holds, so the second picks among the seats the first left. SQLite locks the whole
    # database for the transaction anyway: take it first, a sold-out hold then writes nothing.
    gauge_last = conn.dialect.name == "postgresql" and not seated
    if not gauge_last:
        await _take_gauges(conn, performance_id, per_area)
    taken = (
        await _pick(session, performance_id, tariffs, lines)
        if seated
        else [(tariffs[line.tariff_id], None) for line in lines for _ in range(line.count)]
    )
    placed = [_Place(performance_id, tariff, seat, tariff.price_minor) for tariff, seat in taken]
    booking_id, reference, item_ids = await _write_booking(
        conn,
        actor,
        customer,
        event=event,
        first=performance,
        deadline=deadline,
        buy=buy,
        now=now,
        placed=placed,
    )
    if gauge_last:
        await _take_gauges(conn, performance_id, per_area)
    return _view(
        actor, customer, event, performance, deadline, buy, booking_id, reference, placed, item_ids
    )


async def hold_dates_in_session(
    session: AsyncSession | AsyncConnection,
    ctx: Context,
    actor: Actor,
    customer_id: int,
    lines: list[DateLine],
    buy: bool,
) -> BookingView:
    """One booking of one place at each of several dates (a season pass), in the caller's
    transaction: every date's place is taken, or a BookingError leaves the transaction to roll
    back with nothing taken. The same guards as a single-date hold, date by date: the date on
    sale and not started, the tariff (here: one pass product's own, for that date's event),
    one currency, the channel, customer type and deadline rules, the open-holds limit, the
    conditional gauge update and the unique seat claim.

    The booking belongs to its earliest date's event and date (its policy, start, reminders);
    its deadline is the earliest any date allows; its total is the sum of the lines' prices.
    """
    now = ctx.clock.now()
    if not lines or len({line.performance_id for line in lines}) != len(lines):
        raise BookingError("bad_quantity", min=1, max=1)
    conn = await connection_of(session)
    ordered = sorted(lines, key=lambda x: x.performance_id)
    wanted = sorted({line.tariff_id for line in lines})
    read = await _read_dates(conn, [line.performance_id for line in ordered], customer_id, wanted)
    dated: list[tuple[DateLine, _Read, _Tariff]] = []
    products: set[int | None] = set()
    for line in ordered:
        found = read.get(line.performance_id)
        if found is None or not found.performance.on_sale:
            raise BookingError("unknown_performance")
        if found.performance.starts_at <= now:
            raise BookingError("performance_started")
        if found.customer is None:
            raise BookingError("unknown_customer")
        tariff = found.tariffs.get(line.tariff_id)
        if tariff is None or tariff.event_id != found.event.id or not tariff.active:
            raise BookingError("unknown_tariff")
        if line.price_minor < 0:
            raise BookingError("bad_quantity", min=1, max=1)
        if (line.seat_id is None) == tariff.seated:  # a seat exactly in a numbered area
            raise BookingError("bad_seats")
        products.add(tariff.pass_product_id)
        dated.append((line, found, tariff))
    # The caller prices these lines: only one pass product's tariffs may be priced so.
    if len(products) != 1 or None in products:
        raise BookingError("unknown_tariff")
    dated.sort(key=lambda d: (d[1].performance.starts_at, d[0].performance_id))
    first = dated[0][1]
    customer = first.customer
    assert customer is not None
    deadlines = []
    for _line, found, tariff in dated:
        _one_currency(first.event, {tariff.id: tariff})
        _check_tariff_quantities(found.event, {tariff.id: tariff}, [Line(tariff.id, quantity=1)])
        deadlines.append(
            _deadline(
                ctx, actor, customer, found.performance, found.event, {tariff.id: tariff}, now, buy
            )
        )
    deadline = min(deadlines)
    limit = open_holds_limit(ctx, actor)
    if limit:
        await _lock_customer(conn, customer_id)
        count = await _open_holds(conn, customer_id)
        if count >= limit:
            raise BookingError("too_many_holds", count=count)
    # Gauges first, in date order (two passes never lock them crosswise; a sold-out date
    # refuses before any write), then seats, each claimed by the unique (date, seat).
    for line, _found, tariff in sorted(dated, key=lambda d: d[0].performance_id):
        await _take_gauges(conn, line.performance_id, Counter({tariff.area_id: 1}))
    seats = await _seats_by_id(conn, {line.seat_id for line, _, _ in dated})
    placed = []
    for line, _found, tariff in dated:
        seat = seats.get(line.seat_id) if line.seat_id is not None else None
        if line.seat_id is not None and (seat is None or seat.area_id != tariff.area_id):
            raise BookingError("bad_seats")
        placed.append(_Place(line.performance_id, tariff, seat, line.price_minor))
    booking_id, reference, item_ids = await _write_booking(
        conn,
        actor,
        customer,
        event=first.event,
        first=first.performance,
        deadline=deadline,
        buy=buy,
        now=now,
        placed=placed,
    )
    return _view(
        actor, customer, first.event, first.performance, deadline, buy, booking_id, reference,
        placed, item_ids,
    )  # fmt: skip


class _Seated(Protocol):
    """A seat as a place needs it: the ORM row (picked by ``_pick``) or a ``_SeatRow``."""

    @property
    def id(self) -> int | None: ...
    @property
    def area_id(self) -> int: ...
    @property
    def section(self) -> str: ...
    @property
    def row(self) -> str: ...
    @property
    def number(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _SeatRow:
    id: int
    area_id: int
    section: str
    row: str
    number: int


_S: Any = Seat.__table__  # type: ignore[attr-defined]
_SEAT_READS: dict[int, Prepared] = {}  # one statement per number of seats (plain binds)


async def _seats_by_id(conn: AsyncConnection, seat_ids: set[int | None]) -> dict[int, _SeatRow]:
    """The seats of a several-date booking (a pass: one seat at every date), by one prepared
    statement."""
    wanted = sorted(s for s in seat_ids if s is not None)
    if not wanted:
        return {}
    statement = _SEAT_READS.get(len(wanted))
    if statement is None:
        binds: list[Any] = [bindparam(f"s{k}") for k in range(len(wanted))]
        columns = (_S.c[name] for name in _SeatRow.__dataclass_fields__)
        statement = _SEAT_READS[len(wanted)] = Prepared(select(*columns).where(_S.c.id.in_(binds)))
    found = await statement.run(conn, {f"s{k}": s for k, s in enumerate(wanted)})
    return {row[0]: _SeatRow(*row) for row in found.rows}


# -- the writes every hold makes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Place:
    """One place a booking takes: the date, its tariff, its seat (None: GA), its price."""

    performance_id: int
    tariff: _Tariff
    seat: _Seated | None
    price_minor: int


async def _write_booking(
    conn: AsyncConnection,
    actor: Actor,
    customer: _Customer,
    *,
    event: _Event,
    first: _Date,
    deadline: datetime,
    buy: bool,
    now: datetime,
    placed: list[_Place],
) -> tuple[int, str, list[int]]:
    """The booking, its items in one statement, its seat claims (the unique guard), the
    history row and, for a hold, the outbox row. Returns (booking id, reference, item ids in
    the order of ``placed``)."""
    reference = new_reference()  # a clash fails the unique constraint; the retry draws again
    booking_id: int = (
        await _INSERT_BOOKING.run(
            conn,
            {
                "reference": reference,
                "customer_id": customer.id,
                "organization_id": customer.organization_id,
                "event_id": event.id,
                "performance_id": first.id,
                "channel": actor.channel,
                "status": states.HELD,
                "checkout": buy,
                "deadline": deadline,
                "deadline_set_at": now,
                "starts_at": first.starts_at,
                "total_minor": sum(p.price_minor for p in placed),
                "currency": event.currency,
                "refund_due": False,
                "extension_count": 0,
                "cancel_reason": None,
                "cancel_note": "",
                "created_at": now,
                "updated_at": now,
            },
        )
    ).rows[0][0]
    values: dict[str, Any] = {}
    for k, p in enumerate(placed):
        row = (
            booking_id,
            p.performance_id,
            p.tariff.id,
            p.tariff.area_id,
            p.seat.id if p.seat else None,
            p.price_minor,
            0,
        )
        values |= {f"{c}_{k}": v for c, v in zip(_ITEM_COLUMNS, row, strict=True)}
    ids: dict[tuple[int, int, int | None], list[int]] = {}
    for item_id, performance_id, tariff_id, seat_id in sorted(
        (await _insert_items(len(placed)).run(conn, values)).rows
    ):
        ids.setdefault((performance_id, tariff_id, seat_id), []).append(item_id)
    item_ids = [
        ids[(p.performance_id, p.tariff.id, p.seat.id if p.seat else None)].pop(0) for p in placed
    ]
    claims: dict[int, list[tuple[int, int]]] = {}
    for p, item_id in zip(placed, item_ids, strict=True):
        if p.seat is not None:
            claims.setdefault(p.performance_id, []).append((p.seat.id or 0, item_id))
    for performance_id, pairs in sorted(claims.items()):
        await places.claim_seats(conn, performance_id, pairs)
    await history.write(
        conn,
        booking_id=booking_id,
        actor=actor,
        at=now,
        action="bought" if buy else "held",
        deadline=deadline,
        places=len(placed),
    )
    if not buy:
        await outbox.enqueue(
            conn,
            kind="booking_held",
            customer=customer,
            now=now,
            booking_id=booking_id,
            key=f"held:{booking_id}",
            skip_channel=notify_skip(actor),
        )
    return booking_id, reference, item_ids


def _view(
    actor: Actor,
    customer: _Customer,
    event: _Event,
    first: _Date,
    deadline: datetime,
    buy: bool,
    booking_id: int,
    reference: str,
    placed: list[_Place],
    item_ids: list[int],
) -> BookingView:
    return BookingView(
        id=booking_id,
        reference=reference,
        status=states.HELD,
        checkout=buy,
        customer_id=customer.id,
        organization_id=customer.organization_id,
        channel=actor.channel,
        deadline=deadline,
        starts_at=first.starts_at,
        event_title=event.title,
        timezone=event.timezone,
        total_minor=sum(p.price_minor for p in placed),
        currency=event.currency,
        refund_due=False,
        items=tuple(
            ItemView(
                id=item_id,
                performance_id=p.performance_id,
                tariff_id=p.tariff.id,
                tariff_name=p.tariff.name,
                price_minor=p.price_minor,
                seat=seat_place(p.seat) if p.seat else None,
            )
            for p, item_id in zip(placed, item_ids, strict=True)
        ),
    )


def _sold_alone(tariff: _Tariff) -> bool:
    """A pass product's tariff is priced by its pass (0 alone): never held for one date."""
    return tariff.pass_product_id is None


def _check_tariff_quantities(event: _Event, tariffs: dict[int, _Tariff], lines: list[Line]) -> None:
    """Each tariff's places in this booking (its lines added up) within its min and max."""
    per_tariff = Counter[int]()
    for line in lines:
        per_tariff[line.tariff_id] += line.count
    for tariff_id, n in sorted(per_tariff.items()):
        tariff = tariffs[tariff_id]
        if n < tariff.min_per_booking:
            raise BookingError("below_minimum", min=tariff.min_per_booking)
        cap = quantity_cap(tariff, event)
        if n > cap:
            raise BookingError("bad_quantity", min=tariff.min_per_booking, max=cap)


def open_holds_limit(ctx: Context, actor: Actor) -> int:
    """How many open bookings a customer may have before this hold (0: no limit): only
    customers booking for themselves are limited, never the box office or an import."""
    if actor.kind == "customer" and actor.channel in ("telegram", "email"):
        return ctx.settings.max_open_holds
    return 0


_C_LOCK = Prepared(select(_C.c.id).where(_C.c.id == bindparam("customer_id")).with_for_update())
_OPEN_HOLDS = Prepared(
    select(func.count())
    .select_from(_B)
    .where(
        _B.c.customer_id == bindparam("customer_id"),
        (_B.c.status == bindparam("held")) | (_B.c.status == bindparam("overdue")),
    )
)


async def _lock_customer(conn: AsyncConnection, customer_id: int) -> None:
    """On PostgreSQL, two holds of one customer queue on the customer's row, so the second
    counts the first's booking (READ COMMITTED: its count starts after the first committed).
    SQLite runs one writer at a time already."""
    if conn.dialect.name == "postgresql":
        await _C_LOCK.run(conn, {"customer_id": customer_id})


async def _open_holds(conn: AsyncConnection, customer_id: int) -> int:
    """The customer's bookings waiting for payment, as this transaction sees them."""
    params = {"customer_id": customer_id, "held": states.HELD, "overdue": states.OVERDUE}
    return int((await _OPEN_HOLDS.run(conn, params)).rows[0][0])


def _one_currency(event: _Event, tariffs: dict[int, _Tariff]) -> None:
    """A booking is in one currency, its date's event's: a line priced in another (another
    event's tariff) is refused by name, before anything is taken. Today every tariff of an
    event shares its currency, so only that can mix; a path that puts several events in one
    booking (passes, baskets) meets the same guard."""
    others = sorted({t.currency for t in tariffs.values()} - {event.currency})
    if others:
        raise BookingError("mixed_currencies", currencies=", ".join([event.currency, *others]))


def _deadline(
    ctx: Context,
    actor: Actor,
    customer: _Customer,
    performance: _Date,
    event: _Event,
    tariffs: dict[int, _Tariff],
    now: datetime,
    buy: bool,
) -> datetime:
    channel = actor.channel
    if buy:
        if any(channel not in t.buy_channels.split(",") for t in tariffs.values()):
            raise BookingError("not_eligible_channel", mode="bought")
        return min(now + timedelta(minutes=ctx.settings.checkout_minutes), performance.starts_at)
    if any(channel not in t.hold_channels.split(",") for t in tariffs.values()):
        raise BookingError("not_eligible_channel", mode="held")
    if any(customer.customer_type not in t.customer_types.split(",") for t in tariffs.values()):
        raise BookingError("not_eligible_customer")
    deadlines = [hold_deadline(t, performance, event, now) for t in tariffs.values()]
    if any(d is None for d in deadlines):
        raise BookingError("buy_only")
    return min(d for d in deadlines if d is not None)


async def _take_gauges(conn: AsyncConnection, performance_id: int, per_area: Counter[int]) -> None:
    """Decrement each gauge once (in area order, so two holds never lock them crosswise).
    Refused, it says how many are left: the customer can then ask for that many."""
    for area_id, n in sorted(per_area.items()):
        if not await places.take_gauge(conn, performance_id, area_id, n):
            left = await _left(conn, performance_id, area_id)
            if left:
                raise BookingError("not_enough_left", left=left)
            raise BookingError("sold_out")


_LEFT = Prepared(
    select(_G.c.remaining).where(
        _G.c.performance_id == bindparam("p"), _G.c.area_id == bindparam("a")
    )
)


async def _left(conn: AsyncConnection, performance_id: int, area_id: int) -> int:
    rows = (await _LEFT.run(conn, {"p": performance_id, "a": area_id})).rows
    return int(rows[0][0]) if rows else 0


async def _pick(
    session: AsyncSession, performance_id: int, tariffs: dict[int, _Tariff], lines: list[Line]
) -> list[tuple[_Tariff, Seat | None]]:
    """One (tariff, seat) per place: chosen or best seats in seated areas, None elsewhere."""
    taken: list[tuple[_Tariff, Seat | None]] = []
    for line in lines:
        tariff = tariffs[line.tariff_id]
        if not tariff.seated:
            taken += [(tariff, None)] * line.count
            continue
        seats = await _seats(session, performance_id, tariff.area_id, line, taken)
        taken += [(tariff, seat) for seat in seats]
    return taken


async def _seats(
    session: AsyncSession,
    performance_id: int,
    area_id: int,
    line: Line,
    already: list[tuple[_Tariff, Seat | None]],
) -> list[Seat]:
    free = await places.free_seats(session, performance_id, area_id)
    mine = {seat.id for _, seat in already if seat is not None}
    free = [s for s in free if s.id not in mine]
    if line.seat_ids:
        by_id = {s.id: s for s in free}
        missing = [i for i in line.seat_ids if i not in by_id]
        if missing:
            seat = await session.get(Seat, missing[0])
            if seat is None or seat.area_id != area_id:
                raise BookingError("bad_seats")
            raise BookingError("seat_taken", seat=f"{seat.row}{seat.number}")
        return [by_id[i] for i in line.seat_ids]
    run = places.adjacent_run(free, line.quantity)
    if run is None:
        if 0 < len(free) < line.quantity:
            raise BookingError("not_enough_left", left=len(free))
        raise BookingError("sold_out")  # none left, or not side by side
    return run
