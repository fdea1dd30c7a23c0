"""Webhook mode: setWebhook on start, the secret header checked before anything is read."""

from __future__ import annotations

import httpx

from booking.context import Context
from bot.settings import derive_webhook_secret
from tests.bot.conftest import Desk, bot_settings, running
from tests.support.fake_bot_api import FakeBotAPI

ANA = 1001


async def test_the_webhook_is_registered_with_a_secret_derived_from_the_secret_key(
    webhook_desk: Desk, fake_bot_api: FakeBotAPI
) -> None:
    desk = webhook_desk
    (call,) = [c for c in fake_bot_api.calls if c.method == "setWebhook"]
    assert call.params["url"] == f"{desk.settings.public_url}/telegram/webhook"
    assert call.params["secret_token"] == derive_webhook_secret("test-secret")
    assert sorted(call.params["allowed_updates"]) == [
        "callback_query",
        "message",
        "pre_checkout_query",
    ]
    assert not any(c.method in ("getUpdates", "deleteWebhook") for c in fake_bot_api.calls)

    reply = await desk.person(ANA).send("/help")
    assert "Here is what I can do" in reply.text


async def test_calls_without_the_secret_or_with_garbage_are_refused(
    webhook_desk: Desk, fake_bot_api: FakeBotAPI
) -> None:
    url = fake_bot_api.webhook_url
    update = fake_bot_api.send_text(ANA, "/help", enqueue=False)
    assert await fake_bot_api.deliver_via_webhook(url, update) == 401
    assert await fake_bot_api.deliver_via_webhook(url, update, "forged") == 401
    secret = {"X-Telegram-Bot-Api-Secret-Token": fake_bot_api.webhook_secret or ""}
    async with httpx.AsyncClient(verify=False) as client:
        assert (await client.post(url, content=b"{not json", headers=secret)).status_code == 400
        assert (await client.post(url, json=[1, 2], headers=secret)).status_code == 400
        assert (await client.get(url, headers=secret)).status_code == 405
        # Valid JSON that is no update is logged and dropped, not retried forever.
        assert (await client.post(url, json={"update_id": "x"}, headers=secret)).status_code == 200
    assert fake_bot_api.sent_messages(ANA) == []


async def test_an_explicit_webhook_secret_wins(
    fake_bot_api: FakeBotAPI, sqlite_ctx: Context
) -> None:
    settings = bot_settings(fake_bot_api, mode="webhook", webhook_secret="my-own-secret_123")
    async with running(Desk(fake_bot_api, sqlite_ctx, settings)):
        (call,) = [c for c in fake_bot_api.calls if c.method == "setWebhook"]
        assert call.params["secret_token"] == "my-own-secret_123"
