"""Running the bot role: long polling, or a webhook registered with Telegram, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Iterator

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand
from starlette.routing import Route

from booking.context import Context
from bot.app import build_bot, build_dispatcher
from bot.channel import RateLimiter, TelegramChannel
from bot.i18n import N_, _, use_locale
from bot.settings import BotSettings
from bot.webhook import webhook_route, webhook_secret

log = logging.getLogger(__name__)
COMMANDS = (
    ("start", N_("Start, or link the bookings made with your email")),
    ("events", N_("What is on: hold places or buy tickets")),
    ("mybookings", N_("Your bookings and their deadlines")),
    ("tickets", N_("Your tickets as QR codes")),
    ("passes", N_("Your season passes")),
    ("renew", N_("Renew your season pass")),
    ("language", N_("English or French")),
    ("help", N_("What this bot can do")),
)
MENU_LANGUAGES = ("en", "fr")  # en is also the default menu for every other language
# Updates handled at once by one polling process: enough to hide network waits, bounded so a
# burst cannot open more database sessions than the pool has.
CONCURRENT_UPDATES = 64
# Garbage collection, while the role runs (bench/bot.py: a fifth of the bot's CPU went to it at
# 100 customers). Every update allocates thousands of short-lived objects (aiogram's pydantic
# models, SQLAlchemy rows), so Python's default of a young collection every 700 allocations
# ran hundreds of times a second, and each older collection walked every object the process
# holds (modules, models, caches). Young collections are made rarer, and what exists when the
# role starts is frozen out of the walks; both are undone when it stops.
GC_YOUNG_THRESHOLD = 20_000


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


class BotRole:
    """The Bot client, the dispatcher and the outbox channel of one process."""

    def __init__(
        self,
        ctx: Context,
        settings: BotSettings,
        *,
        bot: Bot | None = None,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.ctx, self.settings = ctx, settings
        self.bot = bot or build_bot(settings)
        self.dispatcher = dispatcher or build_dispatcher(ctx, settings)

    def channel(self, limiter: RateLimiter | None = None) -> TelegramChannel:
        known = self.dispatcher.workflow_data.get("known")
        return TelegramChannel(self.bot, self.ctx, limiter, known)

    async def webhook_route(self) -> Route:
        secret = await webhook_secret(self.ctx, self.settings)
        return webhook_route(self.dispatcher, self.bot, secret)

    async def set_commands(self) -> None:
        for locale in MENU_LANGUAGES:
            with use_locale(locale):
                commands = [BotCommand(command=c, description=_(d)) for c, d in COMMANDS]
            await self.bot.set_my_commands(
                commands, language_code=None if locale == "en" else locale
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set: poll, or (webhook mode) register the webhook and wait
        while the web app's route receives the updates."""
        with collector_tuned():
            await self.set_commands()
            if self.settings.bot_mode == "webhook":
                await self._register_webhook()
                await stop.wait()
                return
            await self._poll(stop)

    async def _register_webhook(self) -> None:
        await self.bot.set_webhook(
            self.settings.webhook_url,
            secret_token=await webhook_secret(self.ctx, self.settings),
            allowed_updates=self.dispatcher.resolve_used_update_types(),
        )
        log.info("bot: webhook set to %s", self.settings.webhook_url)

    async def _poll(self, stop: asyncio.Event) -> None:
        # A webhook left by an earlier webhook-mode run would make getUpdates fail (409).
        await self.bot.delete_webhook(drop_pending_updates=False)
        polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,  # the runtime owns signals and stops every role at once
                close_bot_session=False,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                tasks_concurrency_limit=CONCURRENT_UPDATES,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        log.info("bot: polling for updates")
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not polling.done():
            with contextlib.suppress(RuntimeError):  # stopped before polling had started
                await self.dispatcher.stop_polling()
            if not polling.done():
                polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling  # re-raises what made polling end on its own
        # Polling stops taking updates but leaves the ones in hand running: let them finish
        # (aiogram keeps no public handle on them).
        in_hand = list(getattr(self.dispatcher, "_handle_update_tasks", ()))
        await asyncio.gather(*in_hand, return_exceptions=True)

    async def close(self) -> None:
        await self.dispatcher.storage.close()
        await self.bot.session.close()


def role_status(settings: BotSettings, *, web: bool) -> str:
    """How ``guichet serve`` reports the bot role once a token is set."""
    if settings.bot_mode != "webhook":
        return "running"
    if not web:
        return (
            "off: in webhook mode updates arrive through the web role "
            "(add --role web, or set GUICHET_BOT_MODE=polling)"
        )
    if not settings.bot_api_url and not settings.public_url.startswith("https://"):
        return (
            "off: Telegram only calls https:// webhooks; set GUICHET_PUBLIC_URL to the "
            "public https address, or GUICHET_BOT_MODE=polling"
        )
    return "running"
