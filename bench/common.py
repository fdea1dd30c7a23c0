"""Shared helpers for the benchmarks: databases, a catalogue built through the services, a
bounded concurrent driver, and a statement counter.

Nothing here is timed itself; the benchmarks time only the calls they name.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from booking.actors import Actor
from booking.clock import Clock, FrozenClock
from booking.context import Context
from booking.errors import BookingError
from booking.schema import upgrade_sync
from booking.services import catalog, customers
from booking.services.catalog import AreaSpec
from booking.settings import CoreSettings
from booking.views import CustomerView

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STAFF = Actor.staff(1, "Bench Organizer")
PG_ADMIN_DSN = os.environ.get("GUICHET_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


# -- databases ----------------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file (the real Alembic migrations), built once and copied per use.

    Call it outside a running event loop (Alembic runs its own), or through asyncio.to_thread.
    """
    path = directory / "template.db"
    if not path.exists():
        upgrade_sync(sqlite_url(path))
    return path


def sqlite_copy(template: Path, target: Path) -> Path:
    shutil.copy(template, target)
    return target


async def pg_available(dsn: str = PG_ADMIN_DSN) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@dataclass(frozen=True)
class PgDatabase:
    name: str
    url: str  # SQLAlchemy (postgresql+asyncpg://)
    dsn: str  # asyncpg (postgresql://)


async def create_pg_database(prefix: str = "guichet_bench") -> PgDatabase:
    """A fresh database ``<prefix>_<random>``, migrated with booking.schema.upgrade_sync."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    db = PgDatabase(name, dsn.replace("postgresql://", "postgresql+asyncpg://", 1), dsn)
    try:
        await asyncio.to_thread(upgrade_sync, db.url)
    except BaseException:
        await drop_pg_database(db)
        raise
    return db


async def drop_pg_database(db: PgDatabase) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    finally:
        await conn.close()


def make_context(url: str, clock: Clock | None = None, **more: Any) -> Context:
    """``more``: other CoreSettings fields (the bot bench's customers hold again and again)."""
    settings = CoreSettings(database_url=url, secret_key="bench", _env_file=None, **more)  # type: ignore[call-arg]
    return Context.create(settings, clock=clock or FrozenClock(NOW))


# -- a catalogue through the services --------------------------------------------------------


@dataclass(frozen=True)
class BenchCatalog:
    venue_id: int
    area_id: int
    event_id: int
    tariff_id: int
    price_minor: int
    performance_ids: tuple[int, ...]
    starts_at: tuple[datetime, ...]


async def make_catalog(
    ctx: Context,
    *,
    name: str,
    capacity: int,
    performances: int = 1,
    starts_in: timedelta = timedelta(days=30),
    policy: str = "firm",
    days_after_booking: int | None = 7,
) -> BenchCatalog:
    """One GA area of ``capacity``, one event, ``performances`` dates, one tariff (45.00)."""
    from booking.tables.catalog import Venue

    areas = await catalog.create_venue(
        ctx, actor=STAFF, name=name, areas=[AreaSpec("Floor", capacity=capacity)]
    )

    async def venue_id(session: Any) -> int:
        return int((await session.execute(select(Venue.id).where(Venue.name == name))).scalar_one())

    vid = await ctx.db.read(venue_id)
    event_id = await catalog.create_event(
        ctx,
        actor=STAFF,
        title=f"{name} concert",
        venue_id=vid,
        timezone="Europe/Zurich",
        policy=policy,
        days_after_booking=days_after_booking,
        max_per_order=10,
    )
    ids, starts = [], []
    for k in range(performances):
        starts_at = ctx.clock.now() + starts_in + timedelta(hours=k)
        ids.append(
            await catalog.add_performance(ctx, actor=STAFF, event_id=event_id, starts_at=starts_at)
        )
        starts.append(starts_at)
    tariff_id = await catalog.create_tariff(
        ctx,
        actor=STAFF,
        event_id=event_id,
        area_id=areas["Floor"],
        name="Standing",
        price_minor=4500,
    )
    return BenchCatalog(vid, areas["Floor"], event_id, tariff_id, 4500, tuple(ids), tuple(starts))


async def make_customers(ctx: Context, n: int, prefix: str) -> list[CustomerView]:
    """``n`` individual customers with an email only (so a Telegram hold queues one email)."""
    found = []
    for i in range(n):
        customer, _ = await customers.find_or_create_customer(
            ctx, actor=STAFF, email=f"{prefix}{i}@bench.example.org", name=f"Bench {prefix}{i}"
        )
        found.append(customer)
    return found


def as_customer(customer: CustomerView) -> Actor:
    return Actor.customer(customer.id, customer.name, "telegram")


# -- driving many concurrent tasks, bounded in count and time ----------------------------------


@dataclass
class DriveResult:
    requested: int
    done: int = 0
    elapsed: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    timed_out: bool = False
    cpu: float = 0.0  # process CPU seconds (every thread: the loop and the driver threads)

    @property
    def per_s(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def cpu_us(self) -> float:
        """Process CPU per completed call: less sensitive than wall time to a busy machine."""
        return 1e6 * self.cpu / self.done if self.done else 0.0


async def drive(
    n: int,
    concurrency: int,
    one: Callable[[int, int], Awaitable[Any]],
    *,
    budget_s: float,
) -> DriveResult:
    """Run ``one(worker, i)`` for i in 0..n-1 from ``concurrency`` tasks on this loop.

    Stops issuing new calls after ``budget_s`` seconds (calls in flight finish). BookingError
    codes and other exception types are counted, not raised.
    """
    result = DriveResult(requested=n)
    issued = 0
    cpu = time.process_time()
    started = time.perf_counter()
    stop_at = started + budget_s

    async def worker(w: int) -> None:
        nonlocal issued
        while issued < n:
            if time.perf_counter() > stop_at:
                result.timed_out = True
                return
            i = issued
            issued += 1
            try:
                await one(w, i)
            except BookingError as exc:
                result.errors[exc.code] += 1
            except Exception as exc:
                result.errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
            else:
                result.done += 1

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    result.cpu = time.process_time() - cpu
    return result


def load() -> str:
    """The machine's load average: other processes make every figure here noisier."""
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def spread(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:,.0f}" for v in values) + "]"


# -- counting the statements a service sends ----------------------------------------------------


@contextmanager
def count_statements(engine: Any) -> Iterator[Counter[str]]:
    """Counts statements by their first words, on an AsyncEngine's sync engine."""
    seen: Counter[str] = Counter()

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        words = statement.split()
        head = " ".join(words[:3]) if words[:1] == ["INSERT"] else " ".join(words[:2])
        seen[head + (" (executemany)" if many else "")] += 1

    def commit(conn: Any) -> None:
        seen["COMMIT"] += 1

    target = engine.sync_engine
    event.listen(target, "before_cursor_execute", before)
    event.listen(target, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", before)
        event.remove(target, "commit", commit)
