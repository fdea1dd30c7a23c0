"""Engines, SQLite pragmas, the UTC column type and the retrying transaction runner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.types import DateTime, TypeDecorator

log = logging.getLogger(__name__)
T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out, on SQLite (which stores naive text) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, immediate: bool = True) -> AsyncEngine:
    """An engine; on SQLite ``immediate`` makes every transaction take the write lock at BEGIN.

    Taking the lock at BEGIN (not at the first write) is what lets two processes run the same
    conditional updates safely: the second waits on busy_timeout instead of failing mid-way.
    """
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions would defeat IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _retryable(exc: BaseException) -> bool:
    """Lost connections, SQLite lock time-outs and a (rare) clash of random booking references
    are worth another try; nothing else is."""
    if isinstance(exc, IntegrityError):
        text = str(exc.orig).lower()  # SQLite names the column, PostgreSQL the constraint
        return "booking.reference" in text or "uq_booking_reference" in text
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(s in text for s in ("locked", "busy", "connection", "closed", "terminat"))
    return isinstance(exc, ConnectionError | OSError)


class Database:
    """The write engine, a read engine and the transaction runner every service uses."""

    def __init__(self, url: str, *, attempts: int = 5) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.engine = make_engine(url)
        # On SQLite, reads use plain BEGIN so that a page never waits behind a writer (WAL).
        self.read_engine = make_engine(url, immediate=False) if self.sqlite else self.engine
        # One process's own writers queue here rather than spin on SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.sqlite else None
        self.attempts = attempts

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    @asynccontextmanager
    async def _session(self, engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
        session = AsyncSession(engine, expire_on_commit=False, autoflush=False)
        async with session, session.begin():
            yield session

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction, retried on lost connections and lock time-outs.

        ``work`` must be safe to re-run from the start: it only touches the session it is given.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                if self._write_lock is None:
                    async with self._session(self.engine) as session:
                        return await work(session)
                async with self._write_lock, self._session(self.engine) as session:
                    return await work(session)
            except (OperationalError, DBAPIError, ConnectionError, OSError) as exc:
                if attempt == self.attempts or not _retryable(exc):
                    raise
                log.warning("database busy or unreachable (%s); retry %d", exc, attempt)
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._session(self.read_engine) as session:
                    return await work(session)
            except (OperationalError, DBAPIError, ConnectionError, OSError) as exc:
                if attempt == self.attempts or not _retryable(exc):
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")
