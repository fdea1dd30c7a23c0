"""The worker runs the job table: due holds are released, reminders planned, notices delivered."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from booking.context import Context
from booking.services import bookings
from booking.views import OutboxView
from scheduler.jobs import JOBS
from scheduler.runner import build_scheduler, run_worker
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking


class Recorder:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def deliver(self, message: OutboxView) -> None:
        self.kinds.append(message.kind)


def test_the_job_table_names_each_job_once_with_a_reason() -> None:
    names = [job.name for job in JOBS]
    assert names == [
        "release-due-holds",
        "plan-reminders",
        "deliver-outbox",
        "remind-renewals",
        "close-renewals",
        "close-resale",
    ]
    assert all(job.why and job.every_seconds > 0 for job in JOBS)


async def test_scheduler_registers_every_job_single_instance(ctx: Context) -> None:
    scheduler = build_scheduler(ctx)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {job.name for job in JOBS}
    assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())


async def test_worker_expires_a_due_hold_and_delivers_the_notice(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = await make_held_booking(ctx, cat, ana, channel="email")
    recorder = Recorder()
    ctx.channels["email"] = recorder
    ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(ctx, stop))
    try:
        for _ in range(200):  # at most 20 s
            view = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
            if view.status == "expired" and "booking_expired" in recorder.kinds:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
    assert view.status == "expired"
    assert "booking_expired" in recorder.kinds
