#!/usr/bin/env python
"""Holds throughput, sold-out contention and the release sweep, against plain-driver baselines.

    python bench/holds.py --quick     # smaller sizes, well under a minute on 2 cores
    python bench/holds.py             # the full run
    python bench/holds.py --profile   # where the time of one hold goes (cProfile, phases)

1. SQLite holds/s: ``booking.services.holds.hold`` (two GA places, 50 concurrent tasks on one
   event loop) against plain aiosqlite doing the same work on one connection behind an
   asyncio.Lock (the service also serialises SQLite writers with a lock): BEGIN IMMEDIATE,
   the validation read a correct hold cannot skip (one SELECT joining the date, its event,
   the tariff, its area and the customer; then the same checks: on sale, not started, tariff
   of the event and active, channel and customer type allowed, quantity, the deadline from
   the tariff/date/event rules, the price), conditional gauge UPDATE, INSERT booking, INSERT 2
   items, INSERT history, INSERT outbox, COMMIT. Goal: ratio >= 0.5.
   (Until the hold path was reworked, the baseline skipped the validation read and used
   constants for the deadline and the price: it did less than a correct hold must do.)
   The baseline keeps aiosqlite, one thread round trip per call, while the service's write
   engine now calls sqlite3 on the loop's thread (booking/db.py): the same statements on plain
   sqlite3 on the loop's thread took about half the baseline's CPU per hold when measured.
2. The same on PostgreSQL (a fresh ``guichet_bench_<random>`` database, migrated, dropped at the
   end) against an asyncpg pool of the same size as the engine's (30 at most). Both
   sides update the gauge last, just before COMMIT (its row lock is the hot one).
3. Contention: 2,000 holds of 1 place for 500 places -> exactly 500 sold, only sold_out errors.
4. ``release_due``: D due holds among N bookings vs D among N/10. Goal: ratio <= 1.5.

Warm-up is excluded; rounds alternate between the two sides and medians are reported. Every
loop is bounded in count and in time. The last line of output is one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import (  # noqa: E402
    NOW,
    BenchCatalog,
    DriveResult,
    as_customer,
    count_statements,
    create_pg_database,
    drive,
    drop_pg_database,
    load,
    make_catalog,
    make_context,
    make_customers,
    median,
    pg_available,
    spread,
    sqlite_copy,
    sqlite_template,
    sqlite_url,
)
from booking.clock import FrozenClock  # noqa: E402
from booking.context import Context  # noqa: E402
from booking.errors import BookingError  # noqa: E402
from booking.rules.deadlines import DeadlineRule, compute_deadline  # noqa: E402
from booking.services import holds, releases  # noqa: E402
from booking.views import CustomerView  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    concurrency: int
    warmup: int  # holds per side before timing
    holds: int  # holds per timed round, per side
    pg_holds: int
    rounds: int
    round_budget_s: float  # a timed round stops issuing holds after this
    contention_holds: int
    contention_places: int
    contention_budget_s: float
    pg_contention: bool  # the PostgreSQL contention check too (full run only: it is slow)
    sweep_due: int
    sweep_big: int
    sweep_small: int
    sweep_rounds: int
    sweep_budget_s: float


QUICK = Sizes(
    concurrency=50,
    warmup=60,
    holds=1_000,
    pg_holds=600,
    rounds=3,
    round_budget_s=2.0,
    contention_holds=2_000,
    contention_places=500,
    contention_budget_s=40,
    pg_contention=False,
    sweep_due=2_000,
    sweep_big=200_000,
    sweep_small=20_000,
    sweep_rounds=3,
    sweep_budget_s=30,
)
FULL = Sizes(
    concurrency=50,
    warmup=300,
    holds=3_000,
    pg_holds=2_000,
    rounds=3,
    round_budget_s=60,
    contention_holds=2_000,
    contention_places=500,
    contention_budget_s=120,
    pg_contention=True,
    sweep_due=10_000,
    sweep_big=1_000_000,
    sweep_small=100_000,
    sweep_rounds=3,
    sweep_budget_s=300,
)
PLACES = 2  # two GA places per hold
POOL = 30  # the service engine's pool on PostgreSQL: pool_size=30, max_overflow=0
# Each bench customer holds again and again: a limit of open holds that never refuses, so that
# the service still pays for counting them (and, on PostgreSQL, for locking the customer row).
OPEN_HOLDS = 1_000_000


def say(text: str = "") -> None:
    print(text, flush=True)


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def sqlite_ts(at: datetime) -> str:
    """How SQLAlchemy stores a UTCDateTime on SQLite: naive UTC text with microseconds."""
    return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- the two sides of the holds benchmark -------------------------------------------------------


class ServiceHolds:
    """``holds.hold`` through the real context, as the bot or the console calls it."""

    def __init__(self, ctx: Context, cat: BenchCatalog, people: list[CustomerView]) -> None:
        self.ctx = ctx
        self.performance_id = cat.performance_ids[0]
        self.lines = [holds.Line(cat.tariff_id, quantity=PLACES)]
        self.people = [(c.id, as_customer(c)) for c in people]

    async def one(self, worker: int, i: int) -> None:
        customer_id, actor = self.people[worker % len(self.people)]
        await holds.hold(
            self.ctx,
            actor=actor,
            customer_id=customer_id,
            performance_id=self.performance_id,
            lines=self.lines,
        )


BOOKING_COLUMNS = (
    "reference, customer_id, organization_id, event_id, performance_id, channel, status, "
    "checkout, deadline, deadline_set_at, starts_at, total_minor, currency, refund_due, "
    "extension_count, cancel_reason, cancel_note, created_at, updated_at"
)
ITEM_COLUMNS = (
    "booking_id, performance_id, tariff_id, area_id, seat_id, price_minor, discount_minor"
)
HISTORY_COLUMNS = "booking_id, at, actor_kind, actor_id, actor_name, channel, action, detail"
OUTBOX_COLUMNS = (
    "dedupe_key, kind, channel, booking_id, customer_id, locale, payload, status, attempts, "
    "next_attempt_at, lease_until, lease_owner, last_error, created_at, sent_at"
)


def _values(columns: str, start: int = 1, qmark: bool = True) -> str:
    n = columns.count(",") + 1
    return ", ".join("?" if qmark else f"${start + k}" for k in range(n))


def baseline_sql(qmark: bool) -> dict[str, str]:
    """The statements a GA hold writes, for aiosqlite (?) or asyncpg ($n)."""
    p = (lambda k: "?") if qmark else (lambda k: f"${k}")
    returning = "" if qmark else " RETURNING id"
    return {
        # asyncpg: ($1 performance, $2 tariff, $3 customer); aiosqlite binds in text order
        # (tariff, customer, performance): see BaselineRows.check_args.
        "check": (
            "SELECT p.event_id, p.starts_at, p.on_sale, p.days_after_booking, "
            "p.days_before_event, e.timezone, e.max_per_order, e.days_after_booking, "
            "e.days_before_event, t.event_id, t.area_id, t.price_minor, e.currency, t.active, "
            "t.hold_channels, t.customer_types, t.days_after_booking, t.days_before_event, "
            "a.kind, c.customer_type, c.organization_id, c.language, c.email, "
            "c.email_undeliverable, c.telegram_chat_id, c.telegram_unreachable "
            "FROM performance p JOIN event e ON e.id = p.event_id "
            f"JOIN tariff t ON t.id = {p(2)} JOIN area a ON a.id = t.area_id "
            f"JOIN customer c ON c.id = {p(3)} WHERE p.id = {p(1)}"
        ),
        # aiosqlite binds (n, performance, area, n); asyncpg reuses $1.
        "gauge": (
            f"UPDATE gauge SET remaining = remaining - {p(1)} "
            f"WHERE performance_id = {p(2)} AND area_id = {p(3)} AND remaining >= {p(1)}"
        ),
        "booking": (
            f"INSERT INTO booking ({BOOKING_COLUMNS}) "
            f"VALUES ({_values(BOOKING_COLUMNS, qmark=qmark)}){returning}"
        ),
        "item": f"INSERT INTO item ({ITEM_COLUMNS}) VALUES ({_values(ITEM_COLUMNS, qmark=qmark)})",
        "history": (
            f"INSERT INTO historyentry ({HISTORY_COLUMNS}) "
            f"VALUES ({_values(HISTORY_COLUMNS, qmark=qmark)})"
        ),
        "outbox": (
            f"INSERT INTO outboxmessage ({OUTBOX_COLUMNS}) "
            f"VALUES ({_values(OUTBOX_COLUMNS, qmark=qmark)}) ON CONFLICT (dedupe_key) DO NOTHING"
        ),
    }


class BaselineRows:
    """What one hold writes, computed the way the service computes it (per hold)."""

    def __init__(
        self, cat: BenchCatalog, people: list[CustomerView], clock: FrozenClock, sqlite: bool
    ) -> None:
        self.cat = cat
        self.performance_id = cat.performance_ids[0]
        self.starts_at = cat.starts_at[0]
        self.people = people
        self.clock = clock
        self.sqlite = sqlite
        self.serial = itertools.count(1)  # references stay unique across rounds

    def ts(self, at: datetime) -> Any:
        return sqlite_ts(at) if self.sqlite else at

    def check(self, row: Any, now: datetime) -> dict[str, Any]:
        """The checks of a hold on the row the validation read returned (raises as it does)."""
        if row is None or not row[2]:
            raise BookingError("unknown_performance")
        starts_at = row[1]
        if isinstance(starts_at, str):  # SQLite: naive UTC text
            starts_at = datetime.fromisoformat(starts_at).replace(tzinfo=UTC)
        if starts_at <= now:
            raise BookingError("performance_started")
        if row[9] != row[0] or not row[13]:
            raise BookingError("unknown_tariff")
        if row[6] < PLACES:
            raise BookingError("bad_quantity")
        if "telegram" not in row[14].split(","):
            raise BookingError("not_eligible_channel")
        if row[19] not in row[15].split(","):
            raise BookingError("not_eligible_customer")
        # The tariff's rule, else the date's, else the event's (holds.effective_rule).
        rules = (row[16:18], row[3:5])
        rule = next(
            (DeadlineRule(a, b) for a, b in rules if a is not None or b is not None),
            DeadlineRule(row[7], row[8]),
        )
        deadline = compute_deadline(rule, booked_at=now, starts_at=starts_at, timezone=row[5])
        if deadline is None:
            raise BookingError("buy_only")
        assert row[18] == "ga" and row[10] == self.cat.area_id  # a GA benchmark
        if row[22] and not row[23]:
            channel = "email"  # the customer acts in Telegram: no Telegram notice
        else:
            raise AssertionError("the bench customers have an email")
        return {
            "starts_at": starts_at,
            "deadline": deadline,
            "price": row[11],
            "currency": row[12],
            "organization_id": row[20],
            "language": row[21],
            "channel": channel,
        }

    def rows(self, worker: int, i: int, now: datetime, ok: dict[str, Any]) -> dict[str, Any]:
        customer = self.people[worker % len(self.people)]
        deadline, price = ok["deadline"], ok["price"]
        # "0" is not in the reference alphabet: never clashes with the service's references.
        false: Any = 0 if self.sqlite else False
        booking = (
            f"0{next(self.serial):08d}",
            customer.id,
            ok["organization_id"],
            self.cat.event_id,
            self.performance_id,
            "telegram",
            "held",
            false,
            self.ts(deadline),
            self.ts(now),
            self.ts(ok["starts_at"]),
            price * PLACES,
            ok["currency"],
            false,
            0,
            None,
            "",
            self.ts(now),
            self.ts(now),
        )
        detail = json.dumps({"deadline": deadline, "places": PLACES}, default=str, sort_keys=True)
        return {
            "booking": booking,
            "history": lambda b: (
                b,
                self.ts(now),
                "customer",
                customer.id,
                customer.name,
                "telegram",
                "held",
                detail,
            ),
            "items": lambda b: (
                [(b, self.performance_id, self.cat.tariff_id, self.cat.area_id, None, price, 0)]
                * PLACES
            ),
            "outbox": lambda b: (
                f"held:{b}:{ok['channel']}",
                "booking_held",
                ok["channel"],
                b,
                customer.id,
                ok["language"],
                "{}",
                "pending",
                0,
                self.ts(now),
                None,
                "",
                "",
                self.ts(now),
                None,
            ),
        }

    def check_args(self, worker: int) -> tuple[int, int, int]:
        customer = self.people[worker % len(self.people)]
        if self.sqlite:
            return self.cat.tariff_id, customer.id, self.performance_id
        return self.performance_id, self.cat.tariff_id, customer.id


class SqliteBaseline:
    """Plain aiosqlite: one connection, same pragmas as the engine, writers behind a lock."""

    def __init__(self, db: Any, rows: BaselineRows) -> None:
        self.db = db
        self.rows = rows
        self.lock = asyncio.Lock()
        self.sql = baseline_sql(qmark=True)

    @classmethod
    async def open(cls, path: Path, rows: BaselineRows) -> SqliteBaseline:
        import aiosqlite

        db = await aiosqlite.connect(str(path), timeout=30, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            await db.execute(f"PRAGMA {pragma}")
        return cls(db, rows)

    async def close(self) -> None:
        await self.db.close()

    async def one(self, worker: int, i: int) -> None:
        sql, db, cat, rows = self.sql, self.db, self.rows.cat, self.rows
        now = rows.clock.now()
        async with self.lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                found = await db.execute_fetchall(sql["check"], rows.check_args(worker))
                r = rows.rows(worker, i, now, rows.check(found[0] if found else None, now))
                cur = await db.execute(
                    sql["gauge"], (PLACES, self.rows.performance_id, cat.area_id, PLACES)
                )
                if cur.rowcount != 1:
                    raise BookingError("sold_out")
                cur = await db.execute(sql["booking"], r["booking"])
                booking_id = cur.lastrowid
                await db.executemany(sql["item"], r["items"](booking_id))
                await db.execute(sql["history"], r["history"](booking_id))
                await db.execute(sql["outbox"], r["outbox"](booking_id))
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise


class PgBaseline:
    """Plain asyncpg: a pool as large as the engine's, one transaction per hold."""

    def __init__(self, pool: Any, rows: BaselineRows) -> None:
        self.pool = pool
        self.rows = rows
        self.sql = baseline_sql(qmark=False)

    @classmethod
    async def open(cls, dsn: str, rows: BaselineRows) -> PgBaseline:
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=POOL)
        return cls(pool, rows)

    async def close(self) -> None:
        await self.pool.close()

    async def one(self, worker: int, i: int) -> None:
        sql, cat, rows = self.sql, self.rows.cat, self.rows
        now = rows.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            found = await conn.fetchrow(sql["check"], *rows.check_args(worker))
            r = rows.rows(worker, i, now, rows.check(found, now))
            booking_id = await conn.fetchval(sql["booking"], *r["booking"])
            await conn.executemany(sql["item"], r["items"](booking_id))
            await conn.execute(sql["history"], *r["history"](booking_id))
            await conn.execute(sql["outbox"], *r["outbox"](booking_id))
            # Last, just before COMMIT: the gauge row's lock is held for one statement.
            status = await conn.execute(sql["gauge"], PLACES, self.rows.performance_id, cat.area_id)
            if status != "UPDATE 1":
                raise BookingError("sold_out")


