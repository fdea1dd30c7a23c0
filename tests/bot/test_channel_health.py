"""A Bot API outage (5xx) is said once and shows in /healthz until Telegram answers again
(issue 10, point 5); the bot token never appears in what is logged or reported."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest

from booking.services import customers, holds
from booking.services.holds import Line
from console.web.app import build_app
from tests.bot.conftest import Desk, linked_customer
from tests.builders import STAFF, make_catalog
from tests.support.fake_bot_api import TOKEN

ROLES = {"bot": "running", "web": "running", "worker": "running"}


async def health(desk: Desk) -> dict[str, object]:
    app = build_app(desk.ctx, ROLES)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def a_hold(desk: Desk, user_id: int) -> None:
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=user_id)
    assert customer is not None
    await holds.hold(
        desk.ctx, actor=STAFF, customer_id=customer.id, performance_id=1, lines=[Line(1, 1)]
    )


async def test_a_bot_api_outage_is_one_warning_and_degraded_health_until_it_answers(
    sqlite_desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    for user_id in (1001, 1002):
        await linked_customer(desk.ctx, user_id, email=f"u{user_id}@example.org")
        await a_hold(desk, user_id)
    caplog.set_level(logging.INFO)
    for _ in range(2):  # two runs, two messages each, every call answered 502
        desk.fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
        report, _ = await desk.deliver()
        assert (report.sent, report.retried) == (0, 2)
        desk.ctx.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "telegram" in warnings[0].getMessage().lower()
    body = await health(desk)
    roles = body["roles"]
    assert body["status"] == "degraded"
    assert isinstance(roles, dict) and roles["bot"].startswith("degraded: Telegram unavailable")
    assert TOKEN not in caplog.text and TOKEN not in str(body)

    report, sent = await desk.deliver()  # Telegram answers again
    assert report.sent == 2 and len(sent.of("sendMessage")) == 2
    body = await health(desk)
    assert body["status"] == "ok" and body["roles"] == ROLES
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


async def test_a_rate_limit_is_not_an_outage(
    sqlite_desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001)
    await a_hold(desk, 1001)
    desk.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    caplog.set_level(logging.WARNING)
    report, _ = await desk.deliver()
    assert report.retried == 1
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert (await health(desk))["status"] == "ok"
