"""Shared fixtures: a context on a real database (SQLite file, and PostgreSQL), a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from booking.clock import FrozenClock
from booking.context import Context
from booking.settings import CoreSettings
from tests import databases

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("schema"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One migrated PostgreSQL database per test session, emptied before each test."""
    if not databases.in_thread(databases.pg_available):
        databases.missing_service(f"PostgreSQL is not reachable at {databases.PG_DSN}")
    url = databases.in_thread(databases.create_pg_database)
    yield url
    databases.in_thread(lambda: databases.drop_pg_database(url))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def ctx(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Context]:
    """A context on a real database: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = databases.sqlite_copy(sqlite_template, tmp_path / "guichet.db")
    else:
        url = request.getfixturevalue("pg_url")
        await databases.truncate_pg(url)
    context = Context.create(
        CoreSettings(database_url=url, secret_key="test-secret", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    yield context
    await context.close()


@pytest.fixture
async def sqlite_ctx(
    sqlite_template: Path, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Context]:
    url = databases.sqlite_copy(sqlite_template, tmp_path / "guichet.db")
    context = Context.create(
        CoreSettings(database_url=url, secret_key="test-secret", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    yield context
    await context.close()
