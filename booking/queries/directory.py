"""Customers and organizations as the console looks them up: search, detail, contacts.

Names are stored cleaned (``booking.services.customers``), so a name looked up here is
cleaned the same way (``single_line``) before it is compared."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.queries.listing import AnySelect, Page, bounds, ilike, paged
from booking.queries.search import BookingRow, customers_matching, row_columns, to_row
from booking.rules.text import single_line
from booking.tables.bookings import Booking
from booking.tables.channels import InboundMail
from booking.tables.customers import Customer, Organization

RECENT_BOOKINGS = 100


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    name: str
    email: str | None
    phone: str
    company: str
    customer_type: str
    language: str
    organization_id: int | None
    organization_name: str | None
    telegram_linked: bool


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    customer: CustomerRow
    newsletter: bool
    categories: str
    created_at: datetime
    telegram_unreachable: bool
    email_undeliverable: bool
    bookings: tuple[BookingRow, ...]  # the most recent first
    last_bounce: LatestBounce | None = None  # the latest bounce on our VERP token


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    id: int
    name: str
    kind: str
    contacts: int


@dataclass(frozen=True, slots=True)
class OrganizationDetail:
    organization: OrganizationRow
    contacts: tuple[CustomerRow, ...]
    bookings: tuple[BookingRow, ...]


def _customer_columns() -> AnySelect:
    return select(
        col(Customer.id),
        col(Customer.name),
        col(Customer.email),
        col(Customer.phone),
        col(Customer.company),
        col(Customer.customer_type),
        col(Customer.language),
        col(Customer.organization_id),
        col(Organization.name),
        col(Customer.telegram_user_id).is_not(None),
    ).outerjoin(Organization, col(Organization.id) == Customer.organization_id)


async def search_customers(
    ctx: Context, *, text: str, page: int = 1, per_page: int = 50
) -> Page[CustomerRow]:
    """The customers the bookings search finds by ``text`` (``search.customers_matching``:
    part of the name or company, the start of the email, the phone in any common form)."""
    page, per_page, offset = bounds(page, per_page)
    query = _customer_columns()
    if text.strip():
        matching = customers_matching(text)
        query = query.where(col(Customer.id).in_(matching) if matching is not None else false())
    query = query.order_by(col(Customer.name), col(Customer.id)).offset(offset).limit(per_page + 1)

    async def work(session: AsyncSession) -> Page[CustomerRow]:
        rows = [CustomerRow(*r) for r in (await session.execute(query)).all()]
        return paged(rows, page, per_page)

    return await ctx.db.read(work)


async def customer_detail(ctx: Context, *, customer_id: int) -> CustomerDetail:
    async def work(session: AsyncSession) -> CustomerDetail:
        query = _customer_columns().where(col(Customer.id) == customer_id)
        found = (await session.execute(query)).one_or_none()
        customer = await session.get(Customer, customer_id)
        if found is None or customer is None:
            raise BookingError("unknown_customer")
        bookings = (
            await session.execute(
                row_columns()
                .where(col(Booking.customer_id) == customer_id)
                .order_by(col(Booking.created_at).desc(), col(Booking.id).desc())
                .limit(RECENT_BOOKINGS)
            )
        ).all()
        return CustomerDetail(
            customer=CustomerRow(*found),
            newsletter=customer.newsletter,
            categories=customer.categories,
            created_at=customer.created_at,
            telegram_unreachable=customer.telegram_unreachable,
            email_undeliverable=customer.email_undeliverable,
            bookings=tuple(to_row(r) for r in bookings),
        )

    detail = await ctx.db.read(work)
    bounce = await latest_bounce(ctx, customer_id=customer_id)
    return dataclasses.replace(detail, last_bounce=bounce) if bounce else detail


async def search_organizations(
    ctx: Context, *, text: str, page: int = 1, per_page: int = 50
) -> Page[OrganizationRow]:
    page, per_page, offset = bounds(page, per_page)
    contacts = (
        select(func.count())
        .where(col(Customer.organization_id) == Organization.id)
        .correlate(Organization)
        .scalar_subquery()
    )
    query = select(col(Organization.id), col(Organization.name), col(Organization.kind), contacts)
    if text.strip():
        query = query.where(ilike(col(Organization.name), text.strip()))
    query = query.order_by(col(Organization.name)).offset(offset).limit(per_page + 1)

    async def work(session: AsyncSession) -> Page[OrganizationRow]:
        rows = [OrganizationRow(i, n, k, int(c)) for i, n, k, c in await session.execute(query)]
        return paged(rows, page, per_page)

    return await ctx.db.read(work)


async def organization_detail(ctx: Context, *, organization_id: int) -> OrganizationDetail:
    async def work(session: AsyncSession) -> OrganizationDetail:
        org = await session.get(Organization, organization_id)
        if org is None:
            raise BookingError("unknown_customer")
        query = (
            _customer_columns()
            .where(col(Customer.organization_id) == organization_id)
            .order_by(col(Customer.name))
        )
        contacts = tuple(CustomerRow(*r) for r in (await session.execute(query)).all())
        bookings = (
            await session.execute(
                row_columns()
                .where(col(Booking.organization_id) == organization_id)
                .order_by(col(Booking.created_at).desc(), col(Booking.id).desc())
                .limit(RECENT_BOOKINGS)
            )
        ).all()
        return OrganizationDetail(
            organization=OrganizationRow(org.id or 0, org.name, org.kind, len(contacts)),
            contacts=contacts,
            bookings=tuple(to_row(r) for r in bookings),
        )

    return await ctx.db.read(work)


async def organization_named(ctx: Context, *, name: str) -> int | None:
    async def work(session: AsyncSession) -> int | None:
        query = select(col(Organization.id)).where(col(Organization.name) == single_line(name))
        return (await session.execute(query)).scalar_one_or_none()

    return await ctx.db.read(work)


@dataclass(frozen=True, slots=True)
class LatestBounce:
    """The most recent bounce recorded for a customer (console customer page)."""

    received_at: datetime
    outcome: str


async def latest_bounce(ctx: Context, *, customer_id: int) -> LatestBounce | None:
    """The last bounce recorded for the customer (VERP token), for the console."""

    async def work(session: AsyncSession) -> LatestBounce | None:
        query = (
            select(col(InboundMail.received_at), col(InboundMail.outcome))
            .where(col(InboundMail.customer_id) == customer_id, col(InboundMail.kind) == "bounce")
            .order_by(col(InboundMail.received_at).desc(), col(InboundMail.id).desc())
            .limit(1)
        )
        found = (await session.execute(query)).first()
        return LatestBounce(found[0], found[1]) if found else None

    return await ctx.db.read(work)
