"""Resale of pass tickets, the core (issue 13, SPEC §9 "Resale"): a pass holder puts the tickets
of chosen performances on resale, choosing the payout among those the event allows; they can
withdraw a listing until it is reserved or sold; unsold listings close when the performance
starts. Selling (holds, payment, payouts) comes next and builds on these rows.

- ``settings_for`` / ``set_settings``: the organizer's rules per event (no row: not allowed).
- ``quote``: what listing would give, fee included, before anything is written.
- ``list_places``: all the chosen dates or none, in one transaction.
- ``withdraw``: a compare-and-set listed -> withdrawn.
- ``close_started``: the job body closing the open listings of started performances.

**A listing racing a door check-in of the same pass performance.** Exactly one must win: the
listing (and the door then refuses the pass there), or the check-in (and the listing is refused
"resale_used"). Each side checks the other's row, but two transactions that each check and then
insert both pass their checks on PostgreSQL (neither sees the other's uncommitted row), so the
guard makes them meet on one unique key: the check-in's own unique index on (kind "pass", pass,
performance). The listing inserts a placeholder check-in row for each date first and deletes it
before it commits; nobody ever sees that row, but while it exists a door's INSERT of the same
key waits for the listing's transaction, and a door's INSERT already in flight makes the
placeholder wait for the door's. The door looks for an open listing *after* its own INSERT
(``booking.services.checkin``), so:

- the placeholder first: the door's INSERT waits, then goes through (the placeholder is gone),
  and its lookup, a new statement, sees the committed listing: the door removes its row and
  answers "not valid";
- the door's INSERT first: the placeholder waits, then fails on the committed check-in: the
  listing is refused "resale_used" with nothing written.

Why not a lock on the pass row in both (SELECT … FOR UPDATE): the door would pay two extra
statements per pass scan (the lock, then the lookup, which must be a separate statement to see
what committed while it waited); this way it pays one indexed lookup, and only for passes. On
SQLite the write transactions are serialized (BEGIN IMMEDIATE), so the same code is trivially
safe there. tests/concurrency/test_resale_checkin_race.py shows the race with and without it.

The fee: ``fee_percent`` is a whole percent of the place's price (rounded down, in the seller's
favour) plus ``fee_fixed_minor``, capped at the price: the payout is never below 0.
IBANs: checked with schwifty (format, country, check digits) and accepted from the SEPA area
only, because transfers are paid by a SEPA credit-transfer file (pain.001).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries import resale as resale_queries
from booking.queries.resale import ListingView
from booking.rules import states
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Event, Performance
from booking.tables.checkin import CheckIn
from booking.tables.customers import Customer
from booking.tables.passes import Pass
from booking.tables.resale import OPEN_STATES, ResaleListing, ResaleSettings

PAYOUTS = ("donate", "transfer", "credit")
HOLDER_MAX = 70  # a SEPA credit transfer's name field
GUARD_DOOR = "resale guard"  # the placeholder check-in's door (never committed)

__all__ = [
    "PAYOUTS",
    "ListingView",
    "Quote",
    "SettingsView",
    "close_started",
    "fee_for",
    "list_places",
    "quote",
    "set_settings",
    "settings_for",
    "withdraw",
]


@dataclass(frozen=True, slots=True)
class SettingsView:
    event_id: int
    allowed: bool
    payouts: tuple[str, ...]
    fee_percent: int  # whole percent
    fee_fixed_minor: int
    sell_first: bool


@dataclass(frozen=True, slots=True)
class Quote:
    """What listing one date would give, shown before the holder confirms."""

    performance_id: int
    starts_at: datetime
    event_title: str
    price_minor: int
    fee_minor: int
    currency: str
    payouts: tuple[str, ...]  # the payouts the event offers

    @property
    def payout_minor(self) -> int:
        return self.price_minor - self.fee_minor


@dataclass(frozen=True, slots=True)
class _Place:
    """One date of the pass that may go on resale, checked."""

    item: Item
    performance: Performance
    event: Event
    settings: SettingsView
    fee_minor: int


def fee_for(price_minor: int, settings: SettingsView) -> int:
    """The organizer's fee on a place of ``price_minor``: the percent rounded down plus the
    fixed part, never more than the price (so the payout is never negative)."""
    fee = price_minor * settings.fee_percent // 100 + settings.fee_fixed_minor
    return max(0, min(fee, price_minor))


# -- settings ------------------------------------------------------------------------------


async def settings_for(ctx: Context, *, actor: Actor, event_id: int) -> SettingsView:
    """The event's resale rules (the defaults, resale off, when the organizer set none)."""
    _staff_only(actor)
    return await ctx.db.read(lambda session: _settings_in(session, event_id))


