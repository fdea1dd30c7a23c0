"""Customers: find or create by normalized email, link Telegram, organization contacts.

Names (of customers and organizations), companies and phones are cleaned where they come in
(``booking.rules.text.single_line``): a newline or other control character in a name would
break the headers of every email sent to that person.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.formatting import pick_locale
from booking.rules.text import single_line
from booking.tables.customers import Customer, Organization
from booking.views import CustomerView

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CUSTOMER_TYPES = ("individual", "group", "b2b")


def email_key(email: str) -> str:
    """The strict match key: trimmed and lower-cased (SPEC §8)."""
    key = email.strip().lower()
    if not _EMAIL.match(key) or len(key) > 254:
        raise BookingError("invalid_email")
    return key


async def find_or_create_customer(
    ctx: Context,
    *,
    actor: Actor,
    email: str,
    name: str = "",
    language: str = "en",
    phone: str = "",
    company: str = "",
    customer_type: str = "individual",
    organization_id: int | None = None,
) -> tuple[CustomerView, bool]:
    """The customer with this email, or a new one. Returns (customer, created)."""
    key = email_key(email)
    if customer_type not in CUSTOMER_TYPES:
        raise BookingError("bad_value", field="customer_type")

    async def work(session: AsyncSession) -> tuple[CustomerView, bool]:
        found = (
            await session.execute(select(Customer).where(col(Customer.email_key) == key))
        ).scalar_one_or_none()
        if found is not None:
            return CustomerView.of(found), False
        customer = await add_customer(
            session,
            now=ctx.clock.now(),
            name=single_line(name) or single_line(key.split("@")[0]),
            email=email,
            language=language,
            phone=phone,
            company=company,
            customer_type=customer_type,
            organization_id=organization_id,
        )
        return CustomerView.of(customer), True

    return await ctx.db.write(work)


async def add_customer(
    session: AsyncSession,
    *,
    now: datetime,
    name: str,
    email: str = "",
    language: str = "en",
    phone: str = "",
    company: str = "",
    customer_type: str = "individual",
    organization_id: int | None = None,
) -> Customer:
    """Insert a new customer in the caller's transaction (find-or-create, the desk form).

    ``email`` may be empty: a customer known by phone only (the desk) has no match key. A
    taken email fails the unique ``email_key``: callers look it up first, in the same
    transaction."""
    key = email_key(email) if email.strip() else None
    customer = Customer(
        name=single_line(name),
        email=email.strip() or None,
        email_key=key,
        language=pick_locale(language),
        phone=single_line(phone, 40),
        company=single_line(company),
        customer_type=customer_type,
        organization_id=organization_id,
        created_at=now,
    )
    session.add(customer)
    await session.flush()
    return customer


async def get_customer(ctx: Context, *, customer_id: int) -> CustomerView:
    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("unknown_customer")
        return CustomerView.of(customer)

    return await ctx.db.read(work)


async def find_by_telegram(ctx: Context, *, telegram_user_id: int) -> CustomerView | None:
    async def work(session: AsyncSession) -> CustomerView | None:
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        found = (await session.execute(query)).scalar_one_or_none()
        return CustomerView.of(found) if found else None

    return await ctx.db.read(work)


async def find_by_email(ctx: Context, *, email: str) -> CustomerView | None:
    key = email_key(email)

    async def work(session: AsyncSession) -> CustomerView | None:
        query = select(Customer).where(col(Customer.email_key) == key)
        found = (await session.execute(query)).scalar_one_or_none()
        return CustomerView.of(found) if found else None

    return await ctx.db.read(work)


async def link_telegram(
    ctx: Context, *, actor: Actor, customer_id: int, telegram_user_id: int, chat_id: int
) -> CustomerView:
    """Attach a Telegram account: from then on the customer's bookings show in the bot."""

    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("unknown_customer")
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        other = (await session.execute(query)).scalar_one_or_none()
        if other is not None and other.id != customer_id:
            raise BookingError("telegram_taken")
        customer.telegram_user_id, customer.telegram_chat_id = telegram_user_id, chat_id
        customer.telegram_unreachable = False
        return CustomerView.of(customer)

    return await ctx.db.write(work)


async def set_language(
    ctx: Context, *, actor: Actor, customer_id: int, language: str
) -> CustomerView:
    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("unknown_customer")
        customer.language = pick_locale(language)
        return CustomerView.of(customer)

    return await ctx.db.write(work)


async def create_organization(ctx: Context, *, actor: Actor, name: str, kind: str = "b2b") -> int:
    name = single_line(name)
    if kind not in ("b2b", "group") or not name:
        raise BookingError("bad_value", field="organization")

    async def work(session: AsyncSession) -> int:
        org = Organization(name=name, kind=kind)
        session.add(org)
        await session.flush()
        return org.id or 0

    return await ctx.db.write(work)


async def add_contact(
    ctx: Context, *, actor: Actor, organization_id: int, customer_id: int
) -> CustomerView:
    """Make a customer a contact of an organization: they see all its bookings from then on."""

    async def work(session: AsyncSession) -> CustomerView:
        org = await session.get(Organization, organization_id)
        customer = await session.get(Customer, customer_id)
        if org is None or customer is None:
            raise BookingError("unknown_customer")
        customer.organization_id, customer.customer_type = org.id, org.kind
        return CustomerView.of(customer)

    return await ctx.db.write(work)
