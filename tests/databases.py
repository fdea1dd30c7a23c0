"""Real databases for tests: a SQLite file per test, and PostgreSQL when it is reachable.

PostgreSQL tests skip with a reason when no server answers, unless GUICHET_REQUIRE_SERVICES=1
(as in CI), which turns that skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from booking.schema import upgrade_sync

T = TypeVar("T")
PG_DSN = os.environ.get("GUICHET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("GUICHET_REQUIRE_SERVICES") == "1"


def in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop in a thread (session fixtures are
    set up while a test's loop is already running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def missing_service(reason: str) -> None:
    """Skip, or fail when CI requires every service."""
    if REQUIRED:
        pytest.fail(f"{reason} (GUICHET_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file, built once per session with the real Alembic migrations."""
    path = directory / "template.db"
    if not path.exists():
        upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


def sqlite_copy(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def pg_available() -> bool:
    try:
        conn = await asyncpg.connect(PG_DSN, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def create_pg_database() -> str:
    """A fresh, migrated database on the test server; returns its SQLAlchemy URL."""
    name = f"guichet_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    await asyncio.to_thread(upgrade_sync, url)
    return url


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


TABLES = (
    "outboxmessage, historyentry, payment, ticket, seatclaim, item, extensionrequest, booking, "
    "gauge, tariff, performance, event, seat, area, venue, season, customer, organization, "
    "staffuser, setting, conversation, linkcode, inboundmail, checkoutsession, loginattempt, "
    "checkin, seasonpass, passproductevent, passproduct, passcredit, holdercode, holdersession, "
    "holderthrottle, resalelisting, resalesettings"
)


async def truncate_pg(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
