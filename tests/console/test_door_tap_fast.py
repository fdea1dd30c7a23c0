"""``POST /console/door`` checks the staff session in the admission's own transaction (one
transaction per scan). A complete scan form from a session that has ended, or from a role
that may not use the door, admits nothing and is answered as the guard answers every console
page (401 / 403), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.services import staff_admin
from booking.tables.checkin import CheckIn
from console.web import ticket_page
from console.web.app import build_app
from console.web.security import COOKIE
from tests.console.conftest import SYSTEM, ConsoleFactory, both
from tests.console.test_door_tap import outcome, paid


@pytest.fixture
def app(app_ctx: Context) -> Any:
    return build_app(app_ctx, {"web": "running"}, extra_routes=ticket_page.routes(app_ctx))


async def checked_in(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(CheckIn))).scalar_one())

    return await ctx.db.read(work)


@both
async def test_a_signed_out_sessions_scan_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (first, second) = await paid(app_ctx)
    door = await console_for("door")
    await door.get("/console/door")
    admitted = await door.post("/console/door", {"code": first, "performance": performance})
    assert outcome(admitted.text) == "admitted"
    kept = next(c.value or "" for c in door.client.cookies.jar if c.name == COOKIE)
    csrf = door.csrf
    assert (await door.post("/console/logout")).status_code == 303
    door.client.cookies.set(COOKIE, kept, domain="testserver.local", path="/console")
    replay = await door.client.post(
        "/console/door", data={"csrf": csrf, "code": second, "performance": performance}
    )
    assert replay.status_code == 401 and "Your session has ended" in replay.text
    assert await checked_in(app_ctx) == 1


@both
async def test_a_role_taken_away_mid_shift_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (first, _second) = await paid(app_ctx)
    door = await console_for("door")
    await door.get("/console/door")
    account = next(a for a in await staff_admin.list_accounts(app_ctx) if a.role == "door")
    await staff_admin.update_account(
        app_ctx,
        actor=SYSTEM,
        staff_id=account.id,
        expected=account.version,
        name=account.name,
        role="box_office",
        language=account.language,
        active=True,
    )
    refused = await door.post("/console/door", {"code": first, "performance": performance})
    assert refused.status_code == 403 and "Not allowed for your role" in refused.text
    assert await checked_in(app_ctx) == 0


async def test_a_forged_token_on_a_complete_scan_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (first, _second) = await paid(app_ctx)
    door = await console_for("door")
    await door.get("/console/door")
    forged = await door.post(
        "/console/door", {"code": first, "performance": performance}, csrf="forged"
    )
    assert forged.status_code == 403 and "This form has expired" in forged.text
    desk = await console_for("box_office")
    await desk.get("/console/")
    refused = await desk.post("/console/door", {"code": first, "performance": performance})
    assert refused.status_code == 403 and "Not allowed for your role" in refused.text
    assert await checked_in(app_ctx) == 0
