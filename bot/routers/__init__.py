"""One router per feature; ``bot.app.build_dispatcher`` includes them in an explicit order,
with ``fallback`` last.

Each module declares its handlers on a ``Handlers`` collector and every dispatcher gets fresh
``Router`` objects from it: aiogram lets a router belong to one parent only, and a process may
build several dispatchers (tests, a restart in place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import Router

F = TypeVar("F", bound=Callable[..., Any])
_KINDS = ("message", "callback_query", "pre_checkout_query", "errors")


class Handlers:
    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[tuple[str, tuple[Any, ...], Callable[..., Any]]] = []

    def _collect(self, kind: str, filters: tuple[Any, ...]) -> Callable[[F], F]:
        def register(handler: F) -> F:
            self._registered.append((kind, filters, handler))
            return handler

        return register

    def message(self, *filters: Any) -> Callable[[F], F]:
        return self._collect("message", filters)

    def callback_query(self, *filters: Any) -> Callable[[F], F]:
        return self._collect("callback_query", filters)

    def pre_checkout_query(self, *filters: Any) -> Callable[[F], F]:
        return self._collect("pre_checkout_query", filters)

    def errors(self, *filters: Any) -> Callable[[F], F]:
        return self._collect("errors", filters)

    def build(self) -> Router:
        router = Router(name=self.name)
        for kind, filters, handler in self._registered:
            getattr(router, kind).register(handler, *filters)
        return router
