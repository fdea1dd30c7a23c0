"""The catalogue as the console edits it: lists, settings changes and seat-plan imports.

Creating rows goes through ``booking.services.catalog``; this module adds what editing needs:
listings, duplicate names refused with a code, and optimistic checks (``expected``) so that two
organizers editing the same event do not silently overwrite each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.deadlines import parse_offsets
from booking.services import catalog
from booking.services.catalog import CHANNELS, SeatSpec
from booking.services.customers import CUSTOMER_TYPES
from booking.tables.bookings import Booking
from booking.tables.catalog import Area, Event, Gauge, Performance, Season, Seat, Tariff, Venue

POLICIES = ("firm", "flexible")
Child = TypeVar("Child", Performance, Tariff)


@dataclass(frozen=True, slots=True)
class SeasonRow:
    id: int
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class AreaRow:
    id: int
    name: str
    kind: str
    capacity: int
    seats: int


@dataclass(frozen=True, slots=True)
class VenueRow:
    id: int
    name: str
    address: str
    areas: tuple[AreaRow, ...]

    @property
    def capacity(self) -> int:
        return sum(a.capacity for a in self.areas)


@dataclass(frozen=True, slots=True)
class EventSettings:
    """What an organizer sets on an event (SPEC §3): rules, policy, reminders, extensions."""

    title: str
    description: str
    season_id: int | None
    timezone: str
    policy: str
    days_after_booking: int | None
    days_before_event: int | None
    reminder_offsets: str  # minutes before the deadline, "4320,1440"
    extension_days: int
    auto_extend_days: int
    cancellation_allowed: bool
    max_per_order: int
    currency: str = "CHF"  # ISO 4217: every tariff of the event is priced in it
    show_remaining_below: int = 0  # channels show "N left" under it; 0: never
    picture_url: str = ""  # https address of the event's picture; "": none


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    venue_id: int
    venue_name: str
    season_name: str | None
    settings: EventSettings
    dates: int
    first_date: datetime | None

    @property
    def version(self) -> str:
        return _fingerprint(self.settings)


@dataclass(frozen=True, slots=True)
class PerformanceRow:
    id: int
    starts_at: datetime
    policy: str | None  # None: the event's
    on_sale: bool
    capacity: int
    remaining: int


@dataclass(frozen=True, slots=True)
class TariffSettings:
    name: str
    area_id: int
    price_minor: int  # in the minor unit of the event's currency
    hold_channels: tuple[str, ...]
    buy_channels: tuple[str, ...]
    customer_types: tuple[str, ...]
    days_after_booking: int | None
    days_before_event: int | None
    active: bool
    min_per_booking: int = 1  # places of this tariff one booking must have at least
    max_per_booking: int | None = None  # and at most; None: the event's max_per_order


@dataclass(frozen=True, slots=True)
class TariffRow:
    id: int
    area_name: str
    settings: TariffSettings

    @property
    def version(self) -> str:
        return _fingerprint(self.settings)


@dataclass(frozen=True, slots=True)
class EventDetail:
    event: EventRow
    timezone: str
    performances: tuple[PerformanceRow, ...]
    tariffs: tuple[TariffRow, ...]
    areas: tuple[AreaRow, ...]


def _fingerprint(value: Any) -> str:
    parts = tuple(getattr(value, f.name) for f in fields(value))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _settings(e: Event) -> EventSettings:
    return EventSettings(
        title=e.title,
        description=e.description,
        season_id=e.season_id,
        timezone=e.timezone,
        policy=e.policy,
        days_after_booking=e.days_after_booking,
        days_before_event=e.days_before_event,
        reminder_offsets=e.reminder_offsets,
        extension_days=e.extension_days,
        auto_extend_days=e.auto_extend_days,
        cancellation_allowed=e.cancellation_allowed,
        max_per_order=e.max_per_order,
        currency=e.currency,
        show_remaining_below=e.show_remaining_below,
        picture_url=e.picture_url,
    )


def _tariff(t: Tariff) -> TariffSettings:
    def split(text: str) -> tuple[str, ...]:
        return tuple(p for p in text.split(",") if p)

    return TariffSettings(
        name=t.name,
        area_id=t.area_id,
        price_minor=t.price_minor,
        hold_channels=split(t.hold_channels),
        buy_channels=split(t.buy_channels),
        customer_types=split(t.customer_types),
        days_after_booking=t.days_after_booking,
        days_before_event=t.days_before_event,
        active=t.active,
        min_per_booking=t.min_per_booking,
        max_per_booking=t.max_per_booking,
    )


def check_event(settings: EventSettings) -> None:
    """Refuse settings the rules cannot work with, naming the field."""
    if not settings.title.strip():
        raise BookingError("bad_value", field="title")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingError("bad_value", field="timezone") from None
    if settings.policy not in POLICIES:
        raise BookingError("bad_value", field="policy")
    try:
        parse_offsets(settings.reminder_offsets)
    except ValueError:
        raise BookingError("bad_value", field="reminder_offsets") from None
    for name in ("days_after_booking", "days_before_event"):
        value = getattr(settings, name)
        if value is not None and not 0 <= value <= 365:
            raise BookingError("bad_value", field=name)
    if not 1 <= settings.extension_days <= 365:
        raise BookingError("bad_value", field="extension_days")
    if not 0 <= settings.auto_extend_days <= 365:
        raise BookingError("bad_value", field="auto_extend_days")
    if not 1 <= settings.max_per_order <= 100:
        raise BookingError("bad_value", field="max_per_order")
    catalog.check_currency(settings.currency)
    catalog.check_display(settings.show_remaining_below, settings.picture_url)


def check_tariff(settings: TariffSettings) -> None:
    if not settings.name.strip():
        raise BookingError("bad_value", field="name")
    if settings.price_minor < 0:
        raise BookingError("bad_value", field="price_minor")
    if not set(settings.hold_channels) | set(settings.buy_channels) <= set(CHANNELS):
        raise BookingError("bad_value", field="channels")
    if not set(settings.customer_types) <= set(CUSTOMER_TYPES):
        raise BookingError("bad_value", field="customer_types")
    for name in ("days_after_booking", "days_before_event"):
        value = getattr(settings, name)
        if value is not None and not 0 <= value <= 365:
            raise BookingError("bad_value", field=name)
    catalog.check_per_booking(settings.min_per_booking, settings.max_per_booking)


# -- seasons and venues -------------------------------------------------------------------------


async def list_seasons(ctx: Context) -> list[SeasonRow]:
    async def work(session: AsyncSession) -> list[SeasonRow]:
        query = select(Season).order_by(col(Season.starts_on).desc())
        return [
            SeasonRow(s.id or 0, s.name, s.starts_on, s.ends_on)
            for s in (await session.execute(query)).scalars()
        ]

    return await ctx.db.read(work)


async def create_season(
    ctx: Context, *, actor: Actor, name: str, starts_on: date, ends_on: date
) -> int:
    name = name.strip()
    if not name:
        raise BookingError("bad_value", field="name")
    await _unique(ctx, Season, name)
    return await catalog.create_season(
        ctx, actor=actor, name=name, starts_on=starts_on, ends_on=ends_on
    )


async def list_venues(ctx: Context) -> list[VenueRow]:
    async def work(session: AsyncSession) -> list[VenueRow]:
        venues = list((await session.execute(select(Venue).order_by(col(Venue.name)))).scalars())
        areas = await _areas(session, None)
        return [
            VenueRow(v.id or 0, v.name, v.address, tuple(areas.get(v.id or 0, ()))) for v in venues
        ]

    return await ctx.db.read(work)


async def get_venue(ctx: Context, *, venue_id: int) -> VenueRow:
    async def work(session: AsyncSession) -> VenueRow:
        venue = await session.get(Venue, venue_id)
        if venue is None:
            raise BookingError("unknown_item")
        areas = await _areas(session, venue_id)
        return VenueRow(venue_id, venue.name, venue.address, tuple(areas.get(venue_id, ())))

    return await ctx.db.read(work)


async def create_venue(ctx: Context, *, actor: Actor, name: str, address: str = "") -> int:
    name = name.strip()
    if not name:
        raise BookingError("bad_value", field="name")
    await _unique(ctx, Venue, name)
    await catalog.create_venue(ctx, actor=actor, name=name, areas=(), address=address.strip())

    async def work(session: AsyncSession) -> int:
        found = await session.execute(select(col(Venue.id)).where(col(Venue.name) == name))
        return int(found.scalar_one() or 0)

    return await ctx.db.read(work)


async def add_area(
    ctx: Context,
    *,
    actor: Actor,
    venue_id: int,
    name: str,
    capacity: int = 0,
    seats: Sequence[SeatSpec] = (),
) -> int:
    """A general-admission area (``capacity``) or a seated one (``seats``, best first).

    Dates of the venue's events still to come get a gauge for it at once, so the new places
    are on sale there too; past dates are left as they were.
    """
    name = name.strip()
    if not name:
        raise BookingError("bad_value", field="area")
    if not seats and not 1 <= capacity <= 1_000_000:
        raise BookingError("bad_value", field="capacity")
    _check_seats(seats)

    async def work(session: AsyncSession) -> int:
        if await session.get(Venue, venue_id) is None:
            raise BookingError("unknown_item")
        taken = await session.execute(
            select(col(Area.id)).where(col(Area.venue_id) == venue_id, col(Area.name) == name)
        )
        if taken.first() is not None:
            raise BookingError("name_taken")
        area = Area(
            venue_id=venue_id,
            name=name,
            kind="seated" if seats else "ga",
            capacity=len(seats) or capacity,
        )
        session.add(area)
        await session.flush()
        assert area.id is not None
        session.add_all(
            Seat(
                area_id=area.id,
                section=s.section,
                block=s.block,
                row=s.row,
                number=s.number,
                position=i,
            )
            for i, s in enumerate(seats)
        )
        upcoming = (
            await session.execute(
                select(col(Performance.id))
                .join(Event, col(Event.id) == Performance.event_id)
                .where(
                    col(Event.venue_id) == venue_id, col(Performance.starts_at) > ctx.clock.now()
                )
            )
        ).scalars()
        session.add_all(
            Gauge(
                performance_id=p or 0,
                area_id=area.id,
                capacity=area.capacity,
                remaining=area.capacity,
            )
            for p in upcoming
        )
        return area.id

    return await ctx.db.write(work)


def _check_seats(seats: Sequence[SeatSpec]) -> None:
    seen: set[tuple[str, str, int]] = set()
    for line, seat in enumerate(seats, start=1):
        key = (seat.section, seat.row, seat.number)
        if key in seen:
            raise BookingError("bad_seat_file", line=line, problem="duplicate seat")
        seen.add(key)


# -- events, dates, tariffs ---------------------------------------------------------------------


async def list_events(ctx: Context) -> list[EventRow]:
    async def work(session: AsyncSession) -> list[EventRow]:
        return await _events(session, None)

    return await ctx.db.read(work)


async def event_detail(ctx: Context, *, event_id: int) -> EventDetail:
    async def work(session: AsyncSession) -> EventDetail:
        found = await _events(session, event_id)
        if not found:
            raise BookingError("unknown_item")
        event = found[0]
        gauges = (
            await session.execute(
                select(
                    Performance,
                    func.coalesce(func.sum(Gauge.capacity), 0),
                    func.coalesce(func.sum(Gauge.remaining), 0),
                )
                .outerjoin(Gauge, col(Gauge.performance_id) == Performance.id)
                .where(col(Performance.event_id) == event_id)
                .group_by(col(Performance.id))
                .order_by(col(Performance.starts_at))
            )
        ).all()
        tariffs = (
            await session.execute(
                select(Tariff, col(Area.name))
                .join(Area, col(Area.id) == Tariff.area_id)
                # A pass product's own tariffs are the pass's (console /passes), not for sale here.
                .where(col(Tariff.event_id) == event_id, col(Tariff.pass_product_id).is_(None))
                .order_by(col(Tariff.active).desc(), col(Tariff.price_minor).desc())
            )
        ).all()
        areas = await _areas(session, event.venue_id)
        return EventDetail(
            event=event,
            timezone=event.settings.timezone,
            performances=tuple(
                PerformanceRow(p.id or 0, p.starts_at, p.policy, p.on_sale, int(c), int(r))
                for p, c, r in gauges
            ),
            tariffs=tuple(TariffRow(t.id or 0, a, _tariff(t)) for t, a in tariffs),
            areas=tuple(areas.get(event.venue_id, ())),
        )

    return await ctx.db.read(work)


async def create_event(
    ctx: Context, *, actor: Actor, venue_id: int, settings: EventSettings
) -> int:
    check_event(settings)
    settings = replace(settings, currency=catalog.check_currency(settings.currency))

    async def venue_exists(session: AsyncSession) -> bool:
        return await session.get(Venue, venue_id) is not None

    if not await ctx.db.read(venue_exists):
        raise BookingError("bad_value", field="venue_id")
    return await catalog.create_event(
        ctx,
        actor=actor,
        title=settings.title.strip(),
        venue_id=venue_id,
        timezone=settings.timezone,
        currency=settings.currency,
        season_id=settings.season_id,
        description=settings.description,
        policy=settings.policy,
        days_after_booking=settings.days_after_booking,
        days_before_event=settings.days_before_event,
        reminder_offsets=settings.reminder_offsets,
        extension_days=settings.extension_days,
        auto_extend_days=settings.auto_extend_days,
        cancellation_allowed=settings.cancellation_allowed,
        max_per_order=settings.max_per_order,
        show_remaining_below=settings.show_remaining_below,
        picture_url=settings.picture_url,
    )


async def update_event(
    ctx: Context, *, actor: Actor, event_id: int, expected: str, settings: EventSettings
) -> EventSettings:
    """Replace the event's settings if nobody changed them since ``expected`` was read.

    New rules apply to holds made from now on; existing deadlines stay as they were promised.
    """
    check_event(settings)
    settings = replace(settings, currency=catalog.check_currency(settings.currency))

    async def work(session: AsyncSession) -> EventSettings:
        event = await session.get(Event, event_id)
        if event is None:
            raise BookingError("unknown_item")
        if _fingerprint(_settings(event)) != expected:
            raise BookingError("changed_meanwhile")
        if settings.currency != event.currency and await _has_bookings(session, event_id):
            raise BookingError("currency_locked", currency=event.currency)
        catalog.check_bookable(
            await _highest_minimum(session, event_id), settings.max_per_order, field="max_per_order"
        )
        for name, value in ((f.name, getattr(settings, f.name)) for f in fields(settings)):
            setattr(event, name, value.strip() if isinstance(value, str) else value)
        return _settings(event)

    return await ctx.db.write(work)


async def set_event_rules(
    ctx: Context,
    *,
    actor: Actor,
    event_id: int,
    policy: str | None = None,
    extension_days: int | None = None,
    auto_extend_days: int | None = None,
) -> EventSettings:
    """The one-field changes of the release screen and the extensions inbox."""

    async def work(session: AsyncSession) -> EventSettings:
        event = await session.get(Event, event_id)
        if event is None:
            raise BookingError("unknown_item")
        settings = _settings(event)
        changed = EventSettings(
            **{
                **{f.name: getattr(settings, f.name) for f in fields(settings)},
                **{
                    k: v
                    for k, v in (
                        ("policy", policy),
                        ("extension_days", extension_days),
                        ("auto_extend_days", auto_extend_days),
                    )
                    if v is not None
                },
            }
        )
        check_event(changed)
        event.policy = changed.policy
        event.extension_days = changed.extension_days
        event.auto_extend_days = changed.auto_extend_days
        return changed

    return await ctx.db.write(work)


def belongs_to_event(owner: int, event_id: int) -> bool:
    """A date or a tariff is reached only through its own event's URL (its id is a
    reference, never an authority): one event's page cannot change another event's rows."""
    return owner == event_id


async def _child_of_event(
    session: AsyncSession, table: type[Child], *, child_id: int, event_id: int, missing: str
) -> Child:
    """The date or tariff ``child_id`` of ``event_id``; another event's reads as unknown."""
    child = await session.get(table, child_id)
    if child is None or not belongs_to_event(child.event_id, event_id):
        raise BookingError(missing)
    return child


