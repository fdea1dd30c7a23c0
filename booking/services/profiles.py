"""The customer behind a Telegram chat, and the contact details a bot customer gives us.

Complements ``customers`` and ``linking``: those find, create and link; this resolves the
customer once per bot update (a read in the common case; with the conversation, one read for
both) and fills in the name of a customer who started in Telegram (their email comes only
with proof, through ``linking``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.text import single_line
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


async def set_name(ctx: Context, *, actor: Actor, customer_id: int, name: str) -> CustomerView:
    """The name a customer who started in Telegram puts on their bookings.

    There is no way here to give an email: an address typed in the bot is only a claim until
    the code mailed to it comes back (``linking.send_link_code`` / ``confirm_link_code``).
    """
    if actor.kind == "customer" and actor.id != customer_id:
        raise BookingError("not_owner")
    name = single_line(name)
    if not name:
        raise BookingError("bad_value", field="name")

    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None:
            raise BookingError("unknown_customer")
        customer.name = name
        return CustomerView.of(customer)

    return await ctx.db.write(work)
