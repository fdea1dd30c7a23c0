"""Catalogue set-up and browsing: seasons, venues, events, performances, tariffs, offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.deadlines import parse_offsets
from booking.rules.formatting import currency_code
from booking.services.holds import hold_deadline, quantity_cap
from booking.tables.catalog import (
    Area,
    Event,
    Gauge,
    Performance,
    Season,
    Seat,
    Tariff,
    Venue,
)

CHANNELS = ("telegram", "email", "console", "import")


@dataclass(frozen=True, slots=True)
class SeatSpec:
    section: str
    row: str
    number: int
    block: str = ""


@dataclass(frozen=True, slots=True)
class AreaSpec:
    """A GA area (``capacity``) or a seated one (``seats``, in best-first order)."""

    name: str
    capacity: int = 0
    seats: tuple[SeatSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class EventSummary:
    id: int
    title: str
    description: str
    timezone: str
    first_date: datetime
    dates: int
    venue_name: str


@dataclass(frozen=True, slots=True)
class PerformanceView:
    id: int
    event_id: int
    event_title: str
    starts_at: datetime
    timezone: str
    remaining: int
    show_remaining_below: int  # the event's: show "N left" when remaining < it; 0 never
    venue_name: str
    venue_address: str
    description: str
    picture_url: str  # the event's picture (https), "" when none


@dataclass(frozen=True, slots=True)
class Offer:
    """A tariff as one customer on one channel may take it now."""

    tariff_id: int
    name: str
    price_minor: int
    currency: str
    area_name: str
    seated: bool
    remaining: int
    can_hold: bool
    can_buy: bool
    deadline: datetime | None
    min_quantity: int  # places of this tariff one booking must have at least
    max_quantity: int  # and at most: the tariff's max or the event's max_per_order, not remaining
    show_remaining_below: int  # the event's threshold for showing "N left"; 0 never


async def create_season(
    ctx: Context, *, actor: Actor, name: str, starts_on: date, ends_on: date
) -> int:
    if ends_on < starts_on:
        raise BookingError("bad_value", field="ends_on")
    return await _add(ctx, Season(name=name, starts_on=starts_on, ends_on=ends_on))


async def create_venue(
    ctx: Context, *, actor: Actor, name: str, areas: Sequence[AreaSpec], address: str = ""
) -> dict[str, int]:
    """A venue and its areas; returns area ids by name."""

    async def work(session: AsyncSession) -> dict[str, int]:
        venue = Venue(name=name, address=address)
        session.add(venue)
        await session.flush()
        ids: dict[str, int] = {}
        for spec in areas:
            area = Area(
                venue_id=venue.id or 0,
                name=spec.name,
                kind="seated" if spec.seats else "ga",
                capacity=len(spec.seats) or spec.capacity,
            )
            session.add(area)
            await session.flush()
            ids[spec.name] = area.id or 0
            session.add_all(
                Seat(
                    area_id=area.id or 0,
                    section=s.section,
                    block=s.block,
                    row=s.row,
                    number=s.number,
                    position=i,
                )
                for i, s in enumerate(spec.seats)
            )
        return ids

    return await ctx.db.write(work)


async def create_event(
    ctx: Context,
    *,
    actor: Actor,
    title: str,
    venue_id: int,
    timezone: str,
    currency: str = "CHF",
    season_id: int | None = None,
    description: str = "",
    policy: str = "firm",
    days_after_booking: int | None = 7,
    days_before_event: int | None = None,
    reminder_offsets: str = "4320,1440",
    extension_days: int = 7,
    auto_extend_days: int = 0,
    cancellation_allowed: bool = False,
    max_per_order: int = 10,
    show_remaining_below: int = 0,
    picture_url: str = "",
) -> int:
    """An event; ``currency`` (ISO 4217) prices every tariff it will have."""
    code = check_currency(currency)
    picture_url = check_display(show_remaining_below, picture_url)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingError("bad_value", field="timezone") from None
    if policy not in ("firm", "flexible"):
        raise BookingError("bad_value", field="policy")
    try:
        parse_offsets(reminder_offsets)
    except ValueError:
        raise BookingError("bad_value", field="reminder_offsets") from None
    return await _add(
        ctx,
        Event(
            title=title,
            description=description,
            season_id=season_id,
            venue_id=venue_id,
            timezone=timezone,
            currency=code,
            policy=policy,
            days_after_booking=days_after_booking,
            days_before_event=days_before_event,
            reminder_offsets=reminder_offsets,
            extension_days=extension_days,
            auto_extend_days=auto_extend_days,
            cancellation_allowed=cancellation_allowed,
            max_per_order=max_per_order,
            show_remaining_below=show_remaining_below,
            picture_url=picture_url,
        ),
    )


async def add_performance(
    ctx: Context,
    *,
    actor: Actor,
    event_id: int,
    starts_at: datetime,
    policy: str | None = None,
) -> int:
    """A date of the event, with one gauge per area of the venue at full capacity."""
    if starts_at.tzinfo is None:
        raise BookingError("bad_value", field="starts_at")

    async def work(session: AsyncSession) -> int:
        event = await session.get(Event, event_id)
        if event is None:
            raise BookingError("unknown_performance")
        performance = Performance(event_id=event_id, starts_at=starts_at, policy=policy)
        session.add(performance)
        await session.flush()
        areas = (
            await session.execute(select(Area).where(col(Area.venue_id) == event.venue_id))
        ).scalars()
        session.add_all(
            Gauge(
                performance_id=performance.id or 0,
                area_id=a.id or 0,
                capacity=a.capacity,
                remaining=a.capacity,
            )
            for a in areas
        )
        return performance.id or 0

    return await ctx.db.write(work)


async def create_tariff(
    ctx: Context,
    *,
    actor: Actor,
    event_id: int,
    area_id: int,
    name: str,
    price_minor: int,
    hold_channels: Sequence[str] = CHANNELS,
    buy_channels: Sequence[str] = CHANNELS,
    customer_types: Sequence[str] = ("individual", "group", "b2b"),
    days_after_booking: int | None = None,
    days_before_event: int | None = None,
    min_per_booking: int = 1,
    max_per_booking: int | None = None,
) -> int:
    """A tariff of the event, priced (``price_minor``) in the minor unit of its currency;
    one booking has ``min_per_booking`` to ``max_per_booking`` (None: the event's
    max_per_order) places of it."""
    if price_minor < 0:
        raise BookingError("bad_value", field="price_minor")
    if not set(hold_channels) | set(buy_channels) <= set(CHANNELS):
        raise BookingError("bad_value", field="channels")
    check_per_booking(min_per_booking, max_per_booking)

    async def work(session: AsyncSession) -> int:
        event = await session.get(Event, event_id)
        if event is None:
            raise BookingError("unknown_item")
        check_bookable(min_per_booking, event.max_per_order)
        tariff = Tariff(
            event_id=event_id,
            area_id=area_id,
            name=name,
            price_minor=price_minor,
            hold_channels=",".join(hold_channels),
            buy_channels=",".join(buy_channels),
            customer_types=",".join(customer_types),
            days_after_booking=days_after_booking,
            days_before_event=days_before_event,
            min_per_booking=min_per_booking,
            max_per_booking=max_per_booking,
        )
        session.add(tariff)
        await session.flush()
        return tariff.id or 0

    return await ctx.db.write(work)


PICTURE_URL_MAX = 500  # the column's length


def check_display(show_remaining_below: int, picture_url: str) -> str:
    """The event's display settings; returns the picture address as stored (trimmed).
    Only https: the channels hand the address to the customer's app, which fetches it."""
    if not 0 <= show_remaining_below <= 1_000_000:
        raise BookingError("bad_value", field="show_remaining_below")
    url = picture_url.strip()
    if url:
        parts = urlsplit(url)
        if (
            parts.scheme != "https"
            or not parts.hostname
            or len(url) > PICTURE_URL_MAX
            or any(c.isspace() or ord(c) < 32 for c in url)
        ):
            raise BookingError("bad_picture_url", field="picture_url")
    return url


