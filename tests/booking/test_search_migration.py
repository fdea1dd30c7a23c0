"""Migration 0008 gives customers made before it their search keys, on SQLite and
PostgreSQL: the one search finds them by their folded name, email and phone."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import create_engine, text

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import directory
from booking.schema import alembic_config
from booking.settings import CoreSettings
from tests import databases
from tests.conftest import NOW

OLD_CUSTOMERS = [
    ("Jeanne Téléphone", "jeanne.ph@example.org", "079 123 45 67"),
    ("Marc Dubois", "marc@example.org", ""),
]


def _seed_at_0007(url: str) -> None:
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as conn:
        for name, email, phone in OLD_CUSTOMERS:
            conn.execute(
                text(
                    "INSERT INTO customer (name, email, email_key, phone, language, "
                    "telegram_unreachable, email_undeliverable, company, postcode, categories, "
                    "newsletter, customer_type, created_at) VALUES (:n, :e, :e, :p, 'en', "
                    "false, false, '', '', '', false, 'individual', '2026-01-01 00:00:00')"
                ),
                {"n": name, "e": email, "p": phone},
            )
    engine.dispose()


async def _seed_pg(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for name, email, phone in OLD_CUSTOMERS:
            await conn.execute(
                "INSERT INTO customer (name, email, email_key, phone, language, "
                "telegram_unreachable, email_undeliverable, company, postcode, categories, "
                "newsletter, customer_type, created_at) VALUES ($1, $2, $2, $3, 'en', "
                "false, false, '', '', '', false, 'individual', now())",
                name,
                email,
                phone,
            )
    finally:
        await conn.close()


async def _found(url: str) -> dict[str, set[str]]:
    ctx = Context.create(
        CoreSettings(database_url=url, secret_key="test-secret", _env_file=None),  # type: ignore[call-arg]
        clock=FrozenClock(NOW),
    )
    try:
        found = {}
        for typed in ("telephone", "jeanne.ph", "0041 79 123 45 67", "dubois marc"):
            page = await directory.search_customers(ctx, text=typed)
            found[typed] = {row.name for row in page.rows}
        return found
    finally:
        await ctx.close()


EXPECTED = {
    "telephone": {"Jeanne Téléphone"},
    "jeanne.ph": {"Jeanne Téléphone"},
    "0041 79 123 45 67": {"Jeanne Téléphone"},
    "dubois marc": {"Marc Dubois"},
}


async def test_customers_made_before_0008_are_found_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(_seed_at_0007, url)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    assert await _found(url) == EXPECTED


@pytest.mark.postgres
async def test_customers_made_before_0008_are_found_postgres() -> None:
    if not await databases.pg_available():
        databases.missing_service(f"PostgreSQL is not reachable at {databases.PG_DSN}")
    name = f"guichet_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(databases.PG_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = databases.PG_DSN.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0007")
        await _seed_pg(f"{base}/{name}")
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        assert await _found(url) == EXPECTED
    finally:
        await databases.drop_pg_database(url)
