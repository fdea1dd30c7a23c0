"""Finding bookings for the console: search, one booking in full, and the CSV export.

Rows are read as plain columns (no ORM objects): a page of fifty bookings out of a million
costs one indexed query and nothing per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, false, intersect, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries.listing import AnySelect, Page, bounds, ilike, local_day, paged, starts_with
from booking.queries.menus import Menus, load_menus
from booking.rules import states
from booking.rules.references import normalize_reference
from booking.rules.search_keys import query_terms
from booking.tables.bookings import Booking, ExtensionRequest, HistoryEntry, Payment, Ticket
from booking.tables.catalog import Event, Performance
from booking.tables.customers import Customer, CustomerToken, Organization
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView, ExtensionView, load_booking

STATUSES = (states.HELD, states.OVERDUE, states.CONFIRMED, states.CANCELLED, states.EXPIRED)


@dataclass(frozen=True, slots=True)
class BookingFilter:
    """What the console's booking search narrows by; every part is optional."""

    text: str = ""  # a reference, part of a name, the start of an email, a phone (``text_match``)
    event_id: int | None = None
    performance_id: int | None = None
    organization_id: int | None = None
    organization: str = ""  # part of an organization's name
    customer_id: int | None = None
    day: date | None = None  # the performance's date, at the venue
    status: str | None = None
    refund_due: bool = False


@dataclass(frozen=True, slots=True)
class BookingRow:
    id: int
    reference: str
    status: str
    checkout: bool
    customer_id: int
    customer_name: str
    customer_email: str | None
    organization_id: int | None
    organization_name: str | None
    event_id: int
    event_title: str
    timezone: str
    starts_at: datetime
    deadline: datetime | None
    total_minor: int
    currency: str
    refund_due: bool
    channel: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentRow:
    provider: str
    method: str
    amount_minor: int
    currency: str
    outcome: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class TicketRow:
    id: int
    item_id: int
    issued_at: datetime
    voided_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: datetime
    actor_kind: str
    actor_name: str
    channel: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: int
    kind: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str


@dataclass(frozen=True, slots=True)
class BookingDetail:
    booking: BookingView
    row: BookingRow
    customer_phone: str
    policy: str
    cancellation_allowed: bool
    extension_days: int
    extension_count: int
    cancel_reason: str | None
    cancel_note: str
    created_at: datetime
    updated_at: datetime
    version: str  # changes whenever the booking does: forms carry it to detect edits meanwhile
    payments: tuple[PaymentRow, ...]
    tickets: tuple[TicketRow, ...]
    history: tuple[HistoryRow, ...]
    notices: tuple[NoticeRow, ...]
    pending_extension: ExtensionView | None


def as_reference(text: str) -> str | None:
    """The booking reference ``text`` spells ("k7m 4qx" -> "K7M-4QX"), if it is one."""
    return normalize_reference(text)


def row_columns(*extra: Any) -> AnySelect:
    """The columns of a BookingRow (then ``extra``), joined to customer, organization, event."""
    return (
        select(
            col(Booking.id),
            col(Booking.reference),
            col(Booking.status),
            col(Booking.checkout),
            col(Booking.customer_id),
            col(Customer.name),
            col(Customer.email),
            col(Booking.organization_id),
            col(Organization.name),
            col(Booking.event_id),
            col(Event.title),
            col(Event.timezone),
            col(Booking.starts_at),
            col(Booking.deadline),
            col(Booking.total_minor),
            col(Booking.currency),
            col(Booking.refund_due),
            col(Booking.channel),
            col(Booking.created_at),
            *extra,
        )
        .join(Customer, col(Customer.id) == Booking.customer_id)
        .join(Event, col(Event.id) == Booking.event_id)
        .outerjoin(Organization, col(Organization.id) == Booking.organization_id)
    )


ROW_WIDTH = 19


def to_row(r: Any) -> BookingRow:
    return BookingRow(*r[:ROW_WIDTH])