async def update_performance(
    ctx: Context,
    *,
    actor: Actor,
    event_id: int,
    performance_id: int,
    policy: str | None,
    on_sale: bool,
) -> None:
    if policy is not None and policy not in POLICIES:
        raise BookingError("bad_value", field="policy")

    async def work(session: AsyncSession) -> None:
        performance = await _child_of_event(
            session,
            Performance,
            child_id=performance_id,
            event_id=event_id,
            missing="unknown_item",
        )
        performance.policy, performance.on_sale = policy, on_sale

    await ctx.db.write(work)


async def create_tariff(
    ctx: Context, *, actor: Actor, event_id: int, settings: TariffSettings
) -> int:
    check_tariff(settings)
    await ctx.db.read(lambda s: _area_of_event(s, event_id, settings.area_id))
    tariff_id = await catalog.create_tariff(
        ctx,
        actor=actor,
        event_id=event_id,
        area_id=settings.area_id,
        name=settings.name.strip(),
        price_minor=settings.price_minor,
        hold_channels=settings.hold_channels,
        buy_channels=settings.buy_channels,
        customer_types=settings.customer_types,
        days_after_booking=settings.days_after_booking,
        days_before_event=settings.days_before_event,
        min_per_booking=settings.min_per_booking,
        max_per_booking=settings.max_per_booking,
    )
    if not settings.active:
        await _set_active(ctx, tariff_id, False)
    return tariff_id


