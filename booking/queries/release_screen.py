"""The organizer's release screen (SPEC §3): overdue holds and holds due soon, with the amounts
at stake. The decisions themselves are ``releases.bulk_extend`` and ``releases.bulk_release``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries.listing import AnySelect, Page, bounds, local_day, paged
from booking.queries.menus import Menus, load_menus
from booking.queries.search import (
    BookingRow,
    matching_ids,
    row_columns,
    scoped,
    text_match,
    to_row,
)
from booking.rules import states
from booking.rules.deadlines import is_due, requested_until
from booking.tables.bookings import Booking, ExtensionRequest
from booking.tables.catalog import Event, Performance
from booking.tables.customers import Customer

SHOW = ("all", "overdue", "due")
MAX_BULK = 1000  # one decision covers at most this many holds; the screen says when more remain


@dataclass(frozen=True, slots=True)
class ReleaseFilter:
    event_id: int | None = None
    performance_id: int | None = None
    customer: str = ""  # as the bookings search reads it (search.text_match)
    organization_id: int | None = None
    organization: str = ""  # part of an organization's name
    deadline_from: date | None = None  # at the venue (GUICHET_TIMEZONE)
    deadline_to: date | None = None
    horizon_days: int = 7  # "due soon" without a deadline range
    show: str = "all"  # all | overdue | due


@dataclass(frozen=True, slots=True)
class Amount:
    currency: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    booking: BookingRow
    extension_count: int
    extension_pending: bool


@dataclass(frozen=True, slots=True)
class EventPolicy:
    id: int
    title: str
    policy: str
    extension_days: int
    auto_extend_days: int


@dataclass(frozen=True, slots=True)
class ReleaseScreen:
    page: Page[ReleaseRow]
    count: int
    overdue: int
    at_stake: tuple[Amount, ...]
    menus: Menus


def deadline_on(day: date, timezone: str, starts_at: datetime | None = None) -> datetime:
    """The deadline an organizer means by a date: the end of that day at the venue, or the
    performance's start when the date is the performance's own day."""
    until = requested_until(day, timezone=timezone)
    if starts_at is not None and until > starts_at and _same_day(starts_at, day, timezone):
        return starts_at
    return until


def _same_day(at: datetime, day: date, timezone: str) -> bool:
    start, end = local_day(day, timezone)
    return start <= at < end


def parts(flt: ReleaseFilter, now: datetime, timezone: str) -> list[ColumnElement[bool]]:
    """What the screen lists, in its order: overdue holds, then holds due soon.

    Each part is one range of ix_booking_due (status, checkout, deadline, …) or, with an
    event, of ix_booking_event_due: listing a page walks the index and stops, and the totals
    read the index alone. (One query with OR and "overdue first" sorting would sort every
    match of a million bookings to show a hundred.) Checkouts ("buy now") are never the
    organizer's call.
    """
    deadline = col(Booking.deadline)
    ranged: list[ColumnElement[bool]] = []
    if flt.deadline_from is not None:
        ranged.append(deadline >= local_day(flt.deadline_from, timezone)[0])
    if flt.deadline_to is not None:
        ranged.append(deadline < local_day(flt.deadline_to, timezone)[1])
    # Without a range: every overdue hold, and the held ones due within the horizon.
    horizon = now + timedelta(days=max(0, min(flt.horizon_days, 366)))
    unpaid = col(Booking.checkout).is_(False)
    overdue = and_(col(Booking.status) == states.OVERDUE, unpaid, *ranged)
    due = and_(col(Booking.status) == states.HELD, unpaid, *(ranged or [deadline <= horizon]))
    return {"overdue": [overdue], "due": [due]}.get(flt.show, [overdue, due])


def _filtered(query: AnySelect, flt: ReleaseFilter, found: Any | None = None) -> AnySelect:
    """``query`` narrowed by ``flt``; ``found``, when given, is the customer filter's
    ``search.matching_ids`` as a CTE shared by the statement's parts."""
    query = scoped(query, flt)
    if flt.customer.strip():
        if found is not None:
            query = query.where(col(Booking.id).in_(select(found.c.id)))
        else:
            query = query.where(text_match(flt.customer))
    return query


def list_query(part: ColumnElement[bool], flt: ReleaseFilter, offset: int, limit: int) -> AnySelect:
    asked = (
        select(col(ExtensionRequest.id))
        .where(
            col(ExtensionRequest.booking_id) == Booking.id,
            col(ExtensionRequest.status) == "pending",
        )
        .exists()
    )
    query = row_columns(col(Booking.extension_count), asked).where(part)
    return (
        _filtered(query, flt)
        .order_by(col(Booking.deadline), col(Booking.id))
        .offset(offset)
        .limit(limit)
    )


def totals_query(
    part: ColumnElement[bool], flt: ReleaseFilter, found: Any | None = None
) -> AnySelect:
    query = select(col(Booking.currency), func.count(), func.sum(col(Booking.total_minor))).where(
        part
    )
    return _filtered(query, flt, found).group_by(col(Booking.currency))


