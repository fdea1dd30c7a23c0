"""Small dialect helpers for statements that differ between SQLite and PostgreSQL, and
prepared statements for the hot write paths."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

from booking.db import InlineSQLiteDialect

_MISSING: Any = object()
_ROW_BY_ROW = 4  # more rows than this go as one executemany (multi-row VALUES) instead
Processor = Callable[[Any], Any]


async def connection_of(target: AsyncSession | AsyncConnection) -> AsyncConnection:
    """The connection of the caller's transaction: Core statements on tables run there, without
    the ORM's per-statement work (there is nothing for the ORM to do with a table statement)."""
    if isinstance(target, AsyncConnection):
        return target
    return await target.connection()


# -- prepared statements ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    rows: list[tuple[Any, ...]]  # RETURNING or SELECT rows, values as SQLAlchemy gives them
    rowcount: int  # -1 when the driver does not say (asyncpg): use RETURNING to count


@dataclass(frozen=True, slots=True)
class _Compiled:
    dialect: Dialect
    sql: str
    binds: tuple[tuple[str, Processor | None, Any], ...]  # name, bind processor, default
    results: tuple[Processor | None, ...]
    returns_rows: bool

    def values(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            p(v) if p else v
            for name, p, default in self.binds
            for v in (params.get(name, default),)
        )

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        results = self.results
        return [
            tuple(p(v) if p else v for p, v in zip(results, row, strict=True)) for row in fetched
        ]


class Prepared:
    """A prebuilt Core statement for a hot path (a hold runs seven of them).

    SQLAlchemy compiles it once per dialect; bind and result values go through the column
    types' own processing (taken from the compiled statement), so the SQL sent and the values
    stored and read are exactly those of ``conn.execute(statement, params)``. What is skipped
    is SQLAlchemy's per-execution machinery, which costs far more than the statements
    themselves (on this path 50 to 130 us per statement on SQLite and about 250 us on
    PostgreSQL, against 10 to 40 us for the driver call):

    - on SQLite's write engine (sqlite3 on the event loop's thread, see ``booking.db``) the
      statement runs on the transaction's own sqlite3 connection;
    - on asyncpg it runs on the transaction's own asyncpg connection once SQLAlchemy has
      started the transaction there (the first statement of a transaction always goes through
      SQLAlchemy, which is what starts it; never outside a transaction);
    - anywhere else it is simply ``conn.execute(statement, params)``.

    Errors come out as SQLAlchemy's (``IntegrityError``, ``DBAPIError`` with
    ``connection_invalidated`` for a lost connection, which is then discarded), so callers and
    ``Database.write``'s retries see no difference. Direct executions do not go through engine
    events or echo logging. Give every bind by name (a column default fills a column left out).
    """

    def __init__(self, statement: Select[Any] | UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, ...], _Compiled] = {}

    async def run(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Outcome:
        driver = _driver(conn)
        if driver is None:
            result = await conn.execute(self.statement, dict(params))
            rows = [tuple(r) for r in result.all()] if result.returns_rows else []
            return Outcome(rows, result.rowcount)
        compiled = self._compile(conn.dialect, params)
        values = compiled.values(params)
        if isinstance(driver, sqlite3.Connection):
            fetched, count = _on_sqlite(driver, compiled, values)
        else:
            fetched = await _on_asyncpg(conn, driver, compiled.sql, values)
            count = len(fetched) if compiled.returns_rows else -1
        if not compiled.returns_rows:
            return Outcome([], count)  # (an INSERT on PostgreSQL returns its id unasked)
        return Outcome(compiled.rows(fetched), count)

    async def run_many(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> Outcome:
        """The statement for each of ``rows`` (all with the same keys): one executemany
        (multi-row VALUES batches) through SQLAlchemy, or, for a few rows on the direct paths,
        one driver call per row. RETURNING rows of every row come back together; rowcount is
        their sum (-1 when the driver does not say)."""
        if len(rows) == 1:
            return await self.run(conn, rows[0])
        if len(rows) > _ROW_BY_ROW or _driver(conn) is None:
            result = await conn.execute(self.statement, [dict(r) for r in rows])
            returned = [tuple(r) for r in result.all()] if result.returns_rows else []
            return Outcome(returned, result.rowcount)
        out: list[tuple[Any, ...]] = []
        count = 0
        for row in rows:
            one = await self.run(conn, row)
            out += one.rows
            count = -1 if count < 0 or one.rowcount < 0 else count + one.rowcount
        return Outcome(out, count)

    def _compile(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        keys = tuple(params)
        found = self._compiled.get(keys)
        if found is not None and found.dialect is dialect:
            return found
        statement = self.statement
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if compiled.positiontup is None:
            raise TypeError(f"{dialect.name}: a positional paramstyle is expected")
        table = getattr(statement, "table", None)
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            default = _MISSING
            if name not in params:
                column = table.c.get(name) if isinstance(table, Table) else None
                if column is not None and column.default is not None:
                    if not column.default.is_scalar:
                        raise KeyError(f"{name!r} has no scalar default: pass it")
                    default = getattr(column.default, "arg", None)
                elif not bind.required:
                    default = bind.effective_value  # a literal written in the statement
                else:
                    raise KeyError(f"no value for {name!r} (given: {', '.join(keys)})")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, processor, default))
        columns = list(statement.selected_columns if isinstance(statement, Select) else ())
        if isinstance(statement, UpdateBase):
            columns = list(statement.exported_columns)
        results = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
        found = _Compiled(dialect, compiled.string, tuple(binds), results, bool(columns))
        self._compiled[keys] = found
        return found


def _driver(conn: AsyncConnection) -> Any:
    """The driver connection to run a prepared statement on directly, or None."""
    sync = conn.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return None
    if isinstance(conn.dialect, InlineSQLiteDialect):
        raw = sync.connection.driver_connection
        return raw if isinstance(raw, sqlite3.Connection) and raw.in_transaction else None
    if conn.dialect.driver == "asyncpg":
        raw = sync.connection.driver_connection
        # Only inside the transaction SQLAlchemy started on it (lazily, at its first statement).
        return raw if raw is not None and raw.is_in_transaction() else None
    return None


def _on_sqlite(
    raw: sqlite3.Connection, compiled: _Compiled, values: tuple[Any, ...]
) -> tuple[list[Any], int]:
    cursor = sqlite3.Cursor(raw)
    try:
        cursor.execute(compiled.sql, values)
        return (cursor.fetchall() if compiled.returns_rows else []), cursor.rowcount
    except sqlite3.Error as exc:
        raise DBAPIError.instance(compiled.sql, values, exc, sqlite3.Error) from exc
    finally:
        cursor.close()


async def _on_asyncpg(
    conn: AsyncConnection, raw: Any, sql: str, values: tuple[Any, ...]
) -> list[Any]:
    import asyncpg  # only ever called with asyncpg in use

    try:
        return list(await raw.fetch(sql, *values))
    except asyncio.CancelledError:
        await conn.invalidate()  # the protocol may be mid-statement: do not reuse it
        raise
    except Exception as exc:
        lost = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)
        if raw.is_closed() or isinstance(exc, lost):  # as SQLAlchemy's asyncpg dialect decides
            await conn.invalidate(exc)
            raise DBAPIError(sql, values, exc, connection_invalidated=True) from exc
        if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
            raise IntegrityError(sql, values, exc) from exc
        if isinstance(exc, asyncpg.PostgresError):
            raise DBAPIError(sql, values, exc) from exc
        raise