# -- holds/s: service vs baseline ---------------------------------------------------------------


def report_round(label: str, r: DriveResult) -> None:
    extra = ""
    if r.errors:
        extra += f"  ERRORS {dict(r.errors)}"
    if r.timed_out:
        extra += f"  (time-bounded: {r.done} of {r.requested})"
    say(
        f"    {label:<11} {r.done:>6} holds in {r.elapsed:6.2f} s = {r.per_s:8,.0f} holds/s, "
        f"{r.cpu_us:7,.0f} us CPU/hold{extra}"
    )


@dataclass
class Compared:
    service: list[float]  # holds/s per round
    baseline: list[float]
    service_cpu: list[float]  # process CPU us per hold per round
    baseline_cpu: list[float]
    errors: int

    def summary(self, name: str) -> tuple[float, float | None]:
        s, b = median(self.service), median(self.baseline)
        ratio = s / b if b else None
        sc, bc = median(self.service_cpu), median(self.baseline_cpu)
        say(
            f"  {name} service  median {s:8,.0f} holds/s  rounds {spread(self.service)}"
            f"  ({sc:,.0f} us CPU/hold)"
        )
        say(
            f"  {name} baseline median {b:8,.0f} holds/s  rounds {spread(self.baseline)}"
            f"  ({bc:,.0f} us CPU/hold)"
        )
        say(
            f"  {name} ratio service/baseline = {fmt(ratio)}  (goal >= 0.5); by CPU per hold "
            f"{fmt(bc / sc if sc else None)}" + (f"  [{self.errors} errors]" if self.errors else "")
        )
        return s, ratio


