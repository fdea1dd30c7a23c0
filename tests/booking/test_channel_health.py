"""One outage, one warning, whichever worker sees it (issue 10, point 5).

The episode is a row in the shared settings table: the worker whose failure inserts it logs
the WARNING, every other failure (same worker or another process) finds it there and says
nothing, and the first delivery that goes through on that channel deletes it. So two workers,
or a worker restarted in the middle of an outage, still give one warning and a /healthz that
clears when mail flows again."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from booking.clock import FrozenClock
from booking.context import Context
from booking.outbox import RetryLater, deliver_due
from booking.services import health
from booking.views import OutboxView
from tests.builders import make_catalog, make_customer, make_held_booking


class Channel:
    """A channel at our boundary: out (an outage) until told it is back."""

    def __init__(self) -> None:
        self.out = True
        self.delivered: list[int] = []

    async def deliver(self, message: OutboxView) -> None:
        if self.out:
            raise RetryLater("SMTP server unavailable: ConnectionRefusedError", outage=True)
        self.delivered.append(message.id)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_two_workers_in_one_outage_warn_once_and_either_ends_it(
    ctx: Context, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    cat = await make_catalog(ctx)
    for i in range(4):
        customer = await make_customer(ctx, email=f"w{i}@example.org", name=f"W {i}")
        await make_held_booking(ctx, cat, customer, channel="email")
    # A second worker process: its own context (and pool) on the same database.
    other = Context.create(ctx.settings, clock=clock)
    email = Channel()
    ctx.channels["email"] = other.channels["email"] = email
    caplog.set_level(logging.INFO, logger="booking.outbox")
    try:
        await deliver_due(ctx, limit=2, owner="worker-a")
        await deliver_due(other, limit=2, owner="worker-b")
        clock.advance(timedelta(minutes=5))
        await deliver_due(other, limit=2, owner="worker-b")
        assert len(warnings(caplog)) == 1
        [trouble] = await health.channel_troubles(ctx)
        assert (trouble.channel, trouble.role) == ("email", "mail")
        assert trouble.describe().startswith("degraded: SMTP server unavailable")

        email.out = False  # back; the worker that did not begin the episode ends it
        clock.advance(timedelta(minutes=5))
        assert (await deliver_due(other, owner="worker-b")).sent == 4
        assert await health.channel_troubles(ctx) == []
        assert len(warnings(caplog)) == 1
    finally:
        await other.close()


async def test_a_new_outage_after_recovery_warns_again(
    ctx: Context, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    cat = await make_catalog(ctx)
    email = Channel()
    ctx.channels["email"] = email
    caplog.set_level(logging.WARNING, logger="booking.outbox")
    for episode in range(2):
        customer = await make_customer(ctx, email=f"e{episode}@example.org", name=f"E {episode}")
        await make_held_booking(ctx, cat, customer, channel="email")
        email.out = True
        await deliver_due(ctx)
        email.out = False
        clock.advance(timedelta(minutes=5))
        assert (await deliver_due(ctx)).sent == 1
    assert len(warnings(caplog)) == 2  # two episodes, two warnings
