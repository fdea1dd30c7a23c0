"""`guichet serve` runs the bot role when GUICHET_BOT_TOKEN is set: in a subprocess, as an
operator starts it, against the fake Bot API server of this test."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import holds
from booking.services.holds import Line
from booking.settings import CoreSettings
from bot.runner import role_status
from tests import databases
from tests.bot.conftest import bot_settings, linked_customer
from tests.builders import STAFF, make_catalog
from tests.conftest import NOW
from tests.support.fake_bot_api import TOKEN, FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]
USER = 1001


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve(url: str, fake: FakeBotAPI, *roles: str, **env: str) -> AsyncIterator[list[str]]:
    """``guichet serve --role …`` until the block ends; then SIGINT and a clean exit."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")} | {
        "GUICHET_DATABASE_URL": url,
        "GUICHET_SECRET_KEY": "serve-test-secret",
        "GUICHET_BOT_TOKEN": TOKEN,
        "GUICHET_BOT_API_URL": fake.base_url,
        **env,
    }
    args = [a for role in roles for a in ("--role", role)]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.cli",
        "serve",
        *args,
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    logs: list[str] = []
    try:
        yield logs
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
        logs += err.decode().splitlines()
    assert process.returncode == 0, "\n".join(logs)
    assert any("stopped cleanly" in line for line in logs)


async def test_serve_runs_the_bot_behind_the_web_role_and_the_worker_sends_through_it(
    fake_bot_api: FakeBotAPI, sqlite_template: Path, tmp_path: Path
) -> None:
    """One process, every role: the webhook route is mounted in the web app, and the worker
    delivers a pending notice through the Telegram channel."""
    url = databases.sqlite_copy(sqlite_template, tmp_path / "serve.db")
    settings = CoreSettings(database_url=url, secret_key="x", _env_file=None)  # type: ignore[call-arg]
    ctx = Context.create(settings, clock=FrozenClock(NOW))
    cat = await make_catalog(ctx, starts_in=timedelta(days=60))
    ana = await linked_customer(ctx, USER)
    booking = await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 2)],
    )
    await ctx.close()
    port = free_port()

    async with serve(
        url,
        fake_bot_api,
        "bot",
        "web",
        "worker",
        GUICHET_BOT_MODE="webhook",
        GUICHET_WEB_PORT=str(port),
        GUICHET_PUBLIC_URL=f"http://127.0.0.1:{port}",
    ) as logs:
        notice = await fake_bot_api.wait_for(
            lambda c: c.method == "sendMessage" and "is held until" in (c.text or ""), timeout=60
        )
        assert booking.reference in (notice.text or "")
        await fake_bot_api.wait_for(lambda c: c.method == "setWebhook", timeout=30)
        assert fake_bot_api.webhook_url == f"http://127.0.0.1:{port}/telegram/webhook"
        update = fake_bot_api.send_text(USER, "/help")
        assert await fake_bot_api.wait_delivered(update["update_id"], timeout=15) == 200
        assert "Here is what I can do" in (fake_bot_api.last_text(USER) or "")
    assert any("role bot    running" in line for line in logs)


def test_the_role_says_why_it_is_off_when_webhook_mode_has_no_web_role(
    fake_bot_api: FakeBotAPI,
) -> None:
    polling = bot_settings(fake_bot_api)
    webhook = bot_settings(fake_bot_api, mode="webhook")
    assert role_status(polling, web=False) == "running"
    assert role_status(webhook, web=True) == "running"
    assert role_status(webhook, web=False).startswith("off: in webhook mode updates arrive")
    cloud = bot_settings(fake_bot_api, mode="webhook", bot_api_url="")
    assert role_status(cloud, web=True).startswith("off: Telegram only calls https://")
    public = bot_settings(
        fake_bot_api, mode="webhook", bot_api_url="", public_url="https://tickets.example.org"
    )
    assert role_status(public, web=True) == "running"
