"""Engines, SQLite pragmas, the UTC column type and the retrying transaction runner."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import event, make_url, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.types import DateTime, TypeDecorator
from sqlalchemy.util.concurrency import await_only, in_greenlet

log = logging.getLogger(__name__)
T = TypeVar("T")
BUSY_TIMEOUT_S = 30.0  # how long a write waits for another process's SQLite write lock


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


# -- SQLite writes on the event loop's thread ----------------------------------------------------
#
# aiosqlite runs every call (cursor, execute, fetch, close, commit) in a thread of its own and
# hands the result back to the loop: about a dozen thread round trips for one short write
# transaction, which cost far more CPU than SQLite itself (a hold's statements take tens of
# microseconds each). The write engine therefore calls sqlite3 directly on the loop's thread.
# That is safe here because writers never run side by side: ``Database`` queues them on one
# asyncio.Lock and each transaction begins IMMEDIATE. The trade-off: while a write statement
# runs, the loop waits for it (microseconds for the services' statements; a few milliseconds
# for a 500-row release batch or a WAL checkpoint at COMMIT). Two things keep it bounded:
# - SQLite's busy handler never blocks the loop: the connection's busy_timeout is 0, and when
#   another *process* holds the write lock, BEGIN IMMEDIATE is re-tried after asyncio sleeps
#   (1 ms growing to 100 ms, as SQLite's own handler does) for up to BUSY_TIMEOUT_S. A statement
#   that finds the database busy inside a transaction (not expected in WAL once the write lock
#   is held) fails at once, and ``Database.write`` re-runs the transaction.
# - after every statement SQLAlchemy sends, the loop gets a turn (``asyncio.sleep(0)``), so
#   readers and other tasks run between the statements of a long write transaction. (The hold's
#   prepared statements, see ``booking.sql.Prepared``, run back to back: tens of microseconds.)
# Reads keep aiosqlite (their own engine): a long report never stops the loop.


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF == sqlite3.SQLITE_BUSY
    return "database is locked" in str(exc)


def _inline(cursor: sqlite3.Cursor, step: Callable[[], object]) -> None:
    """Run ``step`` (one execute), waiting asynchronously while another process writes."""
    green = in_greenlet()
    give_up, delay = time.monotonic() + BUSY_TIMEOUT_S, 0.001
    while True:
        try:
            step()
            break
        except sqlite3.OperationalError as exc:
            # Outside a transaction (BEGIN IMMEDIATE, a pragma) nothing is lost by trying again.
            if not green or not _busy(exc) or cursor.connection.in_transaction:
                raise
            if time.monotonic() >= give_up:
                raise
            await_only(asyncio.sleep(delay))
            delay = min(delay * 2, 0.1)
    if green:
        # The loop's turn; also what SQLAlchemy's asyncio layer expects of an async driver.
        await_only(asyncio.sleep(0))


class _InlineCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _InlineCursor:
        _inline(self, lambda: sqlite3.Cursor.execute(self, sql, parameters))
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> _InlineCursor:
        _inline(self, lambda: sqlite3.Cursor.executemany(self, sql, seq_of_parameters))
        return self

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio layer calls this on an async driver's cursor once a result is
        handed out; rows here are read straight from sqlite3, so there is nothing to do."""


class _InlineConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _InlineCursor) -> Any:
        return super().cursor(factory)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite as an "async" driver that runs on the loop's thread (see above)."""

    driver = "guichet_inline"
    supports_statement_cache = True
    is_async = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        # busy_timeout 0: waits for another process happen in _inline, not in SQLite.
        cparams.update(factory=_InlineConnection, check_same_thread=False, timeout=0)
        return sqlite3.connect(*cargs, **cparams)


def make_engine(url: str, *, immediate: bool = True) -> AsyncEngine:
    """An engine; on SQLite ``immediate`` makes every transaction take the write lock at BEGIN.

    Taking the lock at BEGIN (not at the first write) is what lets two processes run the same
    conditional updates safely: the second waits instead of failing mid-way. On SQLite the
    write engine (``immediate``) runs sqlite3 on the loop's thread (see above); the read
    engine keeps aiosqlite.

    On PostgreSQL there is no pre-ping (a round trip on every checkout): a connection found
    dead on first use fails its transaction before anything is written, SQLAlchemy then
    discards the pool's older connections and ``Database.write`` / ``read`` run it again. The
    pool keeps the connections it opens, 30 at most (as asyncpg's own pool does): with "10 +
    20 overflow" every burst above 10 closed its extra connections afterwards and the next one
    paid to open them again (connect, authentication, type set-up, statements prepared anew).
    """
    if not is_sqlite(url):
        return create_async_engine(url, pool_size=30, max_overflow=0)
    if immediate:
        registry.register("sqlite.guichet_inline", __name__, "InlineSQLiteDialect")
        engine = create_async_engine(make_url(url).set(drivername="sqlite+guichet_inline"))
        busy_ms = 0
    else:
        engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
        busy_ms = int(BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions would defeat IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _why(exc: BaseException) -> str:
    if isinstance(exc, IntegrityError):
        return "the random booking reference was taken already; new reference"
    if isinstance(exc, OperationalError) and any(
        s in str(exc.orig).lower() for s in ("locked", "busy")
    ):
        return "database busy"
    return "database connection lost"


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
                log.warning("%s (%s); retry %d", _why(exc), getattr(exc, "orig", exc), attempt)
                if not isinstance(exc, IntegrityError):  # a new reference needs no wait
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
