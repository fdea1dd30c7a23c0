"""Conversation state that survives a restart and is shared by every bot process.

SQL through core services by default (``steps`` saves, ``profiles.chat_start`` reads a
conversation with the customer of the chat); aiogram's RedisStorage when GUICHET_REDIS_URL is
set (``bot.redis_storage``, imported only then: ``redis`` is an optional extra). Both add
``put`` (step and data in one write) and ``advance`` (a compare-and-set on the step, so a double
click acts once even across processes).
"""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from collections.abc import AsyncGenerator, Iterator, Mapping, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    StateType,
    StorageKey,
)

from booking.context import Context
from booking.services import profiles, steps
from booking.views import CustomerView

# The bot id is part of the key: a new token (a new bot) starts new conversations.
KEYS = DefaultKeyBuilder(prefix="guichet", with_bot_id=True)
# A conversation left for a month starts over; the SQL rows are simply overwritten later.
REDIS_TTL = timedelta(days=30)


def _state(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


Row = tuple[str | None, dict[str, Any]]
# What the current update has read or written of its conversations. Each update starts with an
# empty view (``update_scope``, entered by the dispatcher), so reads are fresh per update and
# shared by several processes, yet the step and the data cost one read, not two.
_seen: ContextVar[dict[str, Row] | None] = ContextVar("guichet_conversations", default=None)
# The customer read together with a conversation (one transaction for both), for the
# customer middleware of the same update: user id -> (customer, stale).
_customers: ContextVar[dict[int, tuple[CustomerView | None, bool]] | None] = ContextVar(
    "guichet_customers", default=None
)
REMEMBERED = 50_000  # conversations a polling process keeps in memory (least recent go first)


@contextmanager
def update_scope() -> Iterator[None]:
    seen, customers = _seen.set({}), _customers.set({})
    try:
        yield
    finally:
        _seen.reset(seen)
        _customers.reset(customers)


def customer_read_with_conversation(user_id: int) -> tuple[CustomerView | None, bool] | None:
    """The customer (and whether their chat needs fixing) if this update read it already."""
    found = _customers.get()
    return found.get(user_id) if found is not None else None


class SqlStorage(BaseStorage):
    """Conversations in the database, through booking.services.steps and profiles.

    ``sole_reader``: this process is the only one handling this bot's updates (long polling:
    Telegram hands updates to one poller only), so what it wrote is what is stored and it may
    remember conversations between updates instead of reading them again. Otherwise (webhook
    mode, possibly several processes) each update reads afresh. Either way every change is
    written before the bot answers, and saves from concurrent updates share one commit.
    """

    def __init__(self, ctx: Context, *, sole_reader: bool = False) -> None:
        self.ctx = ctx
        self._memory: OrderedDict[str, Row] | None = OrderedDict() if sole_reader else None
        self._saver = GroupCommit(ctx)

    def _view(self) -> MutableMapping[str, Row] | None:
        return self._memory if self._memory is not None else _seen.get()

    async def _row(self, key: StorageKey) -> Row:
        name, view = KEYS.build(key), self._view()
        if view is not None and name in view:
            state, data = view[name]
        else:
            start = await profiles.chat_start(
                self.ctx,
                telegram_user_id=key.user_id,
                chat_id=key.chat_id,
                conversation_key=name,
            )
            state, data = start.state, start.data
            self._keep(name, state, data)
            customers = _customers.get()
            if customers is not None:
                customers[key.user_id] = (start.customer, start.stale)
        return state, copy.deepcopy(data)  # a handler may change what it was given

    def _keep(self, name: str, state: str | None, data: dict[str, Any]) -> None:
        view = self._view()
        if view is None:
            return
        view[name] = (state, copy.deepcopy(data))
        if self._memory is not None:
            self._memory.move_to_end(name)
            while len(self._memory) > REMEMBERED:
                self._memory.popitem(last=False)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(key))[0]

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return (await self._row(key))[1]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self.put(key, _state(state), (await self._row(key))[1])

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.put(key, (await self._row(key))[0], dict(data))

    async def put(self, key: StorageKey, state: str | None, data: dict[str, Any]) -> None:
        name = KEYS.build(key)
        await self._saver.save(name, state, data)
        self._keep(name, state, data)

    async def advance(self, key: StorageKey, expected: str, to: str | None) -> bool:
        if self._memory is not None:
            # The sole reader, holding this conversation's lock (LocalEventIsolation): what
            # it remembers is what is stored, so the check needs no compare-and-set.
            state, data = await self._row(key)
            if state != expected:
                return False
            await self.put(key, to, data)
            return True
        name = KEYS.build(key)
        moved = await steps.advance(self.ctx, key=name, expected=expected, to=to)
        seen = _seen.get()
        if seen is not None and name in seen:
            if moved:
                seen[name] = (to, seen[name][1])
            else:
                del seen[name]  # someone else moved it: read it again if asked
        return moved

    async def close(self) -> None:
        await self._saver.drain()  # the database itself belongs to the context


class GroupCommit:
    """Saves that arrive while a commit is running wait for the next one, together.

    Under load the bot saves a step on nearly every update; one transaction per save would
    make SQLite's single writer the bottleneck. Each caller still waits until its own save is
    committed (so the step is stored before the bot answers), and a failed commit fails every
    save in it.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._pending: list[tuple[str, str | None, dict[str, Any]]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._running: asyncio.Task[None] | None = None

    async def save(self, key: str, state: str | None, data: dict[str, Any]) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._pending.append((key, state, copy.deepcopy(data)))
        self._waiters.append(waiter)
        if self._running is None:
            self._running = asyncio.create_task(self._commit_all())
        await waiter

    async def drain(self) -> None:
        """Wait for the saves already asked for (at shutdown)."""
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    async def _commit_all(self) -> None:
        try:
            while self._pending:
                batch, waiters = self._pending, self._waiters
                self._pending, self._waiters = [], []
                try:
                    await steps.save_many(self.ctx, batch)
                except Exception as exc:  # every save of the batch hears why
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._running = None


class LocalEventIsolation(BaseEventIsolation):
    """One update at a time per conversation in this process (aiogram's SimpleEventIsolation
    keeps one lock per user forever; this forgets a lock when nobody waits on it)."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def close(self) -> None:
        self._locks.clear()


def build_storage(
    ctx: Context, redis_url: str = "", *, sole_reader: bool = False
) -> tuple[BaseStorage, BaseEventIsolation]:
    """SQL storage with in-process isolation, or Redis for both (isolation across processes).
    ``sole_reader``: see SqlStorage (true in polling mode)."""
    if not redis_url:
        return SqlStorage(ctx, sole_reader=sole_reader), LocalEventIsolation()
    # Imported only when configured: ``redis`` is an optional extra (pip install -e '.[redis]').
    from bot.redis_storage import build_redis_storage

    return build_redis_storage(redis_url)
