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

from sqlalchemy import Row, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules.text import single_line
from booking.sql import connection_of
from booking.tables.channels import Conversation
from booking.tables.customers import Customer
from booking.views import CustomerView

# The reads of every bot update's start, as Core statements on the transaction's connection:
# built once (SQLAlchemy caches their compiled form), with no ORM entity, identity map or
# attribute events behind them. Through the ORM these two reads were most of the database work
# of an update that changes nothing (bench/bot.py's profile).
_C: Table = Customer.__table__  # type: ignore[attr-defined]  # SQLModel has no stub for it
_V: Table = Conversation.__table__  # type: ignore[attr-defined]
_VIEW_COLUMNS = (
    _C.c.id,
    _C.c.name,
    _C.c.email,
    _C.c.language,
    _C.c.customer_type,
    _C.c.organization_id,
    _C.c.telegram_user_id,
    _C.c.telegram_chat_id,
    _C.c.telegram_unreachable,
)
Found = Row[*tuple[Any, ...]]  # a row of _VIEW_COLUMNS
_BY_TELEGRAM = select(*_VIEW_COLUMNS).where(_C.c.telegram_user_id == bindparam("user"))
_CONVERSATION = select(_V.c.state, _V.c.data).where(_V.c.key == bindparam("key"))


async def _telegram_row(conn: AsyncConnection, telegram_user_id: int) -> Found | None:
    return (await conn.execute(_BY_TELEGRAM, {"user": telegram_user_id})).first()


def _view(row: Found) -> CustomerView:
    return CustomerView(
        id=row.id,
        name=row.name,
        email=row.email,
        language=row.language,
        customer_type=row.customer_type,
        organization_id=row.organization_id,
        telegram_user_id=row.telegram_user_id,
        telegram_chat_id=row.telegram_chat_id,
    )


def _stale(row: Found, chat_id: int) -> bool:
    return bool(row.telegram_unreachable) or row.telegram_chat_id != chat_id


async def telegram_customer(
    ctx: Context, *, telegram_user_id: int, chat_id: int
) -> CustomerView | None:
    """The customer linked to this Telegram account, or None.

    Someone writing to the bot can be reached there again: a chat marked unreachable (the
    user had blocked the bot) or a changed chat id is fixed with a write; otherwise this is
    one read.
    """

    async def find(session: AsyncSession) -> tuple[CustomerView, bool] | None:
        found = await _telegram_row(await connection_of(session), telegram_user_id)
        return (_view(found), _stale(found, chat_id)) if found is not None else None

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
        conn = await connection_of(session)
        found = await _telegram_row(conn, telegram_user_id)
        row = (await conn.execute(_CONVERSATION, {"key": conversation_key})).first()
        return ChatStart(
            customer=_view(found) if found is not None else None,
            stale=found is not None and _stale(found, chat_id),
            state=row.state if row is not None else None,
            data=json.loads(row.data) if row is not None else {},
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
