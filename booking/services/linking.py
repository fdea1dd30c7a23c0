"""Linking a Telegram account to a customer: a signed deep link, or a code mailed to them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import outbox, tokens
from booking.context import Context
from booking.errors import BookingError
from booking.rules.formatting import pick_locale
from booking.services.customers import email_key
from booking.settings_store import secret_key
from booking.tables.bookings import Booking
from booking.tables.channels import LinkCode
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage
from booking.views import CustomerView

PURPOSE = "tg-link"
LINK_TTL = timedelta(days=30)
CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 3


async def deep_link_payload(ctx: Context, *, customer_id: int) -> str:
    """The ``/start`` payload that links a chat to this customer (≤ 64 chars of [A-Za-z0-9_-])."""
    secret = await secret_key(ctx)
    return tokens.sign(secret, PURPOSE, str(customer_id), ctx.clock.now() + LINK_TTL)


async def link_by_payload(
    ctx: Context, *, payload: str, telegram_user_id: int, chat_id: int
) -> CustomerView:
    secret = await secret_key(ctx)
    value = tokens.verify(secret, PURPOSE, payload, now=ctx.clock.now())
    if value is None or not value.isdigit():
        raise BookingError("link_invalid")
    return await _link(ctx, int(value), telegram_user_id, chat_id)


async def register_telegram_customer(
    ctx: Context, *, telegram_user_id: int, chat_id: int, name: str, language: str
) -> CustomerView:
    """The customer behind this Telegram account, created on first contact (no email yet)."""

    async def work(session: AsyncSession) -> CustomerView:
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        found = (await session.execute(query)).scalar_one_or_none()
        if found is not None:
            return CustomerView.of(found)
        customer = Customer(
            name=name.strip()[:200] or "Telegram user",
            language=pick_locale(language),
            telegram_user_id=telegram_user_id,
            telegram_chat_id=chat_id,
            created_at=ctx.clock.now(),
        )
        session.add(customer)
        await session.flush()
        return CustomerView.of(customer)

    return await ctx.db.write(work)


async def send_link_code(
    ctx: Context, *, email: str, telegram_user_id: int, chat_id: int, name: str, language: str
) -> None:
    """Mail a one-time code to ``email``. An unknown address gets a new customer record, so the
    answer never tells whether an address is known."""
    key = email_key(email)
    code = f"{secrets.randbelow(10**6):06d}"
    secret = await secret_key(ctx)

    async def work(session: AsyncSession) -> None:
        now = ctx.clock.now()
        recent = await session.execute(
            select(func.count()).where(
                col(LinkCode.telegram_user_id) == telegram_user_id,
                col(LinkCode.created_at) > now - timedelta(hours=1),
            )
        )
        if int(recent.scalar_one()) >= MAX_CODES_PER_HOUR:
            raise BookingError("too_many_codes")
        query = select(Customer).where(col(Customer.email_key) == key)
        customer = (await session.execute(query)).scalar_one_or_none()
        if customer is None:
            customer = Customer(
                name=name.strip()[:200] or key.split("@")[0],
                email=email.strip(),
                email_key=key,
                language=pick_locale(language),
                created_at=now,
            )
            session.add(customer)
            await session.flush()
        session.add(
            LinkCode(
                customer_id=customer.id or 0,
                telegram_user_id=telegram_user_id,
                chat_id=chat_id,
                code_hash=_hash(secret, code),
                created_at=now,
                expires_at=now + CODE_TTL,
            )
        )
        await outbox.enqueue(
            session,
            kind="link_code",
            customer=customer,
            now=now,
            channels=["email"],
            key=f"link_code:{telegram_user_id}:{now.isoformat()}",
            payload={"code": code},
        )

    await ctx.db.write(work)


async def confirm_link_code(
    ctx: Context, *, telegram_user_id: int, chat_id: int, code: str
) -> CustomerView:
    """Link the chat to the customer the latest valid code was mailed to."""
    secret = await secret_key(ctx)

    async def work(session: AsyncSession) -> tuple[int | None, bool]:
        now = ctx.clock.now()
        query = (
            select(LinkCode)
            .where(
                col(LinkCode.telegram_user_id) == telegram_user_id,
                col(LinkCode.used_at).is_(None),
                col(LinkCode.expires_at) > now,
            )
            .order_by(col(LinkCode.created_at).desc())
            .limit(1)
        )
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None or row.attempts >= MAX_ATTEMPTS:
            return None, False
        if not secrets.compare_digest(row.code_hash, _hash(secret, code.strip())):
            await session.execute(
                update(LinkCode).where(LinkCode.id == row.id).values(attempts=LinkCode.attempts + 1)  # type: ignore[arg-type]
            )
            return None, True
        row.used_at = now
        return row.customer_id, True

    customer_id, _ = await ctx.db.write(work)
    if customer_id is None:
        raise BookingError("link_code_invalid")
    return await _link(ctx, customer_id, telegram_user_id, chat_id)


def _hash(secret: str, code: str) -> str:
    return hashlib.sha256(f"{secret}:{code}".encode()).hexdigest()


async def _link(
    ctx: Context, customer_id: int, telegram_user_id: int, chat_id: int
) -> CustomerView:
    """Attach the Telegram account to the customer. A Telegram-only record made for the same
    account earlier (someone who started booking in the bot before giving an email) is merged
    into it: its bookings move over. An account linked to another email is refused."""

    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("link_invalid")
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        other = (await session.execute(query)).scalar_one_or_none()
        if other is not None and other.id != customer.id:
            if other.email_key is not None:
                raise BookingError("telegram_taken")
            await _merge(session, source=other, target=customer)
        customer.telegram_user_id, customer.telegram_chat_id = telegram_user_id, chat_id
        customer.telegram_unreachable = False
        return CustomerView.of(customer)

    return await ctx.db.write(work)


async def _merge(session: AsyncSession, *, source: Customer, target: Customer) -> None:
    for table in (Booking, OutboxMessage):
        await session.execute(
            update(table).where(table.customer_id == source.id).values(customer_id=target.id)  # type: ignore[arg-type]
        )
    source.telegram_user_id, source.telegram_chat_id = None, None
    source.name = f"{source.name} (merged into #{target.id})"[:200]
    await session.flush()
