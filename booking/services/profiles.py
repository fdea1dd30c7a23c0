"""The customer behind a Telegram chat, and the contact details a bot customer gives us.

Complements ``customers`` and ``linking``: those find, create and link; this resolves the
customer once per bot update (a read in the common case; with the conversation, one read for
both) and fills in the name and email of a customer who started in Telegram without one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.services.customers import email_key
from booking.tables.channels import Conversation
from booking.tables.customers import Customer
from booking.views import CustomerView


async def telegram_customer(
    ctx: Context, *, telegram_user_id: int, chat_id: int
) -> CustomerView | None:
    """The customer linked to this Telegram account, or None.

    Someone writing to the bot can be reached there again: a chat marked unreachable (the
    user had blocked the bot) or a changed chat id is fixed with a write; otherwise this is
    one read.
    """

    async def find(session: AsyncSession) -> tuple[CustomerView, bool] | None:
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        found = (await session.execute(query)).scalar_one_or_none()
        if found is None:
            return None
        stale = found.telegram_unreachable or found.telegram_chat_id != chat_id
        return CustomerView.of(found), stale

    found = await ctx.db.read(find)
    if found is None or not found[1]:
        return found[0] if found else None

    async def fix(session: AsyncSession) -> CustomerView | None:
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        customer = (await session.execute(query)).scalar_one_or_none()
        if customer is None:
            return None
        customer.telegram_chat_id, customer.telegram_unreachable = chat_id, False
        return CustomerView.of(customer)

    return await ctx.db.write(fix)


@dataclass(frozen=True, slots=True)
class ChatStart:
    """What the bot needs at the start of an update, read in one transaction: the customer of
    the Telegram account (``stale``: their chat must be marked reachable again, or its id
    changed; ``telegram_customer`` fixes that) and the conversation's state and data."""

    customer: CustomerView | None
    stale: bool
    state: str | None
    data: dict[str, Any]


async def chat_start(
    ctx: Context, *, telegram_user_id: int, chat_id: int, conversation_key: str
) -> ChatStart:
    async def work(session: AsyncSession) -> ChatStart:
        query = select(Customer).where(col(Customer.telegram_user_id) == telegram_user_id)
        found = (await session.execute(query)).scalar_one_or_none()
        row = await session.get(Conversation, conversation_key)
        stale = found is not None and (
            found.telegram_unreachable or found.telegram_chat_id != chat_id
        )
        return ChatStart(
            customer=CustomerView.of(found) if found else None,
            stale=stale,
            state=row.state if row else None,
            data=json.loads(row.data) if row else {},
        )

    return await ctx.db.read(work)


async def set_contact(
    ctx: Context, *, actor: Actor, customer_id: int, name: str, email: str
) -> CustomerView:
    """Give a customer who has no email yet a name and an email.

    An address that belongs to another customer is refused with ``email_taken``: proving it
    is theirs goes through ``linking.send_link_code``. A customer who already has an email
    keeps it (``bad_value``); changing it is not a self-service action.
    """
    if actor.kind == "customer" and actor.id != customer_id:
        raise BookingError("not_owner")
    key = email_key(email)
    name = name.strip()[:200]
    if not name:
        raise BookingError("bad_value", field="name")

    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("unknown_customer")
        if customer.email_key == key:
            customer.name = name
            return CustomerView.of(customer)
        if customer.email_key is not None:
            raise BookingError("bad_value", field="email")
        other = await session.execute(
            select(col(Customer.id)).where(col(Customer.email_key) == key)
        )
        if other.first() is not None:
            raise BookingError("email_taken")
        customer.name, customer.email, customer.email_key = name, email.strip(), key
        return CustomerView.of(customer)

    try:
        return await ctx.db.write(work)
    except IntegrityError:  # the same address given at the same moment by someone else
        raise BookingError("email_taken") from None