# -- INSERT … ON CONFLICT DO NOTHING ------------------------------------------------------------

# Prepared statements by (dialect, table, key): built once, so SQLAlchemy compiles each once.
_IGNORING: dict[tuple[str, str, str], Prepared] = {}


async def insert_ignoring_duplicates(
    session: AsyncSession | AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: str,
) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING; returns how many rows were new.

    One prepared statement per table, executed with the rows as parameters (executemany: multi-
    row VALUES batches; one driver call per row on the direct paths, see ``Prepared``), so it
    is compiled once instead of on every call. Every row must have the same keys. The count is
    the number of rows RETURNING gives back (only inserted rows come back), because a driver's
    rowcount after executemany is not reliable (asyncpg reports none).
    """
    if not rows:
        return 0
    conn = await connection_of(session)
    dialect = conn.dialect.name
    prepared = _IGNORING.get((dialect, table.name, key))
    if prepared is None:
        module: Any = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(table).on_conflict_do_nothing(index_elements=[key])
        prepared = Prepared(stmt.returning(table.c[key]))
        _IGNORING[(dialect, table.name, key)] = prepared
    return len((await prepared.run_many(conn, rows)).rows)


def skip_locked(session: AsyncSession) -> bool:
    """FOR UPDATE SKIP LOCKED where the database has it; SQLite's IMMEDIATE lock serializes."""
    return _bind(session).dialect.name == "postgresql"


def _bind(session: AsyncSession) -> AsyncEngine | AsyncConnection:
    """The session's bind; our sessions are always created bound to the engine."""
    return cast("AsyncEngine | AsyncConnection", session.bind)