async def compare(
    sizes: Sizes, n: int, service: Callable[..., Any], baseline: Callable[..., Any]
) -> Compared:
    """Warm both sides, then alternate timed rounds (order flipped every round)."""
    errors = 0
    for label, one in (("service", service), ("baseline", baseline)):
        warm = await drive(sizes.warmup, sizes.concurrency, one, budget_s=sizes.round_budget_s)
        errors += sum(warm.errors.values())
        say(f"    warm-up {label}: {warm.done} holds (excluded)")
    c = Compared([], [], [], [], 0)
    for k in range(sizes.rounds):
        order = [
            ("service", service, c.service, c.service_cpu),
            ("baseline", baseline, c.baseline, c.baseline_cpu),
        ]
        if k % 2:
            order.reverse()
        for label, one, out, cpu in order:
            r = await drive(n, sizes.concurrency, one, budget_s=sizes.round_budget_s)
            report_round(f"{label} #{k + 1}", r)
            errors += sum(r.errors.values())
            out.append(r.per_s)
            cpu.append(r.cpu_us)
    c.errors = errors
    say(f"    ({load()})")
    return c


def rows_per_hold(path: Path, performance_ids: dict[str, int]) -> dict[str, tuple[float, ...]]:
    """Rows written per booking on each side (booking, items, history, outbox): same work?"""
    out = {}
    with sqlite3.connect(path) as conn:
        for label, pid in performance_ids.items():
            b, i, h, o = conn.execute(
                "SELECT count(*), "
                "(SELECT count(*) FROM item WHERE performance_id = ?), "
                "(SELECT count(*) FROM historyentry WHERE booking_id IN "
                "  (SELECT id FROM booking WHERE performance_id = ?)), "
                "(SELECT count(*) FROM outboxmessage WHERE booking_id IN "
                "  (SELECT id FROM booking WHERE performance_id = ?)) "
                "FROM booking WHERE performance_id = ?",
                (pid, pid, pid, pid),
            ).fetchone()
            out[label] = (b, i / max(b, 1), h / max(b, 1), o / max(b, 1))
    return out


