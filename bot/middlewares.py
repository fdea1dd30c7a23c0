"""Once per update: who the customer is and which language to answer in."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

from booking.context import Context
from booking.services import profiles
from booking.views import CustomerView
from bot.i18n import set_locale
from bot.session import answering
from bot.storage import customer_read_with_conversation


class KnownCustomers:
    """The customer of each Telegram user, remembered for ``keep`` seconds.

    Only for a process that handles every update of the bot (long polling): then the changes
    that matter go through this process, and the handlers that make them (linking, language,
    contact details) call ``forget``; the Telegram channel does too when a chat turns out to be
    blocked. Anything changed elsewhere (an organizer adding the customer to an organization)
    shows within ``keep`` seconds.
    """

    def __init__(self, keep: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep, self._clock = keep, clock
        self._known: dict[int, tuple[float, CustomerView | None]] = {}

    def get(self, user_id: int) -> tuple[bool, CustomerView | None]:
        found = self._known.get(user_id)
        if found is None or self._clock() - found[0] >= self.keep:
            return False, None
        return True, found[1]

    def put(self, user_id: int, customer: CustomerView | None) -> None:
        if len(self._known) > 100_000:
            self._known.clear()  # simpler to start over than to sweep
        self._known[user_id] = (self._clock(), customer)

    def forget(self, user_id: int) -> None:
        self._known.pop(user_id, None)


class CustomerMiddleware(BaseMiddleware):
    """Puts ``customer`` (a CustomerView, or None before the first booking or link) and
    ``locale`` in the handler data, and sets the language ``_`` translates into.

    Runs as an outer middleware on every update, after aiogram's user-context and FSM
    middlewares (so inside the per-conversation lock). Only private chats are served: in a
    group, a booking would be visible to everyone, so updates from groups are ignored.
    The handlers' Bot API calls get the session's retries (``bot.session.answering``); the
    apology of bot/routers/errors.py comes after this middleware, once they are spent.
    """

    def __init__(self, ctx: Context, known: KnownCustomers | None = None) -> None:
        self.ctx, self.known = ctx, known

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with answering():
            return await self._serve(handler, event, data)

    async def _serve(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.type != "private":
            return None
        if user is None or user.is_bot:
            set_locale(None)
            data["customer"], data["locale"] = None, "en"
            return await handler(event, data)
        customer = await self._customer(user, chat)
        # A customer's saved choice wins; otherwise the language of their Telegram app.
        data["locale"] = set_locale(customer.language if customer else user.language_code)
        data["customer"] = customer
        return await handler(event, data)

    async def _customer(self, user: User, chat: Chat | None) -> CustomerView | None:
        if self.known is not None:
            hit, customer = self.known.get(user.id)
            if hit:
                return customer
        read = customer_read_with_conversation(user.id)
        if read is not None and not read[1]:
            customer = read[0]
        else:
            customer = await profiles.telegram_customer(
                self.ctx, telegram_user_id=user.id, chat_id=chat.id if chat else user.id
            )
        if self.known is not None:
            self.known.put(user.id, customer)
        return customer