async def update_tariff(
    ctx: Context,
    *,
    actor: Actor,
    event_id: int,
    tariff_id: int,
    expected: str,
    settings: TariffSettings,
) -> TariffSettings:
    """Change a tariff of ``event_id``. Bookings already made keep the price and deadline they
    were given."""
    check_tariff(settings)

    async def work(session: AsyncSession) -> TariffSettings:
        tariff = await _child_of_event(
            session, Tariff, child_id=tariff_id, event_id=event_id, missing="unknown_tariff"
        )
        if _fingerprint(_tariff(tariff)) != expected:
            raise BookingError("changed_meanwhile")
        event = await _area_of_event(session, tariff.event_id, settings.area_id)
        catalog.check_bookable(settings.min_per_booking, event.max_per_order)
        tariff.name, tariff.area_id = settings.name.strip(), settings.area_id
        tariff.price_minor = settings.price_minor
        tariff.hold_channels = ",".join(settings.hold_channels)
        tariff.buy_channels = ",".join(settings.buy_channels)
        tariff.customer_types = ",".join(settings.customer_types)
        tariff.days_after_booking = settings.days_after_booking
        tariff.days_before_event = settings.days_before_event
        tariff.min_per_booking = settings.min_per_booking
        tariff.max_per_booking = settings.max_per_booking
        tariff.active = settings.active
        return _tariff(tariff)

    return await ctx.db.write(work)