def shared_matches(flt: ReleaseFilter) -> Any | None:
    """The customer filter's booking ids as one CTE: the totals of both parts test them, and
    built once per statement rather than per part they cost a broad search ("cuch lea",
    17,000 bookings of 1,000,000) a fifth less."""
    if not flt.customer.strip():
        return None
    ids = matching_ids(flt.customer)
    return None if ids is None else ids.cte("customer_matches")


async def release_screen(
    ctx: Context, *, flt: ReleaseFilter, page: int = 1, per_page: int = 100
) -> ReleaseScreen:
    """One page of the screen (overdue first, then by deadline), the number of holds it
    covers and the amounts at stake per currency."""
    page, per_page, offset = bounds(page, per_page)
    now, tz = ctx.clock.now(), ctx.settings.timezone
    chosen = parts(flt, now, tz)

    async def work(session: AsyncSession) -> ReleaseScreen:
        # Both parts' totals in one statement: (part, currency, count, amount) rows.
        found = shared_matches(flt)
        totals = union_all(
            *(
                totals_query(part, flt, found).add_columns(literal(i))
                for i, part in enumerate(chosen)
            )
        )
        counts = [0] * len(chosen)
        amounts: dict[str, int] = {}
        for currency, n, amount, i in (await session.execute(totals)).all():
            counts[i] += int(n)
            amounts[currency] = amounts.get(currency, 0) + int(amount or 0)
        rows: list[Any] = []
        skip, wanted = offset, per_page + 1
        for part, count in zip(chosen, counts, strict=True):
            if skip >= count:
                skip -= count
                continue
            rows += (await session.execute(list_query(part, flt, skip, wanted))).all()
            skip, wanted = 0, per_page + 1 - len(rows)
            if wanted <= 0:
                break
        listed = [ReleaseRow(to_row(r), int(r[-2]), bool(r[-1])) for r in rows]
        return ReleaseScreen(
            page=paged(listed, page, per_page),
            count=sum(counts),
            overdue=0 if flt.show == "due" else counts[0],
            at_stake=tuple(Amount(c, a) for c, a in sorted(amounts.items())),
            menus=await load_menus(session, now=now, event_id=flt.event_id),
        )

    return await ctx.db.read(work)


async def matching_references(ctx: Context, *, flt: ReleaseFilter) -> tuple[list[str], bool]:
    """The references of every hold the filters match (at most MAX_BULK), and whether more
    remain: "apply to all matching" re-reads the list at the moment of the decision."""
    now, tz = ctx.clock.now(), ctx.settings.timezone

    async def work(session: AsyncSession) -> tuple[list[str], bool]:
        found: list[str] = []
        for part in parts(flt, now, tz):
            query = _filtered(select(col(Booking.reference)).where(part), flt)
            query = query.order_by(col(Booking.deadline), col(Booking.id))
            found += (await session.execute(query.limit(MAX_BULK + 1 - len(found)))).scalars()
            if len(found) > MAX_BULK:
                break
        return found[:MAX_BULK], len(found) > MAX_BULK

    return await ctx.db.read(work)


async def timezones_of(ctx: Context, *, references: list[str]) -> dict[str, str]:
    """Each booking's event timezone: "extend to the 24th" means the end of the 24th there."""

    async def work(session: AsyncSession) -> dict[str, str]:
        query = (
            select(col(Booking.reference), col(Event.timezone))
            .join(Event, col(Event.id) == Booking.event_id)
            .where(col(Booking.reference).in_(references))
        )
        return {ref: tz for ref, tz in (await session.execute(query)).all()}

    return await ctx.db.read(work)


async def event_policies(ctx: Context) -> list[EventPolicy]:
    """Events with a date still to come, for the per-event policy and auto-approval settings."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[EventPolicy]:
        upcoming = select(col(Performance.event_id)).where(col(Performance.starts_at) > now)
        query = (
            select(Event)
            .where(col(Event.id).in_(upcoming))
            .order_by(col(Event.title), col(Event.id))
        )
        return [
            EventPolicy(e.id or 0, e.title, e.policy, e.extension_days, e.auto_extend_days)
            for e in (await session.execute(query)).scalars()
        ]

    return await ctx.db.read(work)


@dataclass(frozen=True, slots=True)
class ReleaseCandidate:
    """One hold "release now" would take, as the confirmation shows it."""

    reference: str
    customer_name: str
    status: str
    deadline: datetime | None
    timezone: str
    due: bool  # overdue, or its deadline has come; else the customer still has time


async def release_candidates(ctx: Context, *, references: list[str]) -> list[ReleaseCandidate]:
    """The open holds among ``references``, by deadline, each marked due or not yet due, for
    the confirmation that names the holds whose customers still have time to pay."""
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> list[ReleaseCandidate]:
        query = (
            select(
                col(Booking.reference),
                col(Customer.name),
                col(Booking.status),
                col(Booking.deadline),
                col(Event.timezone),
            )
            .join(Customer, col(Customer.id) == Booking.customer_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .where(
                col(Booking.reference).in_(references),
                col(Booking.status).in_(sorted(states.OPEN)),
            )
            .order_by(col(Booking.deadline), col(Booking.id))
        )
        return [
            ReleaseCandidate(ref, name, status, deadline, tz, is_due(status, deadline, now=now))
            for ref, name, status, deadline, tz in (await session.execute(query)).all()
        ]

    return await ctx.db.read(work)