def check_per_booking(minimum: int, maximum: int | None) -> None:
    """A tariff's places per booking: at least 1, and a maximum (when set) not below it."""
    if not 1 <= minimum <= 1000:
        raise BookingError("bad_value", field="min_per_booking")
    if maximum is not None and not 1 <= maximum <= 1000:
        raise BookingError("bad_value", field="max_per_booking")
    if maximum is not None and minimum > maximum:
        raise BookingError(
            "minimum_above_maximum", min=minimum, max=maximum, field="min_per_booking"
        )


def check_bookable(minimum: int, max_per_order: int, *, field: str = "min_per_booking") -> None:
    """A tariff whose minimum exceeds the event's places per booking could never be booked."""
    if minimum > max_per_order:
        raise BookingError("minimum_above_maximum", min=minimum, max=max_per_order, field=field)


def check_currency(text: str) -> str:
    """The ISO 4217 code ('chf' -> 'CHF'), or BookingError("bad_currency") naming it."""
    code = currency_code(text)
    if code is None:
        raise BookingError("bad_currency", value=text.strip()[:12] or "''")
    return code


async def upcoming_events(ctx: Context, *, offset: int = 0, limit: int = 10) -> list[EventSummary]:
    """Events with at least one date on sale in the future, soonest first."""

    async def work(session: AsyncSession) -> list[EventSummary]:
        first = func.min(Performance.starts_at).label("first")
        query = (
            select(Event, col(Venue.name), first, func.count(col(Performance.id)))
            .join(Venue, col(Venue.id) == Event.venue_id)
            .join(Performance, col(Performance.event_id) == Event.id)
            .where(col(Performance.starts_at) > ctx.clock.now(), col(Performance.on_sale).is_(True))
            .group_by(col(Event.id), col(Venue.name))
            .order_by(first, col(Event.id))
            .offset(offset)
            .limit(limit)
        )
        # min() keeps the column's type, so the first date comes back aware UTC.
        return [
            EventSummary(e.id or 0, e.title, e.description, e.timezone, f, n, venue)
            for e, venue, f, n in (await session.execute(query)).all()
        ]

    return await ctx.db.read(work)


