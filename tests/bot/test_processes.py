"""Two bot processes over one database (webhook mode behind a load balancer): a double click
split between them still holds once, because the step is claimed in the database."""

from __future__ import annotations

import asyncio

import pytest

from booking.context import Context
from bot.routers import checkout
from bot.runner import BotRole
from tests.bot import db
from tests.bot.conftest import Desk, bot_settings, linked_customer
from tests.builders import make_catalog
from tests.support.fake_bot_api import FakeBotAPI

ANA = 1001


async def split_double_click(desk: Desk, fake_bot_api: FakeBotAPI, ctx: Context) -> None:
    """The summary's "Hold" pressed twice, each click handled by another process."""
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")
    summary = (await ana.press("2")).screen
    assert summary is not None
    hold = next(data for label, data in summary.buttons() if label.startswith("Hold until"))
    await desk.stop()  # from here on, two webhook processes behind one address
    webhook = bot_settings(fake_bot_api, mode="webhook")
    first, second = BotRole(ctx, webhook), BotRole(ctx, webhook)  # each its own lock and Bot
    try:
        clicks = [
            fake_bot_api.press_button(ANA, ana.message_id(summary), hold, enqueue=False)
            for _ in range(2)
        ]
        await asyncio.gather(
            first.dispatcher.feed_raw_update(first.bot, clicks[0]),
            second.dispatcher.feed_raw_update(second.bot, clicks[1]),
        )
    finally:
        await first.close()
        await second.close()
        await desk.start()  # the fixture stops it at the end


async def test_a_double_click_split_between_two_processes_holds_once(
    sqlite_desk: Desk, fake_bot_api: FakeBotAPI, sqlite_ctx: Context
) -> None:
    await split_double_click(sqlite_desk, fake_bot_api, sqlite_ctx)

    assert len(await db.references(sqlite_ctx)) == 1
    assert await db.remaining(sqlite_ctx, 1, 1) == 98


async def test_without_the_claim_the_same_split_click_holds_twice(
    sqlite_desk: Desk,
    fake_bot_api: FakeBotAPI,
    sqlite_ctx: Context,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race is real: remove the compare-and-set and both processes hold."""

    async def always(*args: object) -> bool:
        return True

    monkeypatch.setattr(checkout, "claim", always)
    await split_double_click(sqlite_desk, fake_bot_api, sqlite_ctx)

    assert len(await db.references(sqlite_ctx)) == 2
