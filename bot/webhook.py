"""Webhook mode: a Starlette route the web app mounts, answering only Telegram.

Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token; a request
without it is refused before its body is read. The update is handled before the answer, so
Telegram re-sends it if this process dies mid-way (the services make a second pass harmless:
payments are unique per charge, steps are claimed once).
"""

from __future__ import annotations

import hmac
import logging

from aiogram import Bot, Dispatcher
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booking.context import Context
from booking.settings_store import secret_key
from bot.settings import WEBHOOK_PATH, BotSettings, derive_webhook_secret

log = logging.getLogger(__name__)
HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def webhook_secret(ctx: Context, settings: BotSettings) -> str:
    """GUICHET_WEBHOOK_SECRET, or one derived from the secret key (the same in every process)."""
    explicit = settings.webhook_secret.get_secret_value()
    return explicit or derive_webhook_secret(await secret_key(ctx))


def webhook_route(dispatcher: Dispatcher, bot: Bot, secret: str) -> Route:
    async def receive(request: Request) -> Response:
        given = request.headers.get(HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=401)
        try:
            update = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(update, dict):
            return Response(status_code=400)
        try:
            await dispatcher.feed_raw_update(bot, update)
        except ValidationError:
            log.warning("webhook: an update aiogram cannot read was ignored")
        return Response(status_code=200)

    return Route(WEBHOOK_PATH, receive, methods=["POST"], name="telegram-webhook")