async def event_currency(ctx: Context, *, event_id: int) -> str:
    """The currency the event's tariffs are priced in (its price fields are typed in it)."""

    async def work(session: AsyncSession) -> str:
        found = await session.execute(select(col(Event.currency)).where(col(Event.id) == event_id))
        currency = found.scalar_one_or_none()
        if currency is None:
            raise BookingError("unknown_item")
        return str(currency)

    return await ctx.db.read(work)


async def _has_bookings(session: AsyncSession, event_id: int) -> bool:
    """Bookings keep the currency they were made in; the event's must then stay the same, or
    its tariffs' prices (plain numbers of minor units) would be read in another currency."""
    found = await session.execute(
        select(col(Booking.id)).where(col(Booking.event_id) == event_id).limit(1)
    )
    return found.first() is not None


async def _highest_minimum(session: AsyncSession, event_id: int) -> int:
    """The largest minimum per booking of the event's tariffs on sale (1 without any)."""
    found = await session.execute(
        select(func.max(Tariff.min_per_booking)).where(
            col(Tariff.event_id) == event_id, col(Tariff.active).is_(True)
        )
    )
    return int(found.scalar_one_or_none() or 1)


async def _set_active(ctx: Context, tariff_id: int, active: bool) -> None:
    async def work(session: AsyncSession) -> None:
        tariff = await session.get(Tariff, tariff_id)
        if tariff is not None:
            tariff.active = active

    await ctx.db.write(work)


