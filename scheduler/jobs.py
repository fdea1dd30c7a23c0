"""Every scheduled job, in one table. Each is idempotent and safe in two processes at once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from booking import outbox
from booking.context import Context
from booking.services import releases, reminders, renewals, resale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Context], Awaitable[Any]]
    why: str


async def release_due_holds(ctx: Context) -> releases.SweepReport:
    return await releases.release_due(ctx)


async def plan_reminders(ctx: Context) -> int:
    return await reminders.plan_reminders(ctx)


async def deliver_outbox(ctx: Context) -> outbox.DeliveryReport:
    return await outbox.deliver_due(ctx)


async def remind_renewals(ctx: Context) -> int:
    return await renewals.remind_due(ctx)


async def close_renewals(ctx: Context) -> int:
    return await renewals.close_due(ctx)


async def close_started_resale(ctx: Context) -> int:
    return await resale.close_started(ctx)


JOBS: tuple[Job, ...] = (
    Job(
        "release-due-holds",
        60,
        release_due_holds,
        "expire (firm) or mark overdue (flexible) holds past their deadline",
    ),
    Job(
        "plan-reminders",
        60,
        plan_reminders,
        "queue the reminders due before each deadline (3 days, 24 hours by default)",
    ),
    Job(
        "deliver-outbox",
        5,
        deliver_outbox,
        "send queued notices through Telegram and email, with retries",
    ),
    Job(
        "remind-renewals",
        300,
        remind_renewals,
        "remind pass holders still invited to renew, on each reminder day before the close",
    ),
    Job(
        "close-renewals",
        60,
        close_renewals,
        "close renewal campaigns whose window ended: kept seats back on sale",
    ),
    Job(
        "close-resale",
        60,
        close_started_resale,
        "close the resale listings of performances that began, and tell their sellers",
    ),
)
