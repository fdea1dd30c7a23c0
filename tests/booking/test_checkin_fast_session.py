"""A door scan with its staff session checked in the admission's own transaction
(``checkin.scan_as_session``): it admits only for a session ``staff_admin.resume_session``
would accept, with a role the console's "door" permission allows, and applies the same rules
(a run-out session is ended, "last seen" moves once a minute). On SQLite and PostgreSQL, with
the companion showing that without the check a signed-out session's scan admits."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import door
from booking.services import checkin, staff_admin
from booking.services.staff_admin import StaffAccount
from booking.tables.staff import StaffSession
from tests.booking.test_checkin import paid_secrets

ADMIN = Actor.system("test")
DOOR_ROLES = {"admin", "organizer", "door"}


def may(role: str) -> bool:
    return role in DOOR_ROLES


async def door_account(ctx: Context, role: str = "door") -> StaffAccount:
    return await staff_admin.create_account(
        ctx, actor=ADMIN, email=f"{role}@door.example", password="long enough pw", role=role
    )


async def scan(ctx: Context, token: str, secret: str, performance: int) -> str:
    """The outcome, or "refused" when the session or role was not accepted."""
    found = await checkin.scan_as_session(
        ctx, token=token, may=may, secret=secret, performance_id=performance, door="North"
    )
    return found.scan.answer.outcome if found else "refused"


async def session_row(ctx: Context, token: str) -> StaffSession:
    async def work(session: AsyncSession) -> StaffSession:
        query = select(StaffSession).where(
            col(StaffSession.token_hash) == staff_admin._digest(token)
        )
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


async def test_a_live_door_session_admits_and_is_named_as_the_scanner(ctx: Context) -> None:
    performance, _ref, (first, _second) = await paid_secrets(ctx)
    account = await door_account(ctx)
    token = await staff_admin.start_session(ctx, staff_id=account.id)
    found = await checkin.scan_as_session(
        ctx, token=token, may=may, secret=first, performance_id=performance
    )
    assert found is not None and found.account.id == account.id
    assert found.scan.answer.outcome == "admitted"
    assert found.scan.board.counts == door.DoorCounts(checked_in=1, expected=2)
    assert await scan(ctx, token, first, performance) == "already_used"


async def test_ended_run_out_or_unfit_sessions_admit_nothing(
    ctx: Context, clock: FrozenClock
) -> None:
    performance, _ref, (first, _second) = await paid_secrets(ctx)
    account = await door_account(ctx)
    signed_out = await staff_admin.start_session(ctx, staff_id=account.id)
    await staff_admin.end_session(ctx, token=signed_out)
    assert await scan(ctx, signed_out, first, performance) == "refused"
    assert await scan(ctx, "", first, performance) == "refused"
    assert await scan(ctx, "made-up-token", first, performance) == "refused"
    desk = await door_account(ctx, "box_office")
    desk_token = await staff_admin.start_session(ctx, staff_id=desk.id)
    assert await scan(ctx, desk_token, first, performance) == "refused"  # the role

    idle = await staff_admin.start_session(ctx, staff_id=account.id)
    clock.advance(staff_admin.IDLE + timedelta(minutes=1))
    assert await scan(ctx, idle, first, performance) == "refused"
    ended = await session_row(ctx, idle)
    assert ended.ended_at == clock.now() and ended.end_reason == "expired"  # as resume ends it
    assert (await staff_admin.resume_session(ctx, token=idle)).account is None
    assert await door.counts(ctx, performance) == door.DoorCounts(checked_in=0, expected=2)


async def test_a_role_changed_meanwhile_is_read_in_the_scans_transaction(ctx: Context) -> None:
    performance, _ref, (first, _second) = await paid_secrets(ctx)
    account = await door_account(ctx)
    token = await staff_admin.start_session(ctx, staff_id=account.id)
    await staff_admin.update_account(
        ctx,
        actor=ADMIN,
        staff_id=account.id,
        expected=account.version,
        name="",
        role="box_office",
        language="en",
        active=True,
    )
    assert await scan(ctx, token, first, performance) == "refused"
    assert await door.counts(ctx, performance) == door.DoorCounts(checked_in=0, expected=2)


async def test_last_seen_moves_once_a_minute_as_on_every_console_page(
    ctx: Context, clock: FrozenClock
) -> None:
    performance, _ref, (first, second) = await paid_secrets(ctx)
    account = await door_account(ctx)
    token = await staff_admin.start_session(ctx, staff_id=account.id)
    started = clock.now()
    clock.advance(timedelta(seconds=30))
    assert await scan(ctx, token, first, performance) == "admitted"
    assert (await session_row(ctx, token)).seen_at == started  # within the minute: no write
    clock.advance(staff_admin.REFRESH)
    assert await scan(ctx, token, second, performance) == "admitted"
    assert (await session_row(ctx, token)).seen_at == clock.now()


async def test_without_the_session_check_a_signed_out_session_admits(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The companion: trust the token without reading its session and a copy of a cookie
    whose session was signed out admits."""
    performance, _ref, (first, _second) = await paid_secrets(ctx)
    account = await door_account(ctx)
    token = await staff_admin.start_session(ctx, staff_id=account.id)
    await staff_admin.end_session(ctx, token=token)

    async def trusting(session: AsyncSession, token: str, now: object) -> StaffAccount:
        return account

    monkeypatch.setattr(checkin, "_session_account", trusting)
    assert await scan(ctx, token, first, performance) == "admitted"


async def test_two_doors_with_their_sessions_scanning_one_code_at_once_admit_it_once(
    ctx: Context,
) -> None:
    performance, _ref, secrets = await paid_secrets(ctx)
    account = await door_account(ctx)
    north, south = [await staff_admin.start_session(ctx, staff_id=account.id) for _ in "ns"]
    outcomes = await asyncio.gather(
        *(scan(ctx, token, s, performance) for s in secrets for token in (north, south))
    )
    for n in range(len(secrets)):
        assert sorted(outcomes[2 * n : 2 * n + 2]) == ["admitted", "already_used"]
    assert await door.counts(ctx, performance) == door.DoorCounts(len(secrets), len(secrets))