async def set_settings(
    ctx: Context,
    *,
    actor: Actor,
    event_id: int,
    allowed: bool,
    payouts: Sequence[str],
    fee_percent: int = 0,
    fee_fixed_minor: int = 0,
    sell_first: bool = True,
) -> SettingsView:
    """Save the event's resale rules. Listings made before keep the fee they were shown."""
    _staff_only(actor)
    chosen = tuple(p for p in PAYOUTS if p in set(payouts))
    if set(payouts) - set(PAYOUTS) or (allowed and not chosen):
        raise BookingError("bad_value", field="payouts")
    if not 0 <= fee_percent <= 100:
        raise BookingError("bad_value", field="fee_percent")
    if fee_fixed_minor < 0:
        raise BookingError("bad_value", field="fee_fixed_minor")
    values: dict[str, Any] = {
        "allowed": allowed, "payouts": ",".join(chosen), "fee_percent": fee_percent,
        "fee_fixed_minor": fee_fixed_minor, "sell_first": sell_first,
    }  # fmt: skip

    async def work(session: AsyncSession) -> SettingsView:
        if await session.get(Event, event_id) is None:
            raise BookingError("unknown_item")
        row = await session.get(ResaleSettings, event_id)
        if row is None:
            session.add(ResaleSettings(event_id=event_id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        await session.flush()
        return await _settings_in(session, event_id)

    try:
        return await ctx.db.write(work)
    except IntegrityError:  # two organizers saved the first row at once: this one wins now
        return await ctx.db.write(work)


async def _settings_in(session: AsyncSession, event_id: int) -> SettingsView:
    row = await session.get(ResaleSettings, event_id) or ResaleSettings(event_id=event_id)
    return SettingsView(
        event_id=event_id, allowed=row.allowed,
        payouts=tuple(p for p in row.payouts.split(",") if p in PAYOUTS),
        fee_percent=row.fee_percent, fee_fixed_minor=row.fee_fixed_minor,
        sell_first=row.sell_first,
    )  # fmt: skip


# -- listing -------------------------------------------------------------------------------


async def quote(
    ctx: Context, *, actor: Actor, pass_id: int, performance_ids: Sequence[int]
) -> list[Quote]:
    """What listing these dates would give (price, fee, payouts offered), with the same
    refusals as ``list_places`` except the payout's; writes nothing."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[Quote]:
        found = await _holders_pass(session, actor, pass_id)
        places = await _places(session, found, performance_ids, now)
        return [_quote(place) for place in places]

    return await ctx.db.read(work)


async def list_places(
    ctx: Context,
    *,
    actor: Actor,
    pass_id: int,
    performance_ids: Sequence[int],
    payout: str,
    iban: str = "",
    account_holder: str = "",
) -> list[ListingView]:
    """Put the pass's tickets of ``performance_ids`` on resale with ``payout``: every date or
    none. The actor must be the pass's holder (or staff); a stranger's pass answers as an
    unknown one, so a guessed id tells nothing."""
    bank = _bank(payout, iban, account_holder)
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[ListingView]:
        found = await _holders_pass(session, actor, pass_id)
        places = await _places(session, found, performance_ids, now)
        for place in places:
            if payout not in place.settings.payouts:
                raise BookingError("resale_payout_not_offered", event=place.event.title)
        await _guard(session, found, places, now)
        ids = await _insert(session, found, places, payout, bank, now)
        await _unguard(session, found, places)
        history.record(
            session, booking_id=found.booking_id, actor=actor, at=now, action="resale_listed",
            pass_code=found.code, performances=[p.performance.id for p in places], payout=payout,
        )  # fmt: skip
        return await resale_queries.views_of(session, ids)

    return await ctx.db.write(work)


def _bank(payout: str, iban: str, account_holder: str) -> tuple[str, str]:
    """The compact IBAN and the holder's name for a transfer ("", "" otherwise), checked."""
    if payout not in PAYOUTS:
        raise BookingError("bad_value", field="payout")
    if payout != "transfer":
        return "", ""
    try:
        parsed = IBAN(iban)
    except SchwiftyException:
        raise BookingError("resale_bad_iban") from None
    if not parsed.in_sepa_zone:
        raise BookingError("resale_iban_not_sepa", country=parsed.country_code)
    holder = " ".join(account_holder.split())
    if not holder:
        raise BookingError("resale_holder_required")
    if len(holder) > HOLDER_MAX:
        raise BookingError("too_long", length=len(holder), max=HOLDER_MAX)
    return parsed.compact, holder


async def _holders_pass(session: AsyncSession, actor: Actor, pass_id: int) -> Pass:
    """The pass, if ``actor`` holds it (or is staff), paid and not refunded."""
    found = await session.get(Pass, pass_id)
    if found is None or (actor.kind != "staff" and actor.id != found.customer_id):
        raise BookingError("resale_unknown_pass")
    bought = await session.get(Booking, found.booking_id)
    assert bought is not None
    if bought.status != states.CONFIRMED or bought.refund_due:
        raise BookingError("resale_pass_void", pass_code=found.code)
    return found


async def _places(
    session: AsyncSession, found: Pass, performance_ids: Sequence[int], now: datetime
) -> list[_Place]:
    """Each chosen date, checked, in performance order (the order the guard takes its keys
    in, so two listings of one pass cannot wait on each other)."""
    chosen = sorted(set(performance_ids))
    if not chosen:
        raise BookingError("resale_no_dates")
    rows = (
        await session.execute(
            select(Item, Performance, Event)
            .join(Performance, col(Performance.id) == Item.performance_id)
            .join(Event, col(Event.id) == Performance.event_id)
            .where(col(Item.booking_id) == found.booking_id, col(Item.performance_id).in_(chosen))
        )
    ).all()
    by_date = {item.performance_id: (item, performance, event) for item, performance, event in rows}
    if set(by_date) != set(chosen):
        raise BookingError("resale_not_in_pass", pass_code=found.code)
    places = []
    for performance_id in chosen:
        item, performance, event = by_date[performance_id]
        if performance.starts_at <= now:
            raise BookingError("resale_started")
        settings = await _settings_in(session, event.id or 0)
        if not settings.allowed:
            raise BookingError("resale_not_allowed", event=event.title)
        fee = fee_for(_price(item), settings)
        places.append(_Place(item, performance, event, settings, fee))
    await _not_listed_nor_used(session, found, chosen)
    return places


async def _not_listed_nor_used(session: AsyncSession, found: Pass, chosen: list[int]) -> None:
    """The clear refusals of the usual case (the guard covers the racing one)."""
    listed = (
        await session.execute(
            select(col(ResaleListing.id)).where(
                col(ResaleListing.pass_id) == found.id,
                col(ResaleListing.performance_id).in_(chosen),
                col(ResaleListing.state).in_(OPEN_STATES),
            )
        )
    ).first()
    if listed is not None:
        raise BookingError("resale_already_listed")
    used = (
        await session.execute(
            select(col(CheckIn.id)).where(
                col(CheckIn.entitlement_kind) == "pass",
                col(CheckIn.entitlement_id) == found.id,
                col(CheckIn.performance_id).in_(chosen),
            )
        )
    ).first()
    if used is not None:
        raise BookingError("resale_used")


def _price(item: Item) -> int:
    """The place's share of the pass price, as paid (after any discount)."""
    return max(item.price_minor - item.discount_minor, 0)


def _quote(place: _Place) -> Quote:
    return Quote(
        performance_id=place.performance.id or 0, starts_at=place.performance.starts_at,
        event_title=place.event.title, price_minor=_price(place.item), fee_minor=place.fee_minor,
        currency=place.event.currency, payouts=place.settings.payouts,
    )  # fmt: skip


async def _guard(session: AsyncSession, found: Pass, places: list[_Place], now: datetime) -> None:
    """The placeholder check-ins (module docstring): wait for a door admitting the pass at one
    of these dates right now, and refuse when it did."""
    rows = [
        {"entitlement_kind": "pass", "entitlement_id": found.id, "admitted_at": now,
         "performance_id": place.performance.id, "door": GUARD_DOOR, "staff_id": None}
        for place in places
    ]  # fmt: skip
    try:
        await session.execute(insert(CheckIn), rows)
    except IntegrityError:
        raise BookingError("resale_used") from None


async def _unguard(session: AsyncSession, found: Pass, places: list[_Place]) -> None:
    await session.execute(
        delete(CheckIn).where(
            col(CheckIn.entitlement_kind) == "pass",
            col(CheckIn.entitlement_id) == found.id,
            col(CheckIn.performance_id).in_([p.performance.id for p in places]),
            col(CheckIn.door) == GUARD_DOOR,
        )
    )


async def _insert(
    session: AsyncSession,
    found: Pass,
    places: list[_Place],
    payout: str,
    bank: tuple[str, str],
    now: datetime,
) -> list[int]:
    """The listing rows; the partial unique index refuses a second open one per date."""
    rows = [
        ResaleListing(
            pass_id=found.id or 0,
            performance_id=place.performance.id or 0,
            item_id=place.item.id or 0,
            seat_id=place.item.seat_id,
            payout=payout,
            iban=bank[0],
            account_holder=bank[1],
            price_minor=_price(place.item),
            fee_minor=place.fee_minor,
            created_at=now,
        )
        for place in places
    ]
    session.add_all(rows)
    try:
        await session.flush()
    except IntegrityError:
        raise BookingError("resale_already_listed") from None
    return [row.id or 0 for row in rows]


# -- withdrawing and closing ---------------------------------------------------------------


async def withdraw(ctx: Context, *, actor: Actor, listing_id: int) -> ListingView:
    """Take a listing off resale: only while it is "listed" (a compare-and-set, so a buyer's
    hold or sale committed meanwhile wins and this says why)."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> ListingView:
        row = await session.get(ResaleListing, listing_id)
        found = await session.get(Pass, row.pass_id) if row is not None else None
        if (
            row is None
            or found is None
            or (actor.kind != "staff" and actor.id != found.customer_id)
        ):
            raise BookingError("resale_unknown_listing")
        moved = await session.execute(
            update(ResaleListing)
            .where(col(ResaleListing.id) == listing_id, col(ResaleListing.state) == "listed")
            .values(state="withdrawn", ended_at=now)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            await session.refresh(row)
            raise _not_withdrawable(row.state)
        history.record(
            session, booking_id=found.booking_id, actor=actor, at=now, action="resale_withdrawn",
            pass_code=found.code, performance=row.performance_id,
        )  # fmt: skip
        return (await resale_queries.views_of(session, [listing_id]))[0]

    return await ctx.db.write(work)


def _not_withdrawable(state: str) -> BookingError:
    if state == "sold":
        return BookingError("resale_sold")
    if state == "reserved":
        return BookingError("resale_reserved")
    return BookingError("resale_ended")


async def close_started(ctx: Context) -> int:
    """The job body: every open listing of a performance that has started becomes "closed"
    in one conditional UPDATE, and its seller is told once (dedupe key per listing, so a
    second run or a second worker tells nobody twice). Returns how many closed."""
    now = ctx.clock.now()
    actor = Actor.system("scheduler")

    async def work(session: AsyncSession) -> int:
        started = select(col(Performance.id)).where(col(Performance.starts_at) <= now)
        closed = (
            await session.execute(
                update(ResaleListing)
                .where(
                    col(ResaleListing.state).in_(OPEN_STATES),
                    col(ResaleListing.performance_id).in_(started.scalar_subquery()),
                )
                .values(state="closed", ended_at=now)
                .returning(col(ResaleListing.id), col(ResaleListing.pass_id),
                           col(ResaleListing.performance_id))
            )
        ).all()  # fmt: skip
        for listing_id, pass_id, performance_id in closed:
            await _tell_closed(session, actor, now, listing_id or 0, pass_id, performance_id)
        return len(closed)

    return await ctx.db.write(work)


async def _tell_closed(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    listing_id: int,
    pass_id: int,
    performance_id: int,
) -> None:
    found = await session.get(Pass, pass_id)
    assert found is not None
    seller = await session.get(Customer, found.customer_id)
    assert seller is not None
    date = await session.get(Performance, performance_id)
    assert date is not None
    event = await session.get(Event, date.event_id)
    assert event is not None
    payload = {
        "listing_id": listing_id,
        "performance_id": performance_id,
        "pass_code": found.code,
        # The listed date, not the pass booking's first: the notice names it (booking.notices).
        "listed_event": event.title,
        "listed_at": date.starts_at.isoformat(),
        "listed_tz": event.timezone,
    }
    await outbox.enqueue(
        session, kind="resale_closed", customer=seller, now=now,
        key=f"resale_closed:{listing_id}", booking_id=found.booking_id, payload=payload,
    )  # fmt: skip
    history.record(
        session, booking_id=found.booking_id, actor=actor, at=now, action="resale_closed",
        pass_code=found.code, performance=performance_id,
    )  # fmt: skip


def _staff_only(actor: Actor) -> None:
    if actor.kind != "staff":
        raise BookingError("not_owner")
