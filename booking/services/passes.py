"""Selling a season pass (SPEC §9, issue 12): one booking through the one hold engine, plus the
pass row (holder, fixed seat, pass code, QR secret); and what the door asks of a pass.

A sale is one transaction: the product row locked (a sale and adding new dates to every pass
of the product queue on it, so neither misses the other's work), the customer typed at the
desk (if new), the product's own tariff per included event (made by the first sale, kept in
step with the product), one place at every included date (an automatic pass) or at every
picked date (a pass with choice) through ``holds.hold_dates_in_session`` (gauges, unique
seat claims: all or none), the pass row and its seat claims marked with the pass. Any
refusal rolls it all back. Payment is the booking's, by the existing paths (``payments``); a
paid pass gets no ticket per date (``tickets.issue``): its secret admits once per included
date.

docs/passes.md gives the design.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries.pass_choices import choosable
from booking.queries.passes import free_everywhere, included_dates
from booking.rules import pass_holders, states
from booking.rules.apportion import apportion
from booking.rules.pass_products import holder_fields_from_json
from booking.rules.references import new_reference
from booking.services import customers, holds
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Event, Performance, Seat, SeatClaim, Tariff, Venue
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassPhoto, PassProduct
from booking.views import BookingView, Entitlement, Invalid, seat_place

CODE_ATTEMPTS = 5  # a code clash is one in ~600 million per pass sold: retried, never shown


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A buyer typed at the desk, not on file yet."""

    name: str
    email: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class SoldPass:
    id: int
    code: str
    reference: str  # the booking's
    total_minor: int
    currency: str


async def sell(
    ctx: Context,
    *,
    actor: Actor,
    product_id: int,
    customer_id: int | None,
    new_customer: NewCustomer | None = None,
    answers: Mapping[str, str],
    seat_id: int | None = None,
    buy: bool = False,
    picks: Sequence[int] = (),
    photo_id: int | None = None,
) -> SoldPass:
    """Sell the pass: held until its deadline, or ``buy=True`` for a short checkout hold the
    desk pays at once (``payments.record_box_office_payment``). A fixed-seat pass takes
    ``seat_id`` at every included date, or the best seat free at all of them (None).

    A pass with choice includes the ``picks`` (1 to N performance ids of its choosable dates;
    the rest are added later by its code, ``pass_choices.add_date``). At least one is needed:
    a booking is made of places, and the hold engine takes at least one. Its price is shared
    over N by largest remainder, each picked date's item carrying the next share; the
    booking's total is the whole price (paid for N), and ``choices_left`` is N - picks.
    ``photo_id`` is a photo the buyer uploaded (``pass_photos.store``); it satisfies the
    product's photo field.

    Raises BookingError: pass_off_sale, pass_no_dates, pass_no_seat, pass_seat_taken,
    pass_picks_count, pass_date_not_choosable, bad_value (picks for an automatic pass, a
    date picked twice, a photo the product does not ask), pass_photo_unknown,
    holder_field_required (and the answers' other checks), the customer's (unknown_customer,
    invalid_email, pass_customer_on_file) and every hold refusal (sold_out, seat_taken,
    not_eligible_*, buy_only, too_many_holds, …)."""
    if actor.kind == "customer" and actor.id != customer_id:
        raise BookingError("not_owner")
    if (customer_id is None) == (new_customer is None):
        raise BookingError("unknown_customer")

    async def work(session: AsyncSession) -> SoldPass:
        now = ctx.clock.now()
        product = await locked_product(session, product_id)
        if product is None or not product.active:
            raise BookingError("pass_off_sale")
        modes = holder_fields_from_json(product.holder_fields)
        kept = pass_holders.check_answers(modes, answers, today=now.date())
        pass_holders.check_photo(modes, photo_id)
        buyer = customer_id or await _new_customer(session, ctx, new_customer)
        if photo_id is not None:
            await _check_photo(session, photo_id, buyer)
        dates, shares, choices_left = await _dates_and_shares(session, product, picks, now)
        seat = await _seat(session, product, dates, seat_id)
        booking = await hold_pass(session, ctx, actor, buyer, product, dates, shares, seat, buy)
        if choices_left is not None:
            # The items carry the picked dates' shares; the booking is the price of all N.
            await session.execute(
                update(Booking)
                .where(col(Booking.id) == booking.id)
                .values(total_minor=product.price_minor)
                .execution_options(synchronize_session=False)
            )
        sold = await _insert_pass(
            session, product, buyer, booking.id, seat, kept, now,
            choices_left=choices_left, photo_id=photo_id,
        )  # fmt: skip
        await mark_pass_claims(session, booking.id, sold.id or 0, seat)
        total = product.price_minor if choices_left is not None else booking.total_minor
        return SoldPass(sold.id or 0, sold.code, booking.reference, total, booking.currency)

    return await ctx.db.write(work)


