"""Button presses and commands looked up, not walked (issue 11, "Speed"; bot/direct_routes.py).

Counting the filters run per update keeps aiogram's walk through every router from coming
back; the equivalence tests show that the lookup picks, for every button payload and command
the bot knows (and some it does not) in every conversation step, the handler aiogram's own
walk would have picked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Chat, Message, User

from booking.context import Context
from bot.app import GuichetDispatcher, build_dispatcher
from bot.callbacks import Pressed
from bot.direct_routes import Routes, press_routes
from bot.settings import BotSettings
from bot.states import Cancelling, Extending, Linking, Wizard, WizardTyping
from tests.bot.conftest import Desk, linked_customer
from tests.builders import make_catalog


@contextmanager
def filter_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every handler filter aiogram runs, by its callback (the state and press filters...)."""
    seen: list[Any] = []
    original = FilterObject.call

    async def counted(self: FilterObject, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.callback)
        return await original(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(FilterObject, "call", counted)
        yield seen


async def press_a_date(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001)
    ana = desk.person(1001)
    await ana.send("/events")
    assert ana.screen is not None
    date = next(data for _, data in ana.screen.buttons() if data.startswith("w:date:"))
    with filter_calls(monkeypatch) as seen:
        reply = await ana.press_data(date)
    assert reply.of("answerCallbackQuery"), "the press was handled"
    assert "Standing" in reply.text  # the ticket types of that date: the date handler ran
    return seen


async def test_a_press_runs_only_the_filters_of_the_handler_that_owns_it(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = await press_a_date(sqlite_desk, monkeypatch)
    assert len(seen) == 1, seen  # the date handler's own press filter, nothing else
    assert isinstance(seen[0], Pressed) and ("w", "date") in seen[0].keys


async def test_without_the_lookup_aiogram_tries_every_router_before_the_owner(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sqlite_desk.role is not None
    dispatcher = sqlite_desk.role.dispatcher
    assert isinstance(dispatcher, GuichetDispatcher)
    monkeypatch.setattr(dispatcher, "direct", None)  # aiogram's own walk
    seen = await press_a_date(sqlite_desk, monkeypatch)
    # The same press: the press filters of the routers before /events' said no first.
    assert len(seen) > 5, seen


async def test_a_command_skips_the_command_filters_of_other_commands(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_catalog(sqlite_desk.ctx)
    await linked_customer(sqlite_desk.ctx, 1001)
    ana = sqlite_desk.person(1001)
    assert sqlite_desk.role is not None
    dispatcher = sqlite_desk.role.dispatcher
    counts: list[int] = []
    for direct in (True, False):
        if not direct:
            monkeypatch.setattr(dispatcher, "direct", None)  # aiogram's own walk
        with filter_calls(monkeypatch) as seen:
            reply = await ana.send("/events")
        assert reply.of("sendMessage"), reply.calls  # the list of events
        commands = [f for f in seen if isinstance(f, Command)]
        counts.append(len(commands))
    assert counts[0] == 1, counts  # /events' own filter only
    assert counts[1] > 3, counts  # /start, /help, /language… said no first


# -- the lookup picks what aiogram would ---------------------------------------------------------

USER = User(id=1, is_bot=False, first_name="Ada")

STEPS = (Wizard, WizardTyping, Linking, Cancelling, Extending)
STATES: tuple[str | None, ...] = (
    None,
    "some:other_step",
    *(str(step.state) for group in STEPS for step in group.__all_states__),
)


def payloads(routes: list[Router]) -> set[str]:
    """A valid payload for every (prefix, action) a press filter knows, the same with a bad
    field, and payloads nobody owns."""
    found = {"", "zz", "w", "w:", "w:nosuch:1", "q:date:1", "m:events:x:y"}
    for router in routes:
        for handler in router.observers["callback_query"].handlers:
            for f in handler.filters or ():
                if isinstance(f.callback, Pressed):
                    for prefix, action in f.callback.keys:
                        found |= {f"{prefix}:{action}:7", f"{prefix}:{action}:AB12CD"}
                        found |= {f"{prefix}:{action}", f"{prefix}:{action}:notanumber"}
    return found


async def aiogram_pick(routers: list[Router], kind: str, event: Any, **data: Any) -> Any:
    """The handler aiogram's walk would call: the first, in router order, whose filters pass."""
    for router in routers:
        for handler in router.observers[kind].handlers:
            if (await handler.check(event, **data))[0]:
                return handler
    return None


async def lookup_pick(routes: Routes, event: Any, **data: Any) -> Any:
    for _, handler in routes.candidates(event):
        if (await handler.check(event, **data))[0]:
            return handler
    return None


def dispatcher_of(ctx: Context) -> GuichetDispatcher:
    dispatcher = build_dispatcher(ctx, BotSettings(bot_token="1:x", _env_file=None))
    assert isinstance(dispatcher, GuichetDispatcher) and dispatcher.direct is not None
    return dispatcher


async def test_the_lookup_picks_the_handler_aiogram_would_for_every_payload_and_step(
    sqlite_ctx: Context,
) -> None:
    dispatcher = dispatcher_of(sqlite_ctx)
    assert dispatcher.direct is not None
    routers = list(dispatcher.sub_routers)
    compared = 0
    for data in sorted(payloads(routers)):
        query = CallbackQuery(id="1", from_user=USER, chat_instance="c", data=data)
        for state in STATES:
            want = await aiogram_pick(routers, "callback_query", query, raw_state=state)
            got = await lookup_pick(dispatcher.direct["callback_query"], query, raw_state=state)
            assert got is want, (data, state, want, got)
            compared += 1
    assert compared > 500  # every handler's payloads, in every step


def texts(routers: list[Router]) -> set[str]:
    """Every command a Command filter knows, in three spellings and with an argument, and
    messages that are no command of ours."""
    found = {"hello", "/", "/nosuch", "/nosuch arg", "ABC-123", " /events", "a@b.example"}
    for router in routers:
        for handler in router.observers["message"].handlers:
            for f in handler.filters or ():
                if isinstance(f.callback, Command):
                    for word in f.callback.commands:
                        assert isinstance(word, str)
                        found |= {f"/{word}", f"/{word.upper()}", f"/{word} x1", f"/{word}x"}
    return found


async def test_the_lookup_picks_the_handler_aiogram_would_for_every_command_and_step(
    sqlite_ctx: Context,
) -> None:
    dispatcher = dispatcher_of(sqlite_ctx)
    assert dispatcher.direct is not None
    routers = list(dispatcher.sub_routers)
    bot = Bot("1:x")  # Command filters take it; nothing here mentions the bot, so no call
    compared = 0
    try:
        for text in sorted(texts(routers)):
            message = Message(
                message_id=1,
                date=datetime(2026, 1, 1, tzinfo=UTC),
                chat=Chat(id=1, type="private"),
                from_user=USER,
                text=text,
            )
            for state in STATES:
                data = {"raw_state": state, "bot": bot}
                want = await aiogram_pick(routers, "message", message, **data)
                got = await lookup_pick(dispatcher.direct["message"], message, **data)
                assert got is want, (text, state, want, got)
                compared += 1
    finally:
        await bot.session.close()
    assert compared > 300


def test_a_router_with_press_middleware_is_refused() -> None:
    """The lookup would skip it silently, so it is not allowed to exist."""
    router = Router(name="middle")
    router.callback_query.middleware(lambda handler, event, data: handler(event, data))
    with pytest.raises(ValueError, match="middlewares"):
        press_routes([router])
