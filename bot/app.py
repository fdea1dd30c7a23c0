"""Building the bot: the dispatcher with its routers in order, and the Bot client."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.types import TelegramObject, Update

from booking.context import Context
from bot.command_case import CommandCase
from bot.direct_routes import Routes, message_routes, press_routes
from bot.listings import Listings
from bot.middlewares import CustomerMiddleware, KnownCustomers
from bot.routers import (
    bookings,
    cancel,
    checkout,
    errors,
    events,
    extend,
    fallback,
    help,
    language,
    passes,
    payments,
    prompts,
    renew,
    seats,
    start,
    tickets,
)
from bot.session import build_session
from bot.settings import BotSettings
from bot.storage import build_storage, update_scope

# Explicit order. Commands are matched before the steps that wait for typed text, because a
# command is how a customer leaves a step; the fallback takes what nobody else did.
ROUTERS = (
    errors.router,
    prompts.router,
    start.router,
    help.router,
    language.router,
    payments.router,
    events.router,
    seats.router,
    checkout.router,
    bookings.router,
    cancel.router,
    extend.router,
    tickets.router,
    passes.router,  # issue 12
    renew.router,  # issue 12
    fallback.router,
)


class GuichetDispatcher(Dispatcher):
    """aiogram's Dispatcher, with one view of the conversation state per update (see
    ``bot.storage.update_scope``), and button presses and messages looked up instead of
    offered to every router (``bot.direct_routes``; set by ``route_directly`` once the routers
    are in). Polling and the webhook both come through feed_update."""

    direct: dict[str, Routes] | None = None  # by update type

    def route_directly(self) -> None:
        for kind in ("callback_query", "message"):
            own = self.observers[kind]
            if own.handlers or own.middleware:  # they would be skipped by the lookup
                raise ValueError(f"the dispatcher itself takes no {kind}: put it in a router")
        routers = list(self.sub_routers)
        self.direct = {"callback_query": press_routes(routers), "message": message_routes(routers)}

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        with update_scope():
            return await super().feed_update(bot, update, **kwargs)

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        # Called by propagate_event once the dispatcher's own outer middlewares (CommandCase)
        # have run.
        routes = self.direct.get(update_type) if self.direct is not None else None
        if routes is not None:
            return await routes.propagate(event, kwargs)
        return await super()._propagate_event(observer, update_type, event, **kwargs)


def build_dispatcher(
    ctx: Context,
    settings: BotSettings | None = None,
    *,
    storage: BaseStorage | None = None,
    isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    """A dispatcher over the core: ``ctx`` and ``settings`` reach every handler by name."""
    settings = settings or BotSettings()
    # Telegram hands a bot's updates to one poller only: then this process sees them all and
    # may remember conversations and customers between updates (never in webhook mode).
    polling = settings.bot_mode == "polling"
    if storage is None:
        storage, isolation = build_storage(
            ctx, settings.redis_url.get_secret_value(), sole_reader=polling
        )
    known = KnownCustomers() if polling else None
    dispatcher = GuichetDispatcher(
        storage=storage,
        events_isolation=isolation,
        ctx=ctx,
        settings=settings,
        listings=Listings(ctx),
        known=known,
    )
    dispatcher.update.outer_middleware(CustomerMiddleware(ctx, known))
    dispatcher.message.outer_middleware(CommandCase())  # /START works like /start
    for handlers in ROUTERS:
        dispatcher.include_router(handlers.build())
    dispatcher.route_directly()
    return dispatcher


def build_bot(settings: BotSettings) -> Bot:
    """A Bot client; GUICHET_BOT_API_URL points it at another Bot API server."""
    return Bot(settings.bot_token.get_secret_value(), session=build_session(settings.bot_api_url))