async def sqlite_holds(sizes: Sizes, workdir: Path, template: Path) -> tuple[float, float | None]:
    say(
        f"== SQLite: {PLACES}-place GA holds, {sizes.concurrency} concurrent tasks, "
        f"{sizes.holds:,} holds x {sizes.rounds} rounds per side ({load()}) =="
    )
    path = sqlite_copy(template, workdir / "holds.db")
    clock = FrozenClock(NOW)
    ctx = make_context(sqlite_url(path), clock, max_open_holds=OPEN_HOLDS)
    baseline: SqliteBaseline | None = None
    try:
        cat_s = await make_catalog(ctx, name="Service hall", capacity=10_000_000)
        cat_b = await make_catalog(ctx, name="Baseline hall", capacity=10_000_000)
        people = await make_customers(ctx, sizes.concurrency, "holds")
        service = ServiceHolds(ctx, cat_s, people)
        baseline = await SqliteBaseline.open(path, BaselineRows(cat_b, people, clock, sqlite=True))
        compared = await compare(sizes, sizes.holds, service.one, baseline.one)
    finally:
        if baseline is not None:
            await baseline.close()
        await ctx.close()
    work = rows_per_hold(
        path, {"service": cat_s.performance_ids[0], "baseline": cat_b.performance_ids[0]}
    )
    for label, (b, i, h, o) in work.items():
        say(
            f"    rows per hold, {label:<8}: {b:,} bookings, items {i:.2f}, history {h:.2f}, "
            f"outbox {o:.2f}"
        )
    return compared.summary("SQLite")


async def pg_holds(sizes: Sizes, url: str, dsn: str) -> float | None:
    say(
        f"== PostgreSQL: {PLACES}-place GA holds, {sizes.concurrency} concurrent tasks on one "
        f"performance, {sizes.pg_holds:,} holds x {sizes.rounds} rounds per side, "
        f"asyncpg pool {POOL} ({load()}) =="
    )
    clock = FrozenClock(NOW)
    ctx = make_context(url, clock, max_open_holds=OPEN_HOLDS)
    baseline: PgBaseline | None = None
    try:
        cat_s = await make_catalog(ctx, name="Service hall", capacity=10_000_000)
        cat_b = await make_catalog(ctx, name="Baseline hall", capacity=10_000_000)
        people = await make_customers(ctx, sizes.concurrency, "holds")
        service = ServiceHolds(ctx, cat_s, people)
        baseline = await PgBaseline.open(dsn, BaselineRows(cat_b, people, clock, sqlite=False))
        compared = await compare(sizes, sizes.pg_holds, service.one, baseline.one)
        async with baseline.pool.acquire() as conn:
            for label, cat in (("service", cat_s), ("baseline", cat_b)):
                pid = cat.performance_ids[0]
                b, i, h, o = await conn.fetchrow(
                    "SELECT count(*), "
                    "(SELECT count(*) FROM item WHERE performance_id = $1), "
                    "(SELECT count(*) FROM historyentry h JOIN booking x ON x.id = h.booking_id "
                    "  WHERE x.performance_id = $1), "
                    "(SELECT count(*) FROM outboxmessage m JOIN booking x ON x.id = m.booking_id "
                    "  WHERE x.performance_id = $1) "
                    "FROM booking WHERE performance_id = $1",
                    pid,
                )
                say(
                    f"    rows per hold, {label:<8}: {b:,} bookings, items {i / b:.2f}, "
                    f"history {h / b:.2f}, outbox {o / b:.2f}"
                )
    finally:
        if baseline is not None:
            await baseline.close()
        await ctx.close()
    _, ratio = compared.summary("PostgreSQL")
    return ratio


