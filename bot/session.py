"""The Bot's HTTP session: retries for the answers to customers, and one fix for speed.

Retries. A customer waiting for an answer is better served by a reply a few seconds late than
by an apology: while an update is being handled (``answering``), a Bot API call that meets a
429 waits the ``retry_after`` Telegram asks for, and one that meets a 5xx, a garbled answer
or a network error is tried again after a growing pause; all within ``BUDGET_S`` from the
call's start (``ANSWER_BUDGET_S`` for the answers Telegram only accepts for a short while).
Past the budget the error goes on to bot/routers/errors.py, which apologizes. Outside an
update (polling itself, start-up calls, the outbox's deliveries) nothing is retried here: the
outbox has its own retries, spaced in minutes, and must not hold a delivery for seconds.

A send (sendMessage, sendPhoto, sendInvoice…) that met a 5xx or a network error is retried
too, although Telegram may have delivered it before failing: a rare duplicate message is
harmless (every button in it is a reference the core checks again, so nothing can be done
twice through it), while the apology that would replace it loses the answer and leads the
customer to ask again anyway. A 429 was refused before anything was done, so its retry is
always safe.

Speed. aiogram reads every Bot API answer with ``Response[T]``, a pydantic generic model.
Pydantic keeps parametrized generics in a weak cache, so when the garbage collector runs
(often, under load) the class is dropped and the next call builds it again: about 10 ms of
CPU each time, several times a second. Holding a strong reference to the ones this bot uses
keeps the cache warm; the benchmark (bench/bot.py) measured it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, AnswerPreCheckoutQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from pydantic import ValidationError

log = logging.getLogger(__name__)
BUDGET_S = 10.0  # a customer still waits for an answer this long; past it, the apology
# Telegram drops a callback query's answer some seconds after the press (the spinner stops)
# and refuses a pre-checkout answer after 10 s: spend little of that on waiting.
ANSWER_BUDGET_S = 3.0
SHORT_LIVED: frozenset[type[TelegramMethod[Any]]] = frozenset(
    {AnswerCallbackQuery, AnswerPreCheckoutQuery}
)
FIRST_PAUSE_S = 0.25  # before the second try after a 5xx or a network error; doubled each time

_answering: ContextVar[bool] = ContextVar("guichet_answering", default=False)
_PINNED: dict[type[Any], Any] = {}


@contextmanager
def answering() -> Iterator[None]:
    """The calls made inside are answers to an update: they get the retries."""
    token = _answering.set(True)
    try:
        yield
    finally:
        _answering.reset(token)


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


def _transient(error: ClientDecodeError) -> bool:
    """A body that is not JSON (a proxy's 502 page, a cut connection) may come out right next
    time; JSON that aiogram's models refuse will not."""
    return not isinstance(error.original, ValidationError)


class RetryAnswers(BaseRequestMiddleware):
    """The retries described above; ``clock`` and ``sleep`` are there for tests."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if not _answering.get():
            return await make_request(bot, method)
        budget = ANSWER_BUDGET_S if type(method) in SHORT_LIVED else BUDGET_S
        started, pause = self._clock(), FIRST_PAUSE_S
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                error: Exception = exc
                wait = float(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                error, wait, pause = exc, pause, pause * 2
            except ClientDecodeError as exc:
                if not _transient(exc):
                    raise
                error, wait, pause = exc, pause, pause * 2
            if self._clock() - started + wait > budget:
                raise error
            # The class only: a message may quote the request, and the request its token.
            log.info(
                "%s: %s, trying again in %.2f s",
                method.__api_method__,
                type(error).__name__,
                wait,
            )
            await self._sleep(wait)


def build_session(api_url: str = "", *, retry: RetryAnswers | None = None) -> AiohttpSession:
    """An aiohttp session, pointed at another Bot API server when ``api_url`` is set."""
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    )
    session.middleware(PinResponseTypes())
    session.middleware(retry or RetryAnswers())
    return session