# -- what a sale and a renewal share ---------------------------------------------------------


class Sellable(Protocol):
    """What holding a pass reads of its product: the ORM row (a sale) or a ``ProductRow`` (a
    renewal reads it with a prepared statement)."""

    @property
    def id(self) -> int | None: ...
    @property
    def season_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def price_minor(self) -> int: ...
    @property
    def customer_types(self) -> str: ...
    @property
    def buy_channels(self) -> str: ...
    @property
    def seating(self) -> str: ...
    @property
    def area_id(self) -> int: ...
    @property
    def active(self) -> bool: ...


class PassDate(Protocol):
    """An included date: a ``Performance`` or a ``queries.passes.DateRow``."""

    @property
    def id(self) -> int | None: ...
    @property
    def event_id(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...


async def hold_pass(
    session: AsyncSession | AsyncConnection,
    ctx: Context,
    actor: Actor,
    customer_id: int,
    product: Sellable,
    dates: Sequence[PassDate],
    shares: Sequence[int],
    seat: int | None,
    buy: bool,
) -> BookingView:
    """The booking of a pass, in the caller's transaction: one place at each date through the
    one hold engine (``holds.hold_dates_in_session``: gauges in date order, the unique seat
    claims, all or none), each date priced by its share of the pass's price under the
    product's own tariff for its event. The caller then writes the pass row and
    ``mark_pass_claims``. (Given the transaction's connection, it asks the session for none.)"""
    conn = await connection_of(session)
    tariffs = await product_tariffs(conn, product, {d.event_id for d in dates})
    lines = [
        holds.DateLine(d.id or 0, tariffs[d.event_id], share, seat)
        for d, share in zip(dates, shares, strict=True)
    ]
    return await holds.hold_dates_in_session(conn, ctx, actor, customer_id, lines, buy)


_CLAIM: Any = SeatClaim.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
_ITEM: Any = Item.__table__  # type: ignore[attr-defined]
_MARK_CLAIMS = Prepared(
    update(_CLAIM)
    .where(
        _CLAIM.c.item_id.in_(
            select(_ITEM.c.id).where(_ITEM.c.booking_id == bindparam("booking")).scalar_subquery()
        )
    )
    .values(pass_id=bindparam("pass_id"))
)


async def mark_pass_claims(
    session: AsyncSession | AsyncConnection, booking_id: int, pass_id: int, seat: int | None
) -> None:
    """The seat claims the pass's booking made are the pass's (a fixed seat; GA has none):
    the door and renewals find a holder's seat by them. They cannot carry the pass's id at
    once: the pass row needs the booking's id, and the claims are the booking's writes."""
    if seat is None:
        return
    conn = await connection_of(session)
    await _MARK_CLAIMS.run(conn, {"booking": booking_id, "pass_id": pass_id})


@dataclass(frozen=True, slots=True)
class ProductRow:
    """The columns of a product a renewal reads (``product_row``)."""

    id: int
    season_id: int
    name: str
    price_minor: int
    customer_types: str
    buy_channels: str
    seating: str
    area_id: int
    active: bool


_PRODUCT: Any = PassProduct.__table__  # type: ignore[attr-defined]
_PRODUCT_ROW = Prepared(
    select(*(_PRODUCT.c[name] for name in ProductRow.__dataclass_fields__))
    .where(_PRODUCT.c.id == bindparam("product"))
    .with_for_update()
)


async def product_row(
    session: AsyncSession | AsyncConnection, product_id: int
) -> ProductRow | None:
    """``locked_product`` for a write's hot path (a renewal): the same row lock (FOR UPDATE on
    PostgreSQL), the columns read by one prepared statement instead of loading the ORM row."""
    found = await _PRODUCT_ROW.run(await connection_of(session), {"product": product_id})
    return ProductRow(*found.rows[0]) if found.rows else None


async def locked_product(session: AsyncSession, product_id: int) -> PassProduct | None:
    """The product row, locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite
    runs one writer at a time already): a sale, a renewal and adding new dates to every pass
    of the product run one after the other, so each sees what the other wrote."""
    found = await session.execute(
        select(PassProduct).where(col(PassProduct.id) == product_id).with_for_update()
    )
    return found.scalar_one_or_none()


async def _dates_and_shares(
    session: AsyncSession, product: PassProduct, picks: Sequence[int], now: datetime
) -> tuple[list[Performance], list[int], int | None]:
    """The dates the sale holds, each one's share of the price, and the choices left (None
    for an automatic pass): every included date of an automatic pass, or the picked dates of
    a pass with choice, which carry the first shares of the price over N."""
    if product.includes != "choice":
        if picks:
            raise BookingError("bad_value", field="picks")
        dates = await included_dates(session, product.id or 0, now)
        if not dates:
            raise BookingError("pass_no_dates")
        return dates, apportion(product.price_minor, [1] * len(dates)), None
    n = product.choice_count or 0
    if not 1 <= len(picks) <= n:
        raise BookingError("pass_picks_count", max=n, field="picks")
    if len(set(picks)) != len(picks):
        raise BookingError("bad_value", field="picks")
    allowed = {p.id: p for p, _event in await choosable(session, product, now)}
    if any(pick not in allowed for pick in picks):
        raise BookingError("pass_date_not_choosable", field="picks")
    dates = sorted((allowed[pick] for pick in picks), key=lambda p: (p.starts_at, p.id or 0))
    shares = apportion(product.price_minor, [1] * n)[: len(dates)]
    return dates, shares, n - len(dates)


async def _check_photo(session: AsyncSession, photo_id: int, buyer: int) -> None:
    """A photo is the buyer's own upload: an id guessed or taken from another customer's
    upload is refused, so nobody's face lands on someone else's pass."""
    owner = await session.execute(
        select(col(PassPhoto.customer_id)).where(col(PassPhoto.id) == photo_id)
    )
    if owner.scalar_one_or_none() != buyer:
        raise BookingError("pass_photo_unknown", field="holder_photo")


async def _new_customer(session: AsyncSession, ctx: Context, typed: NewCustomer | None) -> int:
    """The buyer typed at the desk, created in the sale's transaction (a refused sale leaves
    no customer behind). An email already on file is refused: the desk sells under that
    customer by searching it, never by retyping it."""
    assert typed is not None
    key = customers.email_key(typed.email)
    on_file = await session.execute(select(col(Customer.id)).where(col(Customer.email_key) == key))
    if on_file.first() is not None:
        raise BookingError("pass_customer_on_file", email=key, field="email")
    made = await customers.add_customer(
        session,
        now=ctx.clock.now(),
        name=typed.name or key.split("@")[0],
        email=typed.email,
        language=typed.language,
    )
    assert made.id is not None
    return made.id


async def product_tariffs(
    session: AsyncSession | AsyncConnection, product: Sellable, events: set[int]
) -> dict[int, int]:
    """The product's own tariff for each event (event id -> tariff id), made by the first sale
    and kept in step with the product's channels, customer types and area. Its price is 0: the
    items carry their share of the pass's price. Two first sales at once both try the insert;
    the unique (pass_product_id, event_id) keeps one, the other reads it.

    Every sale and renewal asks this, so it runs prepared statements on the transaction's
    connection, and the tariffs are written only when the product changed since (most calls:
    no write at all)."""
    conn = await connection_of(session)
    found = await _own_tariffs(conn, product.id or 0)
    missing = sorted(events - set(found))
    for event_id in missing:
        row = {
            "event_id": event_id,
            "area_id": product.area_id,
            "name": product.name,
            "price_minor": 0,
            "pass_product_id": product.id,
        }
        try:
            async with conn.begin_nested():
                await conn.execute(insert(_TARIFF), row)
        except IntegrityError:
            pass  # another sale made it meanwhile: read below
    if missing:
        found = await _own_tariffs(conn, product.id or 0)
    wanted = _TariffStep(
        product.name,
        product.area_id,
        True,
        product.buy_channels,
        product.buy_channels,
        product.customer_types,
    )
    if any(step != wanted for _id, step in found.values()):
        params = {"product": product.id or 0} | {
            f"b_{name}": getattr(wanted, name) for name in _TariffStep.__dataclass_fields__
        }
        await _STEP_TARIFFS.run(conn, params)
    return {e: tariff_id for e, (tariff_id, _step) in found.items() if e in events}


@dataclass(frozen=True, slots=True)
class _TariffStep:
    """The columns of a product's own tariff that follow the product."""

    name: str
    area_id: int
    active: bool
    hold_channels: str
    buy_channels: str
    customer_types: str


_TARIFF: Any = Tariff.__table__  # type: ignore[attr-defined]
_OWN_TARIFFS = Prepared(
    select(
        _TARIFF.c.event_id,
        _TARIFF.c.id,
        *(_TARIFF.c[name] for name in _TariffStep.__dataclass_fields__),
    ).where(_TARIFF.c.pass_product_id == bindparam("product"))
)
_STEP_TARIFFS = Prepared(
    update(_TARIFF)
    .where(_TARIFF.c.pass_product_id == bindparam("product"))
    .values({name: bindparam(f"b_{name}") for name in _TariffStep.__dataclass_fields__})
)


async def _own_tariffs(
    conn: AsyncConnection, product_id: int
) -> dict[int, tuple[int, _TariffStep]]:
    """Event id -> (its tariff id, the columns that follow the product)."""
    rows = (await _OWN_TARIFFS.run(conn, {"product": product_id})).rows
    return {row[0]: (row[1], _TariffStep(*row[2:])) for row in rows}


async def _seat(
    session: AsyncSession, product: Sellable, dates: Sequence[PassDate], seat_id: int | None
) -> int | None:
    """The fixed seat (None for general admission): the chosen one when free at every date,
    else the best seat free at all of them. This read gives a clear answer; the unique seat
    claims of the hold are what decide when two sales race for one seat."""
    if product.seating != "fixed_seat":
        if seat_id is not None:
            raise BookingError("bad_seats")
        return None
    performance_ids = [d.id or 0 for d in dates]
    if seat_id is not None:
        seat = await session.get(Seat, seat_id)
        if seat is None or seat.area_id != product.area_id:
            raise BookingError("bad_seats")
        claimed = await session.execute(
            select(col(SeatClaim.performance_id)).where(
                col(SeatClaim.seat_id) == seat_id,
                col(SeatClaim.performance_id).in_(performance_ids),
            )
        )
        if claimed.first() is not None:
            raise BookingError("pass_seat_taken", seat=f"{seat.row}{seat.number}", field="seat")
        return seat_id
    free = await free_everywhere(session, product.area_id, performance_ids, limit=1)
    if not free:
        raise BookingError("pass_no_seat")
    return free[0].id


async def _insert_pass(
    session: AsyncSession,
    product: PassProduct,
    customer_id: int,
    booking_id: int,
    seat_id: int | None,
    answers: Mapping[str, str],
    now: datetime,
    *,
    choices_left: int | None = None,
    photo_id: int | None = None,
) -> Pass:
    """The pass row, with a fresh readable code (the booking-reference alphabet) and a QR
    secret of 192 random bits. Code and secret are unique per season (a renewal copies them
    into the next season): a code any season already has draws again, and a same-season clash
    between two sales at once fails the unique constraint and draws again in a savepoint."""
    for _ in range(CODE_ATTEMPTS):
        code = new_reference()
        taken = await session.execute(select(col(Pass.id)).where(col(Pass.code) == code).limit(1))
        if taken.first() is not None:
            continue
        row = Pass(
            product_id=product.id or 0,
            season_id=product.season_id,
            customer_id=customer_id,
            booking_id=booking_id,
            seat_id=seat_id,
            holder=pass_holders.answers_json(answers),
            code=code,
            secret=secrets.token_urlsafe(24),
            credit_minor=0,
            created_at=now,
            choices_left=choices_left,
            photo_id=photo_id,
        )
        try:
            async with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            continue
    raise AssertionError("no free pass code after several draws")


# -- the door ---------------------------------------------------------------------------------

# One secret's passes, latest season first: (pass, its booking, its holder, its product).
_Lineage = list[tuple[Pass, Booking, Customer, PassProduct]]


async def entitlement(
    session: AsyncSession, secret: str, performance_id: int | None, *, now: datetime
) -> Entitlement | None:
    """The pass this secret stands for, at this performance (None: its next included date
    after ``now``, for the pass's public page): valid when its booking is paid and holds a
    place at that date; None when no pass has this secret (nor the date exists).

    A renewal copies the secret into the new season's pass, so one QR stands for a lineage of
    passes, one per season (unique per season). The pass that answers is the one whose booking
    holds a place at ``performance_id``; when none does, the latest season's (which then says
    "not_in_pass"); with no performance, the latest season's, at its next date."""
    found_rows = (
        await session.execute(
            select(Pass, Booking, Customer, PassProduct)
            .join(Booking, col(Booking.id) == Pass.booking_id)
            .join(Customer, col(Customer.id) == Pass.customer_id)
            .join(PassProduct, col(PassProduct.id) == Pass.product_id)
            .where(col(Pass.secret) == secret)
            # The latest season first: a season's pass books its season's dates, so the
            # booking's earliest date orders the lineage without reading the seasons.
            .order_by(col(Booking.starts_at).desc(), col(Pass.id).desc())
        )
    ).all()
    lineage: _Lineage = [(p, b, c, pp) for p, b, c, pp in found_rows]
    if not lineage:
        return None
    found, booking, customer, product = lineage[0]
    if performance_id is None:
        performance_id = await _next_date(session, booking, now)
        if performance_id is None:
            return None
    elif len(lineage) > 1:
        found, booking, customer, product = await _holding(session, lineage, performance_id)
    date = (
        await session.execute(
            select(Performance, Event, Venue)
            .join(Event, col(Event.id) == Performance.event_id)
            .join(Venue, col(Venue.id) == Event.venue_id)
            .where(col(Performance.id) == performance_id)
        )
    ).one_or_none()
    if date is None:
        return None
    performance, event, venue = date
    item = (
        await session.execute(
            select(Item, Seat)
            .outerjoin(Seat, col(Seat.id) == Item.seat_id)
            .where(col(Item.booking_id) == booking.id, col(Item.performance_id) == performance_id)
        )
    ).first()
    invalid: Invalid = ""
    if booking.status != states.CONFIRMED:
        invalid = "cancelled"
    elif booking.refund_due:
        invalid = "refunded"
    elif item is None:
        invalid = "not_in_pass"
    seat = item[1] if item is not None else None
    answers = pass_holders.answers_from_json(found.holder)
    return Entitlement(
        kind="pass",
        id=found.id or 0,
        performance_id=performance_id,
        starts_at=performance.starts_at,
        timezone=event.timezone,
        event_title=event.title,
        venue=venue.name,
        reference=found.code,
        holder=pass_holders.holder_name(answers, customer.name),
        language=customer.language,
        tariff_name=product.name,
        seat=seat_place(seat) if seat is not None else None,
        invalid=invalid,
    )


async def _next_date(session: AsyncSession, booking: Booking, now: datetime) -> int | None:
    """The pass's first included date still to come, else its last one."""
    rows = (
        await session.execute(
            select(col(Item.performance_id), col(Performance.starts_at))
            .join(Performance, col(Performance.id) == Item.performance_id)
            .where(col(Item.booking_id) == booking.id)
            .order_by(col(Performance.starts_at))
        )
    ).all()
    coming = [performance for performance, starts_at in rows if starts_at >= now]
    if coming:
        return int(coming[0])
    return int(rows[-1][0]) if rows else None


async def _holding(
    session: AsyncSession, lineage: _Lineage, performance_id: int
) -> tuple[Pass, Booking, Customer, PassProduct]:
    """The row of the lineage whose booking holds a place at the date, else the latest."""
    bookings = [row[1].id for row in lineage]
    holding = set(
        (
            await session.execute(
                select(col(Item.booking_id)).where(
                    col(Item.booking_id).in_(bookings), col(Item.performance_id) == performance_id
                )
            )
        ).scalars()
    )
    return next((row for row in lineage if row[1].id in holding), lineage[0])