# -- contention -----------------------------------------------------------------------------------


async def contention(sizes: Sizes, url: str, label: str) -> int:
    """N holds of 1 place racing for P places: exactly P sold, only sold_out refusals."""
    ctx = make_context(url, FrozenClock(NOW), max_open_holds=OPEN_HOLDS)
    try:
        cat = await make_catalog(
            ctx, name=f"Contention hall {label}", capacity=sizes.contention_places
        )
        people = await make_customers(ctx, sizes.concurrency, f"race{label}")
        actors = [(c.id, as_customer(c)) for c in people]
        pid = cat.performance_ids[0]
        lines = [holds.Line(cat.tariff_id, quantity=1)]

        async def one(worker: int, i: int) -> None:
            customer_id, actor = actors[worker % len(actors)]
            await holds.hold(
                ctx, actor=actor, customer_id=customer_id, performance_id=pid, lines=lines
            )

        r = await drive(
            sizes.contention_holds, sizes.concurrency, one, budget_s=sizes.contention_budget_s
        )

        async def check(session: Any) -> tuple[int, int, int]:
            from sqlalchemy import text

            row = (
                await session.execute(
                    text(
                        "SELECT (SELECT count(*) FROM booking WHERE performance_id = :p"
                        " AND status = 'held'),"
                        " (SELECT count(*) FROM item WHERE performance_id = :p),"
                        " (SELECT remaining FROM gauge WHERE performance_id = :p)"
                    ),
                    {"p": pid},
                )
            ).one()
            return int(row[0]), int(row[1]), int(row[2])

        booked, items, remaining = await ctx.db.read(check)
    finally:
        await ctx.close()
    other = {k: v for k, v in r.errors.items() if k != "sold_out"}
    ok = (
        r.done == booked == items == sizes.contention_places
        and remaining == 0
        and not other
        and r.done + r.errors["sold_out"] == sizes.contention_holds
    )
    say(
        f"  {label}: {r.done + sum(r.errors.values()):,} attempts of 1 place for "
        f"{sizes.contention_places} places in {r.elapsed:.2f} s: sold {r.done} (db: {booked} "
        f"bookings, {items} items, gauge remaining {remaining}), sold_out "
        f"{r.errors['sold_out']}, other errors {sum(other.values())} {other or ''} "
        f"-> {'OK' if ok else 'FAILED'}"
    )
    return booked if r.done == booked else -1


# -- the release sweep ---------------------------------------------------------------------------


SEED_BOOKINGS = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n),
s AS (
    SELECT i, CASE WHEN i % :step = 0 AND i / :step <= :k THEN i / :step ELSE 0 END AS k
    FROM seq
),
t AS (
    SELECT i, k,
        CASE WHEN k > 0 THEN 'held' WHEN i % 20 = 7 THEN 'held'
             WHEN i % 4 = 1 THEN 'expired' ELSE 'confirmed' END AS status,
        CASE WHEN k = 0 THEN -1 WHEN k <= :w THEN 0 ELSE 1 + (k - :w - 1) % :r END AS band
    FROM s
)
INSERT INTO booking (id, {columns})
SELECT t.i, printf('B%08d', t.i), :c0 + t.i % :nc, NULL, :event, p.id, 'telegram', t.status, 0,
    CASE WHEN t.band >= 0 THEN {ts}(:base + t.band * 86400 + t.i % 3600)
         WHEN t.status = 'held' THEN {ts}(:base + 30 * 86400 + t.i % 3600)
         ELSE {ts}(:base - 10 * 86400) END,
    {ts}(:base - 7 * 86400), p.starts_at, 9000, 'CHF', 0, 0, NULL, '',
    {ts}(:base - 8 * 86400), {ts}(:base - 8 * 86400)
