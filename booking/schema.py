"""Schema versions: apply Alembic migrations, and refuse to run on an old schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from booking.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaOutOfDate(Exception):
    pass


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def upgrade_sync(url: str) -> None:
    """Apply every migration (Alembic runs its own event loop through env.py)."""
    command.upgrade(alembic_config(url), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def check_schema(db: Database) -> None:
    """Raise SchemaOutOfDate with the fix when the database is not at the code's revision."""
    async with db.read_engine.connect() as conn:
        current = await conn.run_sync(_current)
    expected = head_revision(db.url)
    if current != expected:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none (empty database)'} but this "
            f"version of Guichet needs {expected}: run `guichet db upgrade` first"
        )
