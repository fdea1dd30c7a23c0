"""The door's scan (``checkin.scan``): the admission and the page's board (the performances,
the counts) in one transaction, with the same answers as ``admit`` and the same guard when two
doors scan one code at once (the unique check-in index, whose companion without it is
tests/concurrency/test_checkin_race.py). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from booking.context import Context
from booking.queries import door
from booking.services import cancellations, checkin
from tests.booking.test_checkin import DOOR, paid_secrets
from tests.builders import STAFF


@contextmanager
def transactions(ctx: Context) -> Iterator[Counter[str]]:
    """How many transactions each engine began meanwhile (on PostgreSQL both are one)."""
    begun: Counter[str] = Counter()
    engines = {"write": ctx.db.engine, "read": ctx.db.read_engine}
    listeners = []
    for name, engine in engines.items():
        if name == "read" and engine is ctx.db.engine:
            continue

        def count(conn: Any, name: str = name) -> None:
            begun[name] += 1

        event.listen(engine.sync_engine, "begin", count)
        listeners.append((engine.sync_engine, count))
    try:
        yield begun
    finally:
        for target, listener in listeners:
            event.remove(target, "begin", listener)


async def test_a_scan_admits_and_reads_the_board_in_one_transaction(ctx: Context) -> None:
    performance, _reference, (first, second) = await paid_secrets(ctx)
    with transactions(ctx) as begun:
        scanned = await checkin.scan(
            ctx, actor=DOOR, secret=first, performance_id=performance, door="North"
        )
    assert begun == Counter({"write": 1})
    assert scanned.answer.outcome == "admitted"
    assert scanned.board.chosen is not None and scanned.board.chosen.id == performance
    assert scanned.board.counts == door.DoorCounts(checked_in=1, expected=2)
    assert scanned.board == await door.board(ctx, performance)  # what a separate read says
    again = await checkin.scan(ctx, actor=DOOR, secret=first, performance_id=performance)
    assert again.answer.outcome == "already_used"
    assert again.answer.used is not None and again.answer.used.door == "North"
    other = await checkin.scan(ctx, actor=DOOR, secret=second, performance_id=performance)
    assert other.board.counts == door.DoorCounts(checked_in=2, expected=2)


async def test_a_scans_expected_count_is_at_most_a_few_seconds_old_and_the_pages_is_fresh(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(door, "_monotonic", lambda: now[0])
    performance, reference, (first, second) = await paid_secrets(ctx)
    scanned = await checkin.scan(ctx, actor=DOOR, secret=first, performance_id=performance)
    assert scanned.board.counts == door.DoorCounts(checked_in=1, expected=2)
    await cancellations.cancel(ctx, actor=STAFF, reference=reference, reason="mistake")

    now[0] += door.EXPECTED_KEEP_S - 1
    kept = await checkin.scan(ctx, actor=DOOR, secret=second, performance_id=performance)
    assert kept.answer.outcome == "not_valid"  # cancelled: the admission is decided afresh
    assert kept.board.counts == door.DoorCounts(checked_in=1, expected=2)  # counted 4 s ago
    assert await door.counts(ctx, performance) == door.DoorCounts(checked_in=1, expected=0)

    now[0] += 2
    later = await checkin.scan(ctx, actor=DOOR, secret=second, performance_id=performance)
    assert later.board.counts == door.DoorCounts(checked_in=1, expected=0)


async def test_a_scan_answers_as_admit_does_for_every_refusal(ctx: Context) -> None:
    performance, _reference, _tickets = await paid_secrets(ctx)
    later, _, (elsewhere, _) = await paid_secrets(
        ctx, starts_in=timedelta(days=40), name="Salle Lune"
    )
    wrong = await checkin.scan(ctx, actor=DOOR, secret=elsewhere, performance_id=performance)
    unknown = await checkin.scan(ctx, actor=DOOR, secret="not-a-code", performance_id=performance)
    assert (wrong.answer.outcome, unknown.answer.outcome) == ("wrong_date", "not_valid")
    assert wrong.answer.entitlement is not None
    assert wrong.answer.entitlement.performance_id == later
    assert wrong.board.counts == door.DoorCounts(checked_in=0, expected=2)
    assert (await checkin.admit(ctx, actor=DOOR, secret=elsewhere, performance_id=performance)
            ).outcome == "wrong_date"  # fmt: skip


async def test_two_doors_scanning_one_code_at_once_admit_it_once(ctx: Context) -> None:
    performance, _reference, secrets = await paid_secrets(ctx)
    scans = await asyncio.gather(
        *(
            checkin.scan(ctx, actor=DOOR, secret=s, performance_id=performance, door=d)
            for s in secrets
            for d in ("North", "South")
        )
    )
    for n in range(len(secrets)):
        pair = sorted(s.answer.outcome for s in scans[2 * n : 2 * n + 2])
        assert pair == ["admitted", "already_used"], pair
    assert all(s.board.counts is not None for s in scans)  # the loser's page has its board
    assert await door.counts(ctx, performance) == door.DoorCounts(len(secrets), len(secrets))
