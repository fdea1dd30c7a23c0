"""``/START``, ``/Events``, ``/MYBOOKINGS@GuichetBot``: the command word in lowercase before
any router sees it, so every command of every router answers in any case.

One outer middleware on the dispatcher's messages instead of ``ignore_case`` on each Command
filter: the filters live in many routers, and a new one would forget. Only the command word
changes: a deep-link payload (``/START <payload>``) is signed and case-sensitive, and the
mention is compared without case by aiogram already. Telegram commands are ASCII letters,
digits and underscores, so lowercasing keeps the text's length and its entities' offsets.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

COMMAND = re.compile(r"/[A-Za-z0-9_]+")


def lowered(text: str) -> str:
    """``text`` with its leading command word in lowercase (the rest untouched)."""
    found = COMMAND.match(text)
    if found is None:
        return text
    return found.group().lower() + text[found.end() :]


class CommandCase(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.text:
            text = lowered(event.text)
            if text != event.text:  # aiogram's objects are frozen: a copy with the new text
                event = event.model_copy(update={"text": text})
        return await handler(event, data)