def version_of(booking: Booking) -> str:
    """A short fingerprint of what a console action depends on."""
    parts = (
        booking.status,
        booking.deadline,
        booking.updated_at,
        booking.refund_due,
        booking.extension_count,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def customers_matching(text: str) -> Any | None:
    """Ids of the customers ``text`` finds (``booking.rules.search_keys``): every typed word
    starts one of their tokens, or the whole text, read as a phone number, starts one. Each
    word is one range of the (token, customer_id) primary key, so the cost follows the number
    of customers found, not the number of customers. None when ``text`` looks for nothing."""
    terms = query_terms(text)
    token, owner = col(CustomerToken.token), col(CustomerToken.customer_id)
    found: list[Any] = []
    words = [
        select(owner).where(or_(*(starts_with(token, p) for p in sorted(alternatives))))
        for alternatives in terms.words
    ]
    if len(words) > 1:
        # As a subquery: SQLite takes no parenthesized compound inside another.
        every = intersect(*words).subquery()
        found.append(select(every.c.customer_id))
    elif words:
        found.append(words[0])
    if terms.phone:
        found.append(
            select(owner).where(or_(*(starts_with(token, p) for p in sorted(terms.phone))))
        )
    if not found:
        return None
    return union(*found) if len(found) > 1 else found[0]


def text_match(text: str) -> ColumnElement[bool]:
    """The bookings ``text`` typed in a search box finds: the booking it spells as a
    reference ("k7m 4qx"), and the bookings of every customer it finds. A word that looks
    like a reference ("jeanne" is JEA-NNE) is tried as both. The bookings list and the release
    screen's customer filter both use this, so they find the same people."""
    matching = matching_ids(text)
    if matching is None:
        return false()
    # The ids of those bookings first (the reference's unique index, the customers' bookings
    # through ix_booking_customer_id), then the page by id: otherwise SQLite walks a status
    # or date index over every hold and tests each one's customer.
    return col(Booking.id).in_(matching)


def matching_ids(text: str) -> AnySelect | None:
    """The ids of the bookings ``text`` finds (see ``text_match``); None when none can be.
    A statement that tests them twice (the release screen's totals) takes them as one CTE."""
    found: list[ColumnElement[bool]] = []
    reference = normalize_reference(text)
    if reference is not None:
        found.append(col(Booking.reference) == reference)
    customers = customers_matching(text)
    if customers is not None:
        found.append(col(Booking.customer_id).in_(customers))
    if not found:
        return None
    return select(col(Booking.id)).where(or_(*found))


def organizations_named(text: str) -> AnySelect:
    """Ids of the organizations whose name contains ``text``: a filter typed, not picked from
    a list of every organization."""
    return select(col(Organization.id)).where(ilike(col(Organization.name), text.strip()))


class Scope(Protocol):
    """The filter fields the bookings list and the release screen share (read-only)."""

    @property
    def event_id(self) -> int | None: ...
    @property
    def performance_id(self) -> int | None: ...
    @property
    def organization_id(self) -> int | None: ...
    @property
    def organization(self) -> str: ...


def scoped(query: AnySelect, flt: Scope) -> AnySelect:
    """``query`` narrowed to the event, date and organization ``flt`` picks or types."""
    if flt.event_id is not None:
        query = query.where(col(Booking.event_id) == flt.event_id)
    if flt.performance_id is not None:
        query = query.where(col(Booking.performance_id) == flt.performance_id)
    if flt.organization_id is not None:
        query = query.where(col(Booking.organization_id) == flt.organization_id)
    if flt.organization.strip():
        query = query.where(col(Booking.organization_id).in_(organizations_named(flt.organization)))
    return query


def _filtered(query: AnySelect, flt: BookingFilter, timezone: str) -> AnySelect:
    if flt.text.strip():
        query = query.where(text_match(flt.text))
    query = scoped(query, flt)
    if flt.customer_id is not None:
        query = query.where(col(Booking.customer_id) == flt.customer_id)
    if flt.day is not None:
        start, end = local_day(flt.day, timezone)
        query = query.where(col(Booking.starts_at) >= start, col(Booking.starts_at) < end)
    if flt.status in STATUSES:
        query = query.where(col(Booking.status) == flt.status)
    if flt.refund_due:
        query = query.where(col(Booking.refund_due).is_(True))
    return query


def _newest_first(flt: BookingFilter, timezone: str, offset: int, per_page: int) -> AnySelect:
    """One page of matches, newest first, and one row more to know if a next page exists."""
    order = (col(Booking.created_at).desc(), col(Booking.id).desc())
    if not flt.text.strip():
        # The listing walks ix_booking_created_at and stops after the page.
        return (
            _filtered(row_columns(), flt, timezone)
            .order_by(*order)
            .offset(offset)
            .limit(per_page + 1)
        )
    return page_by_id(_filtered(select(col(Booking.id)), flt, timezone), order, offset, per_page)


def page_by_id(ids: AnySelect, order: tuple[Any, ...], offset: int, per_page: int) -> AnySelect:
    """The rows of one page of ``ids`` (a SELECT of booking ids, filtered), in ``order``.

    A search finds its bookings from the customers (``text_match``), and a broad one ("cuch
    lea": 1/60 of the customers, 17,000 of 1,000,000 bookings) must sort them all: sorted
    with their customer, event and organization joined, that cost 240 ms at p95. Here only
    the booking's own sort columns are sorted, the page is cut, and only its rows are joined
    (about twice as fast; the same rows in the same order, the order being repeated outside).
    """
    page = ids.order_by(*order).offset(offset).limit(per_page + 1)
    return row_columns().where(col(Booking.id).in_(page)).order_by(*order)


async def search_bookings(
    ctx: Context, *, flt: BookingFilter, page: int = 1, per_page: int = 50
) -> Page[BookingRow]:
    """Newest first; ``flt.text`` as ``text_match`` reads it."""
    page, per_page, offset = bounds(page, per_page)
    query = _newest_first(flt, ctx.settings.timezone, offset, per_page)

    async def work(session: AsyncSession) -> Page[BookingRow]:
        rows = [to_row(r) for r in (await session.execute(query)).all()]
        return paged(rows, page, per_page)

    return await ctx.db.read(work)


async def search_page(
    ctx: Context, *, flt: BookingFilter, page: int = 1, per_page: int = 50
) -> tuple[Page[BookingRow], Menus]:
    """``search_bookings`` and the choices of the search form, in one transaction."""
    page, per_page, offset = bounds(page, per_page)
    query = _newest_first(flt, ctx.settings.timezone, offset, per_page)

    async def work(session: AsyncSession) -> tuple[Page[BookingRow], Menus]:
        rows = [to_row(r) for r in (await session.execute(query)).all()]
        menus = await load_menus(session, now=ctx.clock.now(), event_id=flt.event_id)
        return paged(rows, page, per_page), menus

    return await ctx.db.read(work)


async def export_bookings(
    ctx: Context, *, flt: BookingFilter, batch: int = 2000
) -> AsyncIterator[list[BookingRow]]:
    """Every matching booking, in batches of short read transactions (keyset on the id), so
    that an export of the whole season neither holds a snapshot open nor fills memory."""
    last: int | None = None
    while True:
        query = _filtered(row_columns(), flt, ctx.settings.timezone)
        if last is not None:
            query = query.where(col(Booking.id) < last)
        query = query.order_by(col(Booking.id).desc()).limit(batch)

        async def work(session: AsyncSession, query: AnySelect = query) -> list[BookingRow]:
            return [to_row(r) for r in (await session.execute(query)).all()]

        rows = await ctx.db.read(work)
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = rows[-1].id


async def booking_detail(ctx: Context, *, reference: str) -> BookingDetail:
    """Everything the console shows about one booking, read in one snapshot."""
    ref = normalize_reference(reference)

    async def work(session: AsyncSession) -> BookingDetail:
        found = None
        if ref is not None:
            query = (
                select(Booking, Customer, Organization, Event, Performance)
                .join(Customer, col(Customer.id) == Booking.customer_id)
                .join(Event, col(Event.id) == Booking.event_id)
                .join(Performance, col(Performance.id) == Booking.performance_id)
                .outerjoin(Organization, col(Organization.id) == Booking.organization_id)
                .where(col(Booking.reference) == ref)
            )
            found = (await session.execute(query)).one_or_none()
        if found is None:
            raise BookingError("unknown_booking", reference=reference.strip()[:20])
        return await _detail(session, *found, now=ctx.clock.now())

    return await ctx.db.read(work)


async def booking_version(ctx: Context, *, reference: str) -> str:
    """The booking's current fingerprint (see ``BookingDetail.version``)."""
    ref = normalize_reference(reference) or ""

    async def work(session: AsyncSession) -> str:
        query = select(Booking).where(col(Booking.reference) == ref)
        booking = (await session.execute(query)).scalar_one_or_none()
        if booking is None:
            raise BookingError("unknown_booking", reference=reference.strip()[:20])
        return version_of(booking)

    return await ctx.db.read(work)


async def _detail(
    session: AsyncSession,
    booking: Booking,
    customer: Customer,
    organization: Organization | None,
    event: Event,
    performance: Performance,
    *,
    now: datetime,
) -> BookingDetail:
    booking_id = booking.id
    assert booking_id is not None
    view = await load_booking(session, booking)
    row = BookingRow(
        booking_id,
        booking.reference,
        booking.status,
        booking.checkout,
        booking.customer_id,
        customer.name,
        customer.email,
        booking.organization_id,
        organization.name if organization else None,
        booking.event_id,
        event.title,
        event.timezone,
        booking.starts_at,
        booking.deadline,
        booking.total_minor,
        booking.currency,
        booking.refund_due,
        booking.channel,
        booking.created_at,
    )
    payments = (
        await session.execute(
            select(Payment)
            .where(col(Payment.booking_id) == booking_id)
            .order_by(col(Payment.received_at), col(Payment.id))
        )
    ).scalars()
    tickets = (
        await session.execute(
            select(Ticket).where(col(Ticket.booking_id) == booking_id).order_by(col(Ticket.id))
        )
    ).scalars()
    history = (
        await session.execute(
            select(HistoryEntry)
            .where(col(HistoryEntry.booking_id) == booking_id)
            .order_by(col(HistoryEntry.at), col(HistoryEntry.id))
        )
    ).scalars()
    notices = (
        await session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.booking_id) == booking_id)
            .order_by(col(OutboxMessage.id).desc())
            .limit(50)
        )
    ).scalars()
    request = (
        await session.execute(
            select(ExtensionRequest).where(
                col(ExtensionRequest.booking_id) == booking_id,
                col(ExtensionRequest.status) == "pending",
            )
        )
    ).scalar_one_or_none()
    return BookingDetail(
        booking=view,
        row=row,
        customer_phone=customer.phone,
        policy=performance.policy or event.policy,
        cancellation_allowed=event.cancellation_allowed,
        extension_days=event.extension_days,
        extension_count=booking.extension_count,
        cancel_reason=booking.cancel_reason,
        cancel_note=booking.cancel_note,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        version=version_of(booking),
        payments=tuple(
            PaymentRow(p.provider, p.method, p.amount_minor, p.currency, p.outcome, p.received_at)
            for p in payments
        ),
        tickets=tuple(TicketRow(t.id or 0, t.item_id, t.issued_at, t.voided_at) for t in tickets),
        history=tuple(
            HistoryRow(h.at, h.actor_kind, h.actor_name, h.channel, h.action, _json(h.detail))
            for h in history
        ),
        notices=tuple(
            NoticeRow(
                n.id or 0,
                n.kind,
                n.channel,
                n.status,
                n.attempts,
                n.created_at,
                n.sent_at,
                n.last_error,
            )
            for n in notices
        ),
        pending_extension=(
            ExtensionView.of(request, booking, event, customer, now) if request else None
        ),
    )


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
