"""Helpers shared by the console's read services: pages of rows, search patterns, local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, ColumnElement, Select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

T = TypeVar("T")
# A SELECT of any columns (SQLAlchemy 2.1 types a Select by the tuple of its columns).
AnySelect = Select[*tuple[Any, ...]]
MAX_PER_PAGE = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows. ``has_next`` comes from fetching one row more than shown: counting
    every match of a search over a million bookings would cost more than the page itself."""

    rows: tuple[T, ...]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def bounds(page: int, per_page: int) -> tuple[int, int, int]:
    """(page, per_page, offset) clamped to sane values."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    return page, per_page, (page - 1) * per_page


def paged(rows: list[T], page: int, per_page: int) -> Page[T]:
    """``rows`` was fetched with ``limit per_page + 1``."""
    return Page(tuple(rows[:per_page]), page, per_page, len(rows) > per_page)


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's own wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class contains_ci(FunctionElement[bool]):
    """``column`` contains the LIKE ``pattern``, whatever the case, as each database does it
    best (see the compilers below)."""

    type = Boolean()
    inherit_cache = True
    name = "contains_ci"


@compiles(contains_ci)
def _contains_ci(element: contains_ci, compiler: Any, **kw: Any) -> str:
    column, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"(lower({column}) LIKE lower({pattern}) ESCAPE '\\')"


@compiles(contains_ci, "sqlite")
def _contains_ci_sqlite(element: contains_ci, compiler: Any, **kw: Any) -> str:
    # SQLite's LIKE already ignores ASCII case (its lower() knows no more), and on the bare
    # column it can scan a small index on it rather than the whole table.
    column, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} LIKE {pattern} ESCAPE '\\')"


@compiles(contains_ci, "postgresql")
def _contains_ci_postgresql(element: contains_ci, compiler: Any, **kw: Any) -> str:
    column, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} ILIKE {pattern} ESCAPE '\\')"


def ilike(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "contains" on SQLite and PostgreSQL alike."""
    return contains_ci(column, contains(text))


def prefix_range(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, written as a range so that a plain index serves it."""
    within: ColumnElement[bool] = (column >= prefix) & (column < prefix + "\uffff")
    return within


# Above every character: a prefix range ends here. (U+FFFF would leave out tokens that go on
# with a character past the Basic Multilingual Plane.)
_TOP = "\U0010ffff"


def starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, compared as code points (binary on SQLite, COLLATE
    "C" on PostgreSQL), as one range of an index on ``column``; LIKE's wildcards in ``prefix``
    are plain characters here."""
    within: ColumnElement[bool] = (column >= prefix) & (column < prefix + _TOP)
    return within


def local_day(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of ``day`` in ``timezone``, as aware UTC."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()
