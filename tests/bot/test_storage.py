"""Conversation state: SQL by default, Redis when configured; both take a step only once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from booking.context import Context
from bot.redis_storage import GuichetRedisStorage
from bot.states import StepStorage, Wizard
from bot.storage import KEYS, SqlStorage, build_storage
from tests.bot.conftest import Desk, bot_settings, linked_customer, running
from tests.builders import make_catalog
from tests.support.fake_bot_api import FakeBotAPI
from tests.support.fixtures import require_service

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied of our keys per test
KEY = StorageKey(bot_id=123456789, chat_id=77, user_id=77)


async def redis_up() -> bool:
    client = aioredis.from_url(REDIS_URL)
    try:
        return bool(await client.ping())
    except OSError:
        return False
    finally:
        await client.aclose()


async def forget_our_keys() -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter("guichet:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=["sql", "redis"])
async def storage(
    request: pytest.FixtureRequest, sqlite_ctx: Context
) -> AsyncIterator[BaseStorage]:
    if request.param == "sql":
        yield SqlStorage(sqlite_ctx)
        return
    require_service(await redis_up(), f"Redis is not reachable at {REDIS_URL}")
    await forget_our_keys()
    made, _isolation = build_storage(sqlite_ctx, REDIS_URL)
    assert isinstance(made, GuichetRedisStorage)
    yield made
    await made.close()


async def test_state_and_data_round_trip_and_a_step_is_taken_once(storage: BaseStorage) -> None:
    assert isinstance(storage, StepStorage)
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (None, {})
    await storage.put(KEY, Wizard.summary.state, {"tariff": 3, "seats": [1, 2]})
    assert await storage.get_state(KEY) == Wizard.summary.state
    assert await storage.get_data(KEY) == {"tariff": 3, "seats": [1, 2]}

    wins = await asyncio.gather(
        *(storage.advance(KEY, Wizard.summary.state or "", Wizard.email.state) for _ in range(5))
    )
    assert sorted(wins) == [False] * 4 + [True]
    assert await storage.get_state(KEY) == Wizard.email.state
    assert await storage.get_data(KEY) == {"tariff": 3, "seats": [1, 2]}  # untouched

    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {"event": 1})
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (None, {"event": 1})
    await storage.put(KEY, None, {})
    assert (await storage.get_state(KEY), await storage.get_data(KEY)) == (None, {})


def test_keys_carry_the_bot_so_a_new_token_starts_new_conversations() -> None:
    assert KEYS.build(KEY) == "guichet:123456789:77:77"


async def test_a_restart_mid_wizard_resumes_with_redis_too(
    fake_bot_api: FakeBotAPI, sqlite_ctx: Context
) -> None:
    require_service(await redis_up(), f"Redis is not reachable at {REDIS_URL}")
    await forget_our_keys()
    await make_catalog(sqlite_ctx)
    await linked_customer(sqlite_ctx, 1001)
    settings = bot_settings(fake_bot_api, redis_url=REDIS_URL)
    async with running(Desk(fake_bot_api, sqlite_ctx, settings)) as desk:
        ana = desk.person(1001)
        await ana.send("/events")
        await ana.press("Wed 23 Dec")
        await ana.press("Standing")
        screen = ana.screen
        await desk.restart()
        reply = await ana.press("4", on=screen)
        assert "4 × Standing (Floor)" in reply.text
        reply = await ana.press("Hold until")
        assert "Done! Your places are held" in reply.text


async def test_concurrent_saves_share_commits_and_all_land(sqlite_ctx: Context) -> None:
    from sqlalchemy import event

    storage = SqlStorage(sqlite_ctx)
    commits = []
    engine = sqlite_ctx.db.engine.sync_engine
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        keys = [StorageKey(bot_id=1, chat_id=n, user_id=n) for n in range(20)]
        await asyncio.gather(*(storage.put(k, "Wizard:date", {"event": k.user_id}) for k in keys))
    finally:
        event.remove(engine, "commit", listener)
    await storage.close()

    assert len(commits) < 5  # one for the first save, one or two for those that queued behind
    fresh = SqlStorage(sqlite_ctx)
    assert [await fresh.get_data(k) for k in keys] == [{"event": n} for n in range(20)]