async def performances(ctx: Context, *, event_id: int) -> list[PerformanceView]:
    async def work(session: AsyncSession) -> list[PerformanceView]:
        query = (
            select(
                Performance, Event, col(Venue.name), col(Venue.address), func.sum(Gauge.remaining)
            )
            .join(Event, col(Event.id) == Performance.event_id)
            .join(Venue, col(Venue.id) == Event.venue_id)
            .join(Gauge, col(Gauge.performance_id) == Performance.id)
            .where(
                col(Performance.event_id) == event_id,
                col(Performance.starts_at) > ctx.clock.now(),
                col(Performance.on_sale).is_(True),
            )
            .group_by(col(Performance.id), col(Event.id), col(Venue.name), col(Venue.address))
            .order_by(col(Performance.starts_at))
        )
        return [
            PerformanceView(
                p.id or 0,
                e.id or 0,
                e.title,
                p.starts_at,
                e.timezone,
                int(r or 0),
                e.show_remaining_below,
                venue,
                address,
                e.description,
                e.picture_url,
            )
            for p, e, venue, address, r in (await session.execute(query)).all()
        ]

    return await ctx.db.read(work)


async def offers(
    ctx: Context, *, performance_id: int, channel: str, customer_type: str = "individual"
) -> list[Offer]:
    """The tariffs this channel and customer type may hold or buy for this date, right now."""

    async def work(session: AsyncSession) -> list[Offer]:
        row = (
            await session.execute(
                select(Performance, Event)
                .join(Event, col(Event.id) == Performance.event_id)
                .where(col(Performance.id) == performance_id)
            )
        ).one_or_none()
        if row is None:
            raise BookingError("unknown_performance")
        performance, event = row
        now = ctx.clock.now()
        query = (
            select(Tariff, Area, Gauge)
            .join(Area, col(Area.id) == Tariff.area_id)
            .join(
                Gauge,
                (col(Gauge.area_id) == Area.id) & (col(Gauge.performance_id) == performance_id),
            )
            .where(
                col(Tariff.event_id) == event.id,
                col(Tariff.active).is_(True),
                col(Tariff.pass_product_id).is_(None),  # a pass's own: sold only as the pass
            )
            .order_by(col(Tariff.price_minor).desc(), col(Tariff.id))
        )
        found = []
        for tariff, area, gauge in (await session.execute(query)).all():
            deadline = hold_deadline(tariff, performance, event, now)
            can_hold = (
                channel in tariff.hold_channels.split(",")
                and customer_type in tariff.customer_types.split(",")
                and deadline is not None
            )
            can_buy = channel in tariff.buy_channels.split(",")
            if can_hold or can_buy:
                found.append(
                    Offer(
                        tariff.id or 0,
                        tariff.name,
                        tariff.price_minor,
                        event.currency,
                        area.name,
                        area.kind == "seated",
                        gauge.remaining,
                        can_hold,
                        can_buy,
                        deadline if can_hold else None,
                        tariff.min_per_booking,
                        quantity_cap(tariff, event),
                        event.show_remaining_below,
                    )
                )
        return found

    return await ctx.db.read(work)


async def _add(ctx: Context, row: Season | Event) -> int:
    async def work(session: AsyncSession) -> int:
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id

    return await ctx.db.write(work)