async def _area_of_event(session: AsyncSession, event_id: int, area_id: int) -> Event:
    """The event, whose venue the area must belong to."""
    event = await session.get(Event, event_id)
    area = await session.get(Area, area_id)
    if event is None:
        raise BookingError("unknown_item")
    if area is None or area.venue_id != event.venue_id:
        raise BookingError("bad_value", field="area_id")
    return event


async def _events(session: AsyncSession, event_id: int | None) -> list[EventRow]:
    dates = (
        select(
            col(Performance.event_id).label("event_id"),
            func.count().label("n"),
            func.min(Performance.starts_at).label("first"),
        )
        .group_by(col(Performance.event_id))
        .subquery()
    )
    query = (
        select(Event, col(Venue.name), col(Season.name), dates.c.n, dates.c.first)
        .join(Venue, col(Venue.id) == Event.venue_id)
        .outerjoin(Season, col(Season.id) == Event.season_id)
        .outerjoin(dates, dates.c.event_id == Event.id)
        .order_by(dates.c.first.desc(), col(Event.id).desc())
    )
    if event_id is not None:
        query = query.where(col(Event.id) == event_id)
    rows = (await session.execute(query)).all()
    return [
        EventRow(
            id=e.id or 0,
            venue_id=e.venue_id,
            venue_name=v,
            season_name=s,
            settings=_settings(e),
            dates=int(n or 0),
            first_date=_aware(first),
        )
        for e, v, s, n, first in rows
    ]


