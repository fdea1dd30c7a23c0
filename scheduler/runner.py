"""Runs the job table on an AsyncIOScheduler until asked to stop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from booking.context import Context
from scheduler.jobs import JOBS, Job

log = logging.getLogger(__name__)


def build_scheduler(ctx: Context, jobs: tuple[Job, ...] = JOBS) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs:
        scheduler.add_job(
            _guarded(job, ctx),
            "interval",
            seconds=job.every_seconds,
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),  # first run at start
        )
    return scheduler


def _guarded(job: Job, ctx: Context):  # type: ignore[no-untyped-def]
    async def run() -> None:
        try:
            result = await job.run(ctx)
        except Exception:  # one failing run must not stop the schedule; the next run retries
            log.exception("job %s failed", job.name)
            return
        log.debug("job %s: %s", job.name, result)

    return run


async def run_worker(ctx: Context, stop: asyncio.Event) -> None:
    """Run the jobs (each once at start, then on its interval) until ``stop`` is set."""
    scheduler = build_scheduler(ctx)
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
