"""A worker killed at any point acts once: the service call, the record and the answer commit
together, and the message is flagged only after that commit."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from booking.context import Context
from booking.services import bookings
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, reply_to

ROOT = Path(__file__).resolve().parents[2]


async def run_dying_worker(ctx: Context, desk: Desk, mode: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.mail.crash_worker", ctx.settings.database_url,
        str(desk.imap.port), str(desk.smtp.port), mode, cwd=ROOT,
    )  # fmt: skip
    async with asyncio.timeout(60):
        return await process.wait()


@pytest.mark.parametrize("mode", ["after-commit", "mid-transaction"])
async def test_a_worker_killed_before_the_imap_flag_acts_once_after_restart(
    ctx: Context, desk: Desk, mode: str
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = await make_held_booking(ctx, cat, ana)
    [held_mail] = await desk.send_out()
    await asyncio.to_thread(desk.imap.append, reply_to(held_mail, "CANCEL plans changed"))

    assert await run_dying_worker(ctx, desk, mode) == -signal.SIGKILL
    assert desk.flagged() == 0  # the kill came before the flag
    expected = "cancelled" if mode == "after-commit" else "held"
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == expected

    report = await desk.receive()  # the restarted worker
    assert dict(report.outcomes) == ({"duplicate": 1} if mode == "after-commit" else {"acted": 1})
    assert desk.flagged() == 1
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "cancelled"
    [cancelled] = await desk.send_out()  # one notice, whichever run committed it
    assert "is cancelled" in str(cancelled.message["Subject"])
    assert await desk.receive() == type(report)()  # nothing left to do