def _aware(value: datetime | str | None) -> datetime | None:
    """min() over a subquery loses the column type on SQLite: give the UTC zone back."""
    if value is None:
        return None
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _areas(session: AsyncSession, venue_id: int | None) -> dict[int, list[AreaRow]]:
    seats = (
        select(col(Seat.area_id).label("area_id"), func.count().label("n"))
        .group_by(col(Seat.area_id))
        .subquery()
    )
    query = (
        select(Area, seats.c.n)
        .outerjoin(seats, seats.c.area_id == Area.id)
        .order_by(col(Area.venue_id), col(Area.id))
    )
    if venue_id is not None:
        query = query.where(col(Area.venue_id) == venue_id)
    found: dict[int, list[AreaRow]] = {}
    for area, n in (await session.execute(query)).all():
        found.setdefault(area.venue_id, []).append(
            AreaRow(area.id or 0, area.name, area.kind, area.capacity, int(n or 0))
        )
    return found


async def _unique(ctx: Context, table: type[Season] | type[Venue], name: str) -> None:
    async def work(session: AsyncSession) -> bool:
        found = await session.execute(select(table).where(col(table.name) == name))
        return found.first() is not None

    if await ctx.db.read(work):
        raise BookingError("name_taken")


async def performances_on_sale(ctx: Context) -> list[tuple[int, str, datetime, str]]:
    """(performance id, event title, start, timezone) of every future date on sale, soonest
    first: the choices of the console's "new booking" form."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[tuple[int, str, datetime, str]]:
        query = (
            select(
                col(Performance.id),
                col(Event.title),
                col(Performance.starts_at),
                col(Event.timezone),
            )
            .join(Event, col(Event.id) == Performance.event_id)
            .where(col(Performance.starts_at) > now, col(Performance.on_sale).is_(True))
            .order_by(col(Performance.starts_at), col(Performance.id))
            .limit(500)
        )
        return [(int(i or 0), t, s, z) for i, t, s, z in (await session.execute(query)).all()]

    return await ctx.db.read(work)
