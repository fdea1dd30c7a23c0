"""One reminder worker in its own process, started by ``test_workers.py``.

    python -m tests.concurrency.reminder_worker URL NOW OUT MODE

It builds a Context on the database at URL with a FrozenClock at NOW (an ISO timestamp: a
frozen clock cannot cross processes), prints ``ready``, and waits for one line on stdin so
that the test can start two workers at the same moment. Then it runs MODE:

- ``outbox``: the real jobs, ``plan_reminders`` and ``deliver_due``, until nothing is left.
- ``no-lease`` (unguarded): plans with the real job, then reads the pending messages and
  delivers each one, marking it sent afterwards, without claiming a lease first.
- ``no-dedupe`` (unguarded): checks with a SELECT which reminders are not queued yet and
  queues them under a key of its own (no shared dedupe key), then delivers with the real job.
  Between the check and the insert it prints ``checked`` and waits for another line: the test
  holds that window open until both workers have checked (see the test's docstring).

The recording channel is a fake at our own boundary: it appends one line per delivered message,
``<outbox id> <kind> <booking id> <pid>``, to OUT, with O_APPEND so the processes' lines never
mix.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import outbox, views
from booking.clock import FrozenClock
from booking.context import Context
from booking.db import Database
from booking.rules import states
from booking.rules.deadlines import due_reminder, parse_offsets
from booking.services.reminders import plan_reminders
from booking.settings import CoreSettings
from booking.tables.bookings import Booking
from booking.tables.catalog import Event
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage

MAX_ROUNDS = 100  # far more than the test's messages need; a stuck worker still ends
LATENCY = 0.005  # seconds per delivery: a real channel is a network call


def append_line(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


class RecordingChannel:
    def __init__(self, path: str) -> None:
        self.path = path

    async def deliver(self, message: views.OutboxView) -> None:
        await asyncio.sleep(LATENCY)
        booking = message.booking.id if message.booking else 0
        append_line(self.path, f"{message.id} {message.kind} {booking} {os.getpid()}")


async def wait_for_the_test(step: str) -> None:
    print(step, flush=True)
    await asyncio.to_thread(sys.stdin.readline)


async def run_outbox(ctx: Context) -> None:
    for _ in range(MAX_ROUNDS):
        planned = await plan_reminders(ctx)
        report = await outbox.deliver_due(ctx, limit=10)
        if planned == 0 and report.sent + report.retried + report.skipped + report.dead == 0:
            return


async def run_no_lease(ctx: Context, channel: RecordingChannel) -> None:
    await plan_reminders(ctx)

    async def pending(session: AsyncSession) -> list[int]:
        query = (
            select(col(OutboxMessage.id))
            .where(
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.next_attempt_at) <= ctx.clock.now(),
            )
            .order_by(col(OutboxMessage.id))
        )
        return [i for i in (await session.execute(query)).scalars() if i is not None]

    for message_id in await ctx.db.read(pending):

        async def load(session: AsyncSession, i: int = message_id) -> views.OutboxView | None:
            return await views.load_outbox(session, i)

        async def mark_sent(session: AsyncSession, i: int = message_id) -> None:
            await session.execute(
                update(OutboxMessage).where(col(OutboxMessage.id) == i).values(status="sent")
            )

        view = await ctx.db.read(load)
        assert view is not None
        await channel.deliver(view)
        await ctx.db.write(mark_sent)


async def run_no_dedupe(ctx: Context) -> None:
    now = ctx.clock.now()
    mine = uuid.uuid4().hex[:8]

    async def not_queued(session: AsyncSession) -> list[dict[str, Any]]:
        offsets = {
            e.id: parse_offsets(e.reminder_offsets)
            for e in (await session.execute(select(Event))).scalars()
        }
        queued = {
            key.rsplit(":", 2)[0]
            for key in (
                await session.execute(
                    select(col(OutboxMessage.dedupe_key)).where(
                        col(OutboxMessage.kind) == "reminder"
                    )
                )
            ).scalars()
        }
        rows = await session.execute(
            select(Booking, Customer)
            .join(Customer, col(Customer.id) == Booking.customer_id)
            .where(col(Booking.status) == states.HELD, col(Booking.deadline) > now)
        )
        notices: list[dict[str, Any]] = []
        for booking, customer in rows.all():
            assert booking.deadline is not None and booking.deadline_set_at is not None
            offset = due_reminder(
                offsets.get(booking.event_id, ()),
                deadline=booking.deadline,
                deadline_set_at=booking.deadline_set_at,
                now=now,
            )
            key = f"reminder:{booking.id}:{booking.deadline.isoformat()}:{offset}"
            if offset is None or key in queued:
                continue
            notices += outbox.rows_for(
                kind="reminder",
                customer=customer,
                now=now,
                booking_id=booking.id,
                key=f"{key}:{mine}",
                payload={"deadline": booking.deadline.isoformat(), "offset_minutes": offset},
            )
        return notices

    notices = await ctx.db.read(not_queued)
    await wait_for_the_test("checked")
    await ctx.db.write(lambda s: outbox.enqueue_rows(s, notices))
    for _ in range(MAX_ROUNDS):
        report = await outbox.deliver_due(ctx, limit=10)
        if report.sent + report.retried + report.skipped + report.dead == 0:
            return


async def main(url: str, now: str, out: str, mode: str) -> None:
    clock = FrozenClock(datetime.fromisoformat(now))
    channel = RecordingChannel(out)
    settings = CoreSettings(database_url=url, secret_key="test-secret", _env_file=None)  # type: ignore[call-arg, unused-ignore]
    ctx = Context(settings=settings, db=Database(url), clock=clock)
    ctx.channels = {"email": channel, "telegram": channel}
    try:
        await ctx.db.read(lambda s: s.execute(text("SELECT 1")))  # connect before the start
        await wait_for_the_test("ready")
        if mode == "outbox":
            await run_outbox(ctx)
        elif mode == "no-lease":
            await run_no_lease(ctx, channel)
        elif mode == "no-dedupe":
            await run_no_dedupe(ctx)
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    finally:
        await ctx.close()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
