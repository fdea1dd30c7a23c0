"""The Bot's HTTP session, with one fix for speed under load.

aiogram reads every Bot API answer with ``Response[T]``, a pydantic generic model. Pydantic
keeps parametrized generics in a weak cache, so when the garbage collector runs (often, under
load) the class is dropped and the next call builds it again: about 10 ms of CPU each time,
several times a second. Holding a strong reference to the ones this bot uses keeps the cache
warm; the benchmark (bench/bot.py) measured it.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

_PINNED: dict[type[Any], Any] = {}


class PinResponseTypes(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in _PINNED:
            _PINNED[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)


def build_session(api_url: str = "") -> AiohttpSession:
    """An aiohttp session, pointed at another Bot API server when ``api_url`` is set."""
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else (AiohttpSession())
    )
    session.middleware(PinResponseTypes())
    return session
