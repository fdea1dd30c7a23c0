"""Button presses and commands go straight to the handlers that can take them.

aiogram offers every update to each router in turn, and each router tries each of its
handlers' filters: for a press, fourteen routers and up to forty filters, most of which only
compare the payload's prefix and action (``bot.callbacks.Pressed``) and say no; for a command,
as many ``Command`` filters comparing the command word. That walk was a tenth of the bot
process's CPU under bench/bot.py. Here the dispatcher looks the update's key up once (the
press's prefix and action, the command word) and tries only the handlers whose filters can
accept that key, plus those whose filters do not say (the fallback, the steps waiting for
typed text), in the order aiogram would have tried them. Every filter of a candidate still
runs, so what a handler sees (``callback_data``, ``command``, the state check,
``event_router``, ``handler``) is what aiogram gives it; the key only leaves out handlers that
would have said no.

The shortcut skips router-level middlewares and filters; ``Routes`` refuses a router that has
any, so adding one cannot be silently bypassed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED, SkipHandler
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.callbacks import Pressed, press_key

Candidate = tuple[Router, HandlerObject]
Keys = frozenset[Hashable] | None  # None: the filter does not narrow the keys down


def press_keys(found: FilterObject) -> Keys:
    return found.callback.keys if isinstance(found.callback, Pressed) else None


def command_keys(found: FilterObject) -> Keys:
    """The command words a ``Command`` filter can match, folded (a superset: aiogram compares
    case-sensitively unless ``ignore_case``). A pattern or another prefix: any word."""
    command = found.callback
    if not isinstance(command, Command) or command.prefix != "/":
        return None
    if not all(isinstance(word, str) for word in command.commands):
        return None
    return frozenset(str(word).casefold() for word in command.commands)


def command_word(message: Message) -> str | None:
    """The command word as ``Command`` reads it ("/Events@bot x" -> "events"), or None."""
    words = (message.text or message.caption or "").split(maxsplit=1)
    if not words or not words[0].startswith("/"):  # (split: " /events" is a command too)
        return None
    return words[0][1:].partition("@")[0].casefold()


class Routes:
    """For one kind of update, the candidates of each key, computed once from the routers."""

    def __init__(
        self,
        routers: list[Router],
        kind: str,
        keys_of: Callable[[FilterObject], Keys],
        key_of: Callable[[Any], Hashable | None],
    ) -> None:
        self.kind, self._key_of = kind, key_of
        ordered: list[tuple[Candidate, Keys]] = []
        for router in routers:
            observer = router.observers[kind]
            if router.sub_routers or observer.outer_middleware or observer.middleware:
                raise ValueError(
                    f"router {router.name}: {kind} updates are routed without nesting or "
                    "middlewares (bot.direct_routes)"
                )
            if observer._handler.filters:
                raise ValueError(f"router {router.name}: no router-level filters on {kind}")
            for handler in observer.handlers:
                keys: Keys = None
                for found in handler.filters or ():
                    narrowed = keys_of(found)
                    if narrowed is not None:
                        keys = narrowed if keys is None else keys & narrowed
                ordered.append(((router, handler), keys))
        known = {key for _, keys in ordered if keys is not None for key in keys}
        self._any = tuple(c for c, keys in ordered if keys is None)
        self._by_key = {
            key: tuple(c for c, keys in ordered if keys is None or key in keys) for key in known
        }

    def candidates(self, event: TelegramObject) -> tuple[Candidate, ...]:
        key = self._key_of(event)
        return self._any if key is None else self._by_key.get(key, self._any)

    async def propagate(self, event: TelegramObject, kwargs: dict[str, Any]) -> Any:
        """What ``Router.propagate_event`` returns for ``event``, trying only the candidates."""
        for router, handler in self.candidates(event):
            data = {**kwargs, "event_router": router, "handler": handler}
            accepted, data = await handler.check(event, **data)
            if not accepted:
                continue
            try:
                return await handler.call(event, **data)
            except SkipHandler:
                continue
        return UNHANDLED


def press_routes(routers: list[Router]) -> Routes:
    def key(query: CallbackQuery) -> Hashable:
        return press_key(query.data or "")

    return Routes(routers, "callback_query", press_keys, key)


def message_routes(routers: list[Router]) -> Routes:
    return Routes(routers, "message", command_keys, command_word)