FROM t JOIN temp.perf p ON p.k = t.i % :np
"""


def _ts_sql(sql: str) -> str:
    """Expand {ts}(x) into SQLite text timestamps the way SQLAlchemy stores them."""
    out, marker = sql, "{ts}("
    while marker in out:
        start = out.index(marker)
        depth, j = 1, start + len(marker)
        while depth:
            depth += {"(": 1, ")": -1}.get(out[j], 0)
            j += 1
        inner = out[start + len(marker) : j - 1]
        out = (
            out[:start]
            + f"(strftime('%Y-%m-%d %H:%M:%S', {inner}, 'unixepoch') || '.000000')"
            + out[j:]
        )
    return out


def seed_sweep(
    path: Path,
    *,
    n: int,
    due: int,
    rounds: int,
    warm: int,
    event_id: int,
    tariff_id: int,
    area_id: int,
    customers: int,
) -> None:
    """Bookings with 2 GA items and a history row each: mostly confirmed/expired, ~5% held
    with a future deadline, and ``warm + rounds * due`` held whose deadlines fall in bands
    (band 0 the warm-up, then one band of exactly ``due`` per round, spread over the table)."""
    k = warm + rounds * due
    step = n // k
    assert step >= 1, "too many due holds for the table"
    base = int(NOW.timestamp())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-400000")
        conn.execute("BEGIN")
        conn.execute(
            _ts_sql(
                "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :nc) "
                "INSERT INTO customer (name, email, email_key, phone, language, telegram_user_id, "
                "telegram_chat_id, telegram_unreachable, email_undeliverable, company, postcode, "
                "categories, newsletter, customer_type, organization_id, created_at) "
                "SELECT 'Sweep ' || i, 'sweep' || i || '@bench.example.org', "
                "'sweep' || i || '@bench.example.org', '', 'en', NULL, NULL, 0, 0, '', '', '', 0, "
                "'individual', NULL, {ts}(:base) FROM seq"
            ),
            {"nc": customers, "base": base},
        )
        (c0,) = conn.execute(
            "SELECT min(id) FROM customer WHERE email_key LIKE 'sweep%'"
        ).fetchone()
        conn.execute("CREATE TEMP TABLE perf (k INTEGER PRIMARY KEY, id INTEGER, starts_at TEXT)")
        conn.execute(
            "INSERT INTO temp.perf SELECT row_number() OVER (ORDER BY id) - 1, id, "
            "starts_at FROM performance WHERE event_id = ?",
            (event_id,),
        )
        (np_,) = conn.execute("SELECT count(*) FROM temp.perf").fetchone()
        conn.execute(
            _ts_sql(SEED_BOOKINGS.replace("{columns}", BOOKING_COLUMNS)),
            {
                "n": n,
                "step": step,
                "k": k,
                "w": warm,
                "r": rounds,
                "c0": c0,
                "nc": customers,
                "event": event_id,
                "base": base,
                "np": np_,
            },
        )
        conn.execute(
            f"INSERT INTO item ({ITEM_COLUMNS}) SELECT b.id, b.performance_id, ?, ?, NULL, 4500, 0 "
            "FROM booking b CROSS JOIN (SELECT 1 UNION ALL SELECT 2) ORDER BY b.id",
            (tariff_id, area_id),
        )
        conn.execute(
            f"INSERT INTO historyentry ({HISTORY_COLUMNS}) SELECT id, created_at, 'customer', "
            "customer_id, 'Sweep', 'telegram', 'held', '{}' FROM booking ORDER BY id"
        )
        conn.execute(
            "UPDATE gauge SET remaining = capacity - 2 * (SELECT count(*) FROM booking b "
            "WHERE b.performance_id = gauge.performance_id "
            "AND b.status IN ('held', 'overdue', 'confirmed')) "
            "WHERE performance_id IN (SELECT id FROM temp.perf)"
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def sweep_state(path: Path, clock_at: datetime) -> tuple[int, int, int, bool]:
    """(bookings, held with a past deadline, held in the future, gauges consistent)."""
    with sqlite3.connect(path) as conn:
        now = sqlite_ts(clock_at)
        total = conn.execute("SELECT max(id) FROM booking").fetchone()[0]
        due = conn.execute(
            "SELECT count(*) FROM booking WHERE status = 'held' AND deadline <= ?", (now,)
        ).fetchone()[0]
        future = conn.execute(
            "SELECT count(*) FROM booking WHERE status = 'held' AND deadline > ?", (now,)
        ).fetchone()[0]
        bad = conn.execute(
            "SELECT count(*) FROM gauge g WHERE g.remaining != g.capacity - (SELECT count(*) "
            "FROM item i JOIN booking b ON b.id = i.booking_id WHERE i.performance_id = "
            "g.performance_id AND i.area_id = g.area_id AND b.status IN ('held', 'overdue', "
            "'confirmed'))"
        ).fetchone()[0]
    return total, due, future, bad == 0


@dataclass
class SweepDb:
    label: str
    path: Path
    size: int
    ctx: Context
    clock: FrozenClock


async def build_sweep_db(
    sizes: Sizes, workdir: Path, template: Path, n: int, label: str
) -> SweepDb:
    path = sqlite_copy(template, workdir / f"sweep_{label}.db")
    clock = FrozenClock(NOW)
    ctx = make_context(sqlite_url(path), clock)
    try:
        cat = await make_catalog(
            ctx,
            name=f"Sweep hall {label}",
            capacity=2 * n,
            performances=20,
            starts_in=timedelta(days=60),
        )
    finally:
        await ctx.close()
    started = time.perf_counter()
    await asyncio.to_thread(
        seed_sweep,
        path,
        n=n,
        due=sizes.sweep_due,
        rounds=sizes.sweep_rounds,
        warm=sizes.sweep_due // 5,
        event_id=cat.event_id,
        tariff_id=cat.tariff_id,
        area_id=cat.area_id,
        customers=1_000,
    )
    total, _, held, consistent = sweep_state(path, NOW - timedelta(days=1))
    say(
        f"    seeded {label}: {total:,} bookings ({held:,} held, all deadlines ahead), "
        f"{2 * total:,} items, {total:,} history rows in {time.perf_counter() - started:.1f} s; "
        f"gauges consistent: {consistent}"
    )
    return SweepDb(label, path, total, make_context(sqlite_url(path), clock), clock)


async def timed_sweep(db: SweepDb, band: int, expect: int, budget_s: float) -> float:
    db.clock.set(NOW + timedelta(days=band, hours=2))
    _, due, _, _ = sweep_state(db.path, db.clock.now())
    if due != expect:
        raise AssertionError(f"{db.label}: {due} due holds before round {band}, expected {expect}")
    started = time.perf_counter()
    report = await asyncio.wait_for(releases.release_due(db.ctx), timeout=budget_s)
    elapsed = time.perf_counter() - started
    if report.expired + report.overdue != expect:
        raise AssertionError(f"{db.label}: released {report} of {expect}")
    return elapsed


async def sweep(sizes: Sizes, workdir: Path, template: Path) -> float | None:
    say(
        f"== release_due: {sizes.sweep_due:,} due holds among {sizes.sweep_big:,} vs "
        f"{sizes.sweep_small:,} bookings, {sizes.sweep_rounds} rounds ({load()}) =="
    )
    small = await build_sweep_db(sizes, workdir, template, sizes.sweep_small, "small")
    big = await build_sweep_db(sizes, workdir, template, sizes.sweep_big, "big")
    times: dict[str, list[float]] = {"small": [], "big": []}
    try:
        for db in (small, big):  # band 0: warm-up (connections, statement compilation, cache)
            t = await timed_sweep(db, 0, sizes.sweep_due // 5, sizes.sweep_budget_s)
            say(
                f"    warm-up {db.label}: {sizes.sweep_due // 5:,} released in {t:.2f} s (excluded)"
            )
        for band in range(1, sizes.sweep_rounds + 1):
            order = [small, big] if band % 2 else [big, small]
            for db in order:
                t = await timed_sweep(db, band, sizes.sweep_due, sizes.sweep_budget_s)
                times[db.label].append(t)
                say(
                    f"    round {band} {db.label:<5} ({db.size:>9,} bookings): "
                    f"{sizes.sweep_due:,} released in {t:.3f} s = {sizes.sweep_due / t:8,.0f}/s"
                )
    finally:
        for db in (small, big):
            await db.ctx.close()
    for db in (small, big):
        _, due, _, consistent = sweep_state(db.path, db.clock.now())
        say(f"    after the sweeps, {db.label}: due left {due}, gauges consistent: {consistent}")
    s, b = median(times["small"]), median(times["big"])
    ratio = b / s if s else None
    say(
        f"  release_due median: {s:.3f} s among {small.size:,}, {b:.3f} s among {big.size:,}; "
        f"ratio big/small = {fmt(ratio)}  (goal <= 1.5)"
    )
    return ratio


# -- profile ---------------------------------------------------------------------------------------


class Phases:
    """Wall time per phase of ``_hold``, by wrapping module functions in this process only.

    On SQLite the write lock serialises holds, so phases inside it never overlap and their
    sum is the per-hold critical path.
    """

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, name: str, label: str | None = None) -> None:
        original = getattr(owner, name)
        label = label or name
        phases = self

        if asyncio.iscoroutinefunction(original):

            async def wrapper(*a: Any, **kw: Any) -> Any:
                t = time.perf_counter()
                try:
                    return await original(*a, **kw)
                finally:
                    phases.total[label] += time.perf_counter() - t
                    phases.calls[label] += 1
        else:

            def wrapper(*a: Any, **kw: Any) -> Any:  # type: ignore[misc]
                t = time.perf_counter()
                try:
                    return original(*a, **kw)
                finally:
                    phases.total[label] += time.perf_counter() - t
                    phases.calls[label] += 1

        setattr(owner, name, wrapper)
        self._undo.append((owner, name, original))

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


async def profile(sizes: Sizes, workdir: Path, template: Path) -> None:
    import aiosqlite.core
    from sqlalchemy.ext.asyncio import AsyncSession

    from booking import db as booking_db
    from booking import history, outbox
    from booking.services import places
    from booking.sql import Prepared

    n = 1_000
    path = sqlite_copy(template, workdir / "profile.db")
    clock = FrozenClock(NOW)
    ctx = make_context(sqlite_url(path), clock, max_open_holds=OPEN_HOLDS)
    cat_s = await make_catalog(ctx, name="Service hall", capacity=10_000_000)
    cat_b = await make_catalog(ctx, name="Baseline hall", capacity=10_000_000)
    people = await make_customers(ctx, sizes.concurrency, "prof")
    service = ServiceHolds(ctx, cat_s, people)
    baseline = await SqliteBaseline.open(path, BaselineRows(cat_b, people, clock, sqlite=True))
    try:
        for one in (service.one, baseline.one):
            await drive(300, sizes.concurrency, one, budget_s=60)

        # 1. round trips to the aiosqlite thread and statements, per hold
        hops = Counter[str]()
        original_execute = aiosqlite.core.Connection._execute

        async def counting(self: Any, fn: Any, *a: Any, **kw: Any) -> Any:
            hops[getattr(fn, "__name__", repr(fn))] += 1
            return await original_execute(self, fn, *a, **kw)

        # Prepared statements run on the driver connection, past the engine's events: count
        # them where they reach sqlite3.
        from booking import sql as booking_sql

        original_direct = booking_sql._on_sqlite

        def direct(raw: Any, compiled: Any, values: Any) -> Any:
            words = compiled.sql.split()
            head = " ".join(words[:3]) if words[:1] == ["INSERT"] else " ".join(words[:2])
            statements[head + " (prepared, on sqlite3)"] += 1
            return original_direct(raw, compiled, values)

        aiosqlite.core.Connection._execute = counting  # type: ignore[method-assign]
        booking_sql._on_sqlite = direct  # type: ignore[assignment]
        try:
            with count_statements(ctx.db.engine) as statements:
                r = await drive(n, sizes.concurrency, service.one, budget_s=60)
            service_hops = dict(hops)
            hops.clear()
            rb = await drive(n, sizes.concurrency, baseline.one, budget_s=60)
            baseline_hops = dict(hops)
        finally:
            aiosqlite.core.Connection._execute = original_execute  # type: ignore[method-assign]
            booking_sql._on_sqlite = original_direct
        say(f"== per hold: statements and aiosqlite thread round trips ({n} holds each) ==")
        say(f"  service  ({r.per_s:,.0f} holds/s with counting on): statements per hold")
        for head, k in statements.most_common():
            say(f"    {k / r.done:5.2f}  {head}")
        say(
            f"  service round trips per hold: {sum(service_hops.values()) / r.done:.1f}  "
            + ", ".join(
                f"{k}={v / r.done:.1f}"
                for k, v in sorted(service_hops.items(), key=lambda kv: -kv[1])
            )
        )
        say(
            f"  baseline ({rb.per_s:,.0f} holds/s) round trips per hold: "
            f"{sum(baseline_hops.values()) / rb.done:.1f}  "
            + ", ".join(
                f"{k}={v / rb.done:.1f}"
                for k, v in sorted(baseline_hops.items(), key=lambda kv: -kv[1])
            )
        )

        # 2. wall time per phase of one hold (inside the SQLite write lock)
        from booking.services import holds as holds_module

        phases = Phases()
        phases.wrap(booking_db.Database, "write", "Database.write (lock wait + whole tx)")
        phases.wrap(holds_module, "_hold", "_hold (work inside the transaction)")
        phases.wrap(holds_module, "connection_of", "  connection_of (checkout + BEGIN IMMEDIATE)")
        phases.wrap(holds_module, "_read", "  _read: SELECT date+event+tariffs+areas+customer")
        phases.wrap(holds_module, "_deadline", "  _deadline (zoneinfo, rules)")
        phases.wrap(places, "take_gauge", "  take_gauge: UPDATE gauge")
        phases.wrap(Prepared, "run", "  Prepared.run (every prepared statement)")
        phases.wrap(history, "write", "  history.write: INSERT history")
        phases.wrap(outbox, "enqueue", "  outbox.enqueue: INSERT outbox")
        phases.wrap(AsyncSession, "commit", "session.commit (COMMIT)")
        phases.wrap(AsyncSession, "close", "session.close (return connection)")
        try:
            r = await drive(n, sizes.concurrency, service.one, budget_s=60)
        finally:
            phases.undo()
        say(
            f"== service: wall time per hold by phase ({r.done} holds, {r.per_s:,.0f} holds/s "
            f"with timers on, i.e. {1e6 / r.per_s:,.0f} us per hold end to end) =="
        )
        for label, total in phases.total.items():
            say(f"    {1e6 * total / r.done:8.0f} us  x{phases.calls[label] / r.done:.1f}  {label}")
        say("    (session.begin + BEGIN IMMEDIATE happen between Database.write and _hold)")

        # 3. cProfile of the service and of the baseline (main thread only)
        for label, one in (("service", service.one), ("baseline", baseline.one)):
            prof = cProfile.Profile()
            prof.enable()
            r = await drive(n, sizes.concurrency, one, budget_s=60)
            prof.disable()
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats("tottime").print_stats(28)
            say(
                f"== cProfile {label}: {r.done} holds ({r.per_s:,.0f} holds/s under the profiler),"
                f" top functions by own time =="
            )
            text = out.getvalue()
            start = text.find("ncalls")
            say(text[start:].rstrip())
    finally:
        await baseline.close()
        await ctx.close()


# -- main -----------------------------------------------------------------------------------------


async def run_all(sizes: Sizes, workdir: Path, template: Path) -> dict[str, Any]:
    started = time.perf_counter()
    sqlite_per_s, sqlite_ratio = await sqlite_holds(sizes, workdir, template)

    say(
        f"== contention: {sizes.contention_holds:,} holds of 1 place for "
        f"{sizes.contention_places} places, {sizes.concurrency} concurrent tasks ({load()}) =="
    )
    sold = await contention(
        sizes, sqlite_url(sqlite_copy(template, workdir / "contention.db")), "SQLite"
    )

    pg_ratio: float | None = None
    if await pg_available():
        pg = await create_pg_database()
        try:
            pg_ratio = await pg_holds(sizes, pg.url, pg.dsn)
            if sizes.pg_contention:
                say(f"== contention on PostgreSQL ({load()}) ==")
                pg_sold = await contention(sizes, pg.url, "PostgreSQL")
                if pg_sold != sold:
                    say(f"  WARNING: PostgreSQL sold {pg_sold}, SQLite sold {sold}")
                    sold = min(sold, pg_sold)
            else:
                say("  (the PostgreSQL contention check runs in the full run only)")
        finally:
            await drop_pg_database(pg)
            say(f"  dropped database {pg.name}")
    else:
        say("== PostgreSQL not reachable: pg_ratio is null ==")

    sweep_ratio = await sweep(sizes, workdir, template)
    say(f"total {time.perf_counter() - started:.1f} s")
    return {
        "sqlite_holds_per_s": round(sqlite_per_s, 1),
        "sqlite_ratio": None if sqlite_ratio is None else round(sqlite_ratio, 3),
        "pg_ratio": None if pg_ratio is None else round(pg_ratio, 3),
        "contention_sold": sold,
        "sweep_ratio": None if sweep_ratio is None else round(sweep_ratio, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (< 1 minute)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the SQLite hold path instead of benchmarking",
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    say(
        f"Guichet holds benchmark ({'quick' if args.quick else 'full'}"
        f"{', profile' if args.profile else ''})"
    )
    workdir = Path(tempfile.mkdtemp(prefix="guichet_bench_"))
    try:
        template = sqlite_template(workdir)  # Alembic runs its own loop: before ours
        if args.profile:
            asyncio.run(profile(sizes, workdir, template))
            return
        results = asyncio.run(run_all(sizes, workdir, template))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    say(json.dumps(results))


if __name__ == "__main__":
    main()
