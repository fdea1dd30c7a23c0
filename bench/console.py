#!/usr/bin/env python
"""The organizer console on a big season: page times against the bare SQL behind each page.

    python bench/console.py --quick   # 100,000 bookings, well under a minute
    python bench/console.py           # 1,000,000 bookings over 200 performances

A migrated SQLite database is seeded with plain SQL (customers, organizations, bookings with
their items, payments, extension requests, dead notices), then four pages are timed:

- the dashboard;
- the release screen, unfiltered and filtered by event and deadline range;
- the booking search by customer name, and by reference (which opens the booking: the
  redirect is followed, as a browser does, and both requests are timed).

Each is measured three ways in the same run, rounds interleaved:

- page: the whole request through the ASGI app (session check, role, queries, template), called
  in-process as uvicorn would call it (no HTTP client library in the timing);
- service: the core service call(s) behind the page;
- bare: every SQL statement the page sent, captured once, replayed through the raw aiosqlite
  driver in the same transactions (no ORM, no views, no templates).

Also timed: the one search for people (an accent-free, partial name typed surname first; the
start of an email; a surname's root matching 1/60 of the customers) on the bookings page,
the release screen's customer filter and the customer directory; and an empty page through
the same middleware stack (session read, role check, the console's layout), the fixed cost
under every page.

Goal: every page p95 under 200 ms and within 3x its bare SQL's p95 (the medians' ratio is
printed too), and its ratio to the empty page beside it. The last line of output is one JSON
object with ``p95_ms_max``, ``bare_ratio_max``, ``search_name_p95_ms`` and
``empty_page_p95_ms``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import aiosqlite  # noqa: E402
from sqlalchemy import event  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bench.common import NOW, load, make_context, sqlite_copy, sqlite_template, sqlite_url  # noqa: E402
from booking.context import Context  # noqa: E402
from booking.queries import dashboard, directory, release_screen, search  # noqa: E402
from booking.queries.release_screen import ReleaseFilter  # noqa: E402
from booking.queries.search import BookingFilter  # noqa: E402
from booking.rules.search_keys import fold, search_key, tokens_of  # noqa: E402
from booking.services import staff, staff_admin  # noqa: E402
from console.web.app import build_app  # noqa: E402
from console.web.pages import Page, guarded  # noqa: E402
from console.web.security import COOKIE, Session, SessionCodec, new_token  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    bookings: int
    performances: int
    events: int
    rounds: int
    warmup: int
    budget_s: float  # per scenario: stop early (and say so) rather than run forever


QUICK = Sizes(bookings=100_000, performances=200, events=20, rounds=40, warmup=5, budget_s=8)
FULL = Sizes(bookings=1_000_000, performances=200, events=20, rounds=60, warmup=5, budget_s=60)
P95_GOAL_MS = 200.0
RATIO_GOAL = 3.0
FLOOR = "empty page (the fixed cost)"
EMPTY_PATH = "/bench/empty"
SEARCH_NAME = "search by name, accent-free and partial"
SEARCH_EMAIL = "search by the start of an email"
SEARCH_BROAD = "search by a surname's root (broad)"
PASSWORD = "bench passphrase"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"


def say(text: str = "") -> None:
    print(text, flush=True)


# -- seeding with plain SQL ---------------------------------------------------------------------


def ts(expr: str) -> str:
    """SQL for a UTC timestamp stored the way SQLAlchemy stores it on SQLite."""
    return f"(strftime('%Y-%m-%d %H:%M:%S', {expr}, 'unixepoch') || '.000000')"


def reference_sql(expr: str) -> str:
    """A unique booking reference from an integer: ``expr`` scrambled by a bijection mod
    29^6, then written in the reference alphabet as XXX-XXX."""
    scrambled = f"(({expr}) * 7919 + 104729) % 594823321"
    digits = [f"substr('{ALPHABET}', ({scrambled} / {29**k}) % 29 + 1, 1)" for k in range(6)]
    return " || ".join([*digits[:3], "'-'", *digits[3:]])


FIRST = (
    "Léa",
    "Tom",
    "Nadia",
    "Marc",
    "Anne",
    "Luc",
    "Sofia",
    "Jonas",
    "Chloé",
    "Paul",
    "Emma",
    "Hugo",
    "Zoé",
    "Louis",
    "Inès",
    "Noah",
    "Alice",
    "Jules",
    "Lina",
    "Adam",
)
LAST = (
    "Rochat",
    "Favre",
    "Perrin",
    "Weber",
    "Morel",
    "Blanc",
    "Keller",
    "Dubois",
    "Meier",
    "Rossi",
    "Bovet",
    "Jaquet",
    "Gerber",
    "Moser",
    "Baumann",
    "Huber",
    "Girard",
    "Vuille",
    "Roux",
    "Bonvin",
    "Cuche",
    "Monnier",
    "Python",
    "Rey",
    "Pittet",
    "Zbinden",
    "Chappuis",
    "Mottier",
    "Sauthier",
    "Burri",
)
SUFFIX = (
    "",
    "et",
    "on",
    "az",
    "ier",
    "ard",
    "in",
    "oz",
    "ey",
    "ot",
    "at",
    "ud",
    "el",
    "and",
    "is",
    "ex",
    "ouz",
    "eau",
    "aux",
    "ens",
)


def seed(path: Path, sizes: Sizes) -> dict[str, Any]:
    """Everything the console reads, in one transaction of plain SQL; returns what the
    scenarios need (an event, a reference, a surname, the admin's email)."""
    now = int(NOW.timestamp())
    n, nc = sizes.bookings, max(1000, sizes.bookings // 5)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-500000")
        conn.execute("BEGIN")
        _catalogue(conn, sizes, now)
        _people(conn, nc, now)
        _search_keys(conn)
        _bookings(conn, n, nc, now)
        surname = LAST[7] + SUFFIX[4]  # "Duboisier": one surname of 600, ~1/600 of customers
        # Surname first, cut short, the first name without its accent: "cucheau lea" for
        # Léa Cucheaux, one surname of 600 as in "search by name". (A surname's root alone,
        # "cuch lea", matches its 20 variants: 1/60 of the customers; see the README.)
        typed_name = next(
            f"{last[:-1].lower()} {fold(first)}"
            for first, last in (
                row[0].split()
                for row in conn.execute(
                    "SELECT name FROM customer WHERE name LIKE 'Léa %' ORDER BY id LIMIT 100"
                )
            )
            if last not in LAST
        )
        # The same surname's root alone: all 20 variants of it with that first name, 1/60 of
        # the customers (~17,000 bookings at 1,000,000): the broad plan (search.BROAD_CUSTOMERS).
        root = next(r for r in LAST if typed_name.startswith(r[:-1].lower()))
        broad_name = f"{fold(root[:4])} {typed_name.split()[1]}"
        typed_email = "c1234"  # the start of an address: c1234@, c12340@…, c123400@…
        reference = conn.execute(
            "SELECT reference FROM booking WHERE id = ?", (n // 2,)
        ).fetchone()[0]
        event_id = conn.execute("SELECT min(id) FROM event WHERE policy = 'flexible'").fetchone()[0]
        hashed = staff.hash_password(PASSWORD)
        conn.execute(
            "INSERT INTO staffuser (email, name, password_hash, role, active, created_at, "
            f"language, session_epoch) VALUES ('boss@bench.example', 'Bench Boss', ?, 'admin', "
            f"1, {ts(str(now))}, 'en', 0)",
            (hashed,),
        )
        conn.execute("COMMIT")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("booking", "item", "customer", "payment", "extensionrequest", "outboxmessage")
        }
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return {
        "surname": surname,
        "typed_name": typed_name,
        "broad_name": broad_name,
        "typed_email": typed_email,
        "reference": reference,
        "event_id": event_id,
        "counts": counts,
    }


def _catalogue(conn: sqlite3.Connection, sizes: Sizes, now: int) -> None:
    per_event = sizes.performances // sizes.events
    conn.execute("INSERT INTO venue (name, address) VALUES ('Bench Hall', '')")
    conn.execute(
        "INSERT INTO area (venue_id, name, kind, capacity) VALUES (1, 'Floor', 'ga', 2000000)"
    )
    conn.execute(
        "INSERT INTO season (name, starts_on, ends_on) VALUES ('2026/27', '2026-09-01', "
        "'2027-06-30')"
    )
    conn.execute(
        "WITH RECURSIVE e(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM e WHERE i < ?) "
        "INSERT INTO event (title, description, season_id, venue_id, timezone, policy, "
        "days_after_booking, days_before_event, reminder_offsets, extension_days, "
        "auto_extend_days, cancellation_allowed, max_per_order) "
        "SELECT 'Bench Show ' || i, '', 1, 1, 'Europe/Zurich', "
        "CASE WHEN i % 2 THEN 'flexible' ELSE 'firm' END, 7, NULL, '4320,1440', 7, 0, 0, 10 "
        "FROM e",
        (sizes.events,),
    )
    conn.execute(
        "WITH RECURSIVE p(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM p WHERE i < ? - 1) "
        "INSERT INTO performance (event_id, starts_at, policy, days_after_booking, "
        "days_before_event, on_sale) SELECT i / ? + 1, "
        f"{ts('? + 86400 * (5 + (i * 7) % 120) + 72000')}, NULL, NULL, NULL, 1 FROM p",
        (sizes.performances, per_event, now),
    )
    conn.execute(
        "INSERT INTO tariff (event_id, area_id, name, price_minor, hold_channels, "
        "buy_channels, customer_types, days_after_booking, days_before_event, active) "
        "SELECT id, 1, 'Standard', 4500, 'telegram,email,console,import', "
        "'telegram,email,console,import', 'individual,group,b2b', NULL, NULL, 1 FROM event"
    )
    conn.execute(
        "INSERT INTO gauge (performance_id, area_id, capacity, remaining) "
        "SELECT id, 1, 2000000, 1000000 FROM performance"
    )


def _people(conn: sqlite3.Connection, nc: int, now: int) -> None:
    for table, values in (("first", FIRST), ("last", LAST), ("suffix", SUFFIX)):
        conn.execute(f"CREATE TEMP TABLE {table} (k INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany(f"INSERT INTO temp.{table} VALUES (?, ?)", enumerate(values))
    conn.execute(
        "WITH RECURSIVE o(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM o WHERE i < 500) "
        "INSERT INTO organization (name, kind) SELECT 'Company ' || i, 'b2b' FROM o"
    )
    conn.execute(
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
        "INSERT INTO customer (name, email, email_key, phone, language, telegram_user_id, "
        "telegram_chat_id, telegram_unreachable, email_undeliverable, company, postcode, "
        "categories, newsletter, customer_type, organization_id, created_at) "
        "SELECT f.v || ' ' || l.v || s.v, 'c' || i || '@bench.example.org', "
        "'c' || i || '@bench.example.org', '', CASE WHEN i % 3 THEN 'fr' ELSE 'en' END, "
        "NULL, NULL, 0, 0, '', '', '', 0, CASE WHEN i % 10 = 0 THEN 'b2b' ELSE 'individual' END, "
        f"CASE WHEN i % 10 = 0 THEN i / 10 % 500 + 1 END, {ts('?')} FROM c "
        "JOIN temp.first f ON f.k = (i * 7) % 20 JOIN temp.last l ON l.k = (i * 13) % 30 "
        "JOIN temp.suffix s ON s.k = (i / 30 * 11) % 20",
        (nc, now),
    )


def _search_keys(conn: sqlite3.Connection) -> None:
    """Each customer's search key and tokens, folded in Python as the services' write hooks
    and migration 0008 fold them (booking.rules.search_keys)."""
    rows = conn.execute("SELECT id, name, email_key, phone, company FROM customer").fetchall()
    keys = [(search_key(name, email, phone, company), i) for i, name, email, phone, company in rows]
    conn.executemany("UPDATE customer SET search_key = ? WHERE id = ?", keys)
    conn.executemany(
        "INSERT INTO customertoken (token, customer_id) VALUES (?, ?)",
        ((t, i) for k, i in keys for t in sorted(tokens_of(k))),
    )


def _bookings(conn: sqlite3.Connection, n: int, nc: int, now: int) -> None:
    """Statuses: 60% paid, 15% held (due over the next 30 days), 3% overdue, 12% expired,
    10% cancelled; made over the last 90 days; one or two places each."""
    conn.execute(
        "CREATE TEMP TABLE perf (k INTEGER PRIMARY KEY, id INTEGER, event_id INTEGER, "
        "starts_at TEXT)"
    )
    conn.execute(
        "INSERT INTO temp.perf SELECT row_number() OVER (ORDER BY id) - 1, id, event_id, "
        "starts_at FROM performance"
    )
    (np_,) = conn.execute("SELECT count(*) FROM temp.perf").fetchone()
    status = (
        "CASE WHEN r < 60 THEN 'confirmed' WHEN r < 75 THEN 'held' WHEN r < 78 THEN 'overdue' "
        "WHEN r < 90 THEN 'expired' ELSE 'cancelled' END"
    )
    made = "(:now - 86400 * ((i * 37) % 90) - (i * 97) % 86400)"
    deadline = (
        "CASE WHEN r >= 60 AND r < 75 THEN "
        + ts(":now + 600 + (i * 53) % (30 * 86400)")
        + " WHEN r >= 75 AND r < 78 THEN "
        + ts(":now - 3600 - (i * 59) % (10 * 86400)")
        + " ELSE "
        + ts(made + " + 5 * 86400")
        + " END"
    )
    conn.execute(
        "WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b WHERE i < :n), "
        "x AS (SELECT i, (i * 17) % 100 AS r, (i * 7919) % :nc + 1 AS c, (i * 31) % :np AS pk "
        "FROM b) "
        "INSERT INTO booking (reference, customer_id, organization_id, event_id, performance_id, "
        "channel, status, checkout, deadline, deadline_set_at, starts_at, total_minor, currency, "
        "refund_due, extension_count, cancel_reason, cancel_note, created_at, updated_at) "
        f"SELECT {reference_sql('i')}, c, cu.organization_id, p.event_id, p.id, "
        "CASE i % 4 WHEN 0 THEN 'telegram' WHEN 1 THEN 'email' WHEN 2 THEN 'console' "
        f"ELSE 'import' END, {status}, 0, {deadline}, {ts(made)}, p.starts_at, "
        "4500 * (1 + i % 2), 'CHF', 0, 0, "
        "CASE WHEN r >= 90 THEN CASE i % 5 WHEN 0 THEN 'cannot_attend' WHEN 1 THEN 'illness' "
        "WHEN 2 THEN 'mistake' WHEN 3 THEN 'price' ELSE 'other' END END, '', "
        f"{ts(made)}, {ts(made + ' + 3600 * (r % 48)')} "
        "FROM x JOIN temp.perf p ON p.k = x.pk JOIN customer cu ON cu.id = x.c",
        {"n": n, "nc": nc, "np": np_, "now": now},
    )
    conn.execute(
        "INSERT INTO item (booking_id, performance_id, tariff_id, area_id, seat_id, "
        "price_minor, discount_minor) SELECT b.id, b.performance_id, t.id, 1, NULL, 4500, 0 "
        "FROM booking b JOIN tariff t ON t.event_id = b.event_id "
        "CROSS JOIN (SELECT 1 AS q UNION ALL SELECT 2) k WHERE k.q * 4500 <= b.total_minor "
        "ORDER BY b.id"
    )
    conn.execute(
        "INSERT INTO payment (booking_id, provider, provider_event_id, method, amount_minor, "
        "currency, outcome, received_at) SELECT id, 'bench', 'p' || id, 'online', "
        "total_minor, currency, 'confirmed', CASE WHEN id % 400 = 0 THEN "
        + ts(":now - 60 * (id % 500)")
        + " ELSE updated_at END "
        "FROM booking WHERE status = 'confirmed'",
        {"now": now},
    )
    conn.execute(
        "INSERT INTO extensionrequest (booking_id, status, requested_at, requested_until, "
        "reason, decided_at, decided_by, granted_until, message) SELECT id, 'pending', "
        f"{ts(':now - 3600')}, NULL, 'Salary on the 25th', NULL, '', NULL, '' FROM booking "
        "WHERE status IN ('held', 'overdue') AND id % 97 = 0",
        {"now": now},
    )
    conn.execute(
        "INSERT INTO outboxmessage (dedupe_key, kind, channel, booking_id, customer_id, locale, "
        "payload, status, attempts, next_attempt_at, lease_until, lease_owner, last_error, "
        "created_at, sent_at) SELECT 'dead:' || id, 'reminder', 'email', id, customer_id, 'en', "
        f"'{{}}', 'dead', 8, {ts(':now')}, NULL, '', 'SMTP 550', {ts(':now')}, NULL "
        "FROM booking WHERE id % 2000 = 0",
        {"now": now},
    )


# -- capture and replay the SQL of a page --------------------------------------------------------

Transaction = list[tuple[str, Any]]


@contextmanager
def captured(ctx: Context) -> Iterator[list[Transaction]]:
    """Every statement sent on the read engine, grouped by transaction."""
    transactions: list[Transaction] = [[]]
    engine = ctx.db.read_engine.sync_engine

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        transactions[-1].append((statement, params))

    def ended(conn: Any) -> None:
        transactions.append([])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    try:
        yield transactions
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", ended)
        event.remove(engine, "rollback", ended)
        while transactions and not transactions[-1]:
            transactions.pop()


async def replay(conn: aiosqlite.Connection, transactions: list[Transaction]) -> int:
    rows = 0
    for transaction in transactions:
        for statement, params in transaction:
            cursor = await conn.execute(statement, params)
            rows += len(await cursor.fetchall())
            await cursor.close()
        await conn.commit()
    return rows


# -- calling the app as uvicorn does ------------------------------------------------------------


async def asgi_get(app: Any, path: str, cookie: str, *, follow: bool = True) -> tuple[int, int]:
    """GET through the whole ASGI stack, in-process, following a redirect as a browser does;
    returns (status, body bytes) of the last answer."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", f"{COOKIE}={cookie}".encode())],
    }
    status, size, location = 0, 0, ""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size, location
        if message["type"] == "http.response.start":
            status = message["status"]
            location = dict(message.get("headers", [])).get(b"location", b"").decode()
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    if follow and status in (302, 303) and location.startswith("/"):
        return await asgi_get(app, location, cookie, follow=False)
    return status, size


# -- the scenarios ------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    path: str
    expect: int
    service: Callable[[], Awaitable[Any]]
    sql: list[Transaction] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    statements: int = 0


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scenarios(ctx: Context, found: dict[str, Any]) -> list[Scenario]:
    event_id = found["event_id"]
    start = NOW.date()
    end = start + timedelta(days=10)
    ranged = ReleaseFilter(
        event_id=event_id, deadline_from=start - timedelta(days=10), deadline_to=end
    )
    surname, reference = found["surname"], found["reference"]
    typed_name, typed_email = found["typed_name"], found["typed_email"]
    broad_name = found["broad_name"]

    async def releases(flt: ReleaseFilter) -> Any:
        return await release_screen.release_screen(ctx, flt=flt, per_page=100)

    async def floor() -> Any:
        return await staff_admin.resume_session(ctx, token=found["token"])

    return [
        Scenario(FLOOR, EMPTY_PATH, 200, floor),
        Scenario("dashboard", "/console/", 200, lambda: dashboard.dashboard(ctx)),
        Scenario("release screen", "/console/releases", 200, lambda: releases(ReleaseFilter())),
        Scenario(
            "release screen, event + deadlines",
            "/console/releases?"
            + urlencode(
                {"event": event_id, "from": ranged.deadline_from, "to": ranged.deadline_to}
            ),
            200,
            lambda: releases(ranged),
        ),
        Scenario(
            "search by name",
            f"/console/bookings?q={surname}",
            200,
            lambda: search.search_page(ctx, flt=BookingFilter(text=surname)),
        ),
        Scenario(
            SEARCH_NAME,
            "/console/bookings?" + urlencode({"q": typed_name}),
            200,
            lambda: search.search_page(ctx, flt=BookingFilter(text=typed_name)),
        ),
        Scenario(
            SEARCH_EMAIL,
            "/console/bookings?" + urlencode({"q": typed_email}),
            200,
            lambda: search.search_page(ctx, flt=BookingFilter(text=typed_email)),
        ),
        Scenario(
            "release screen, customer filter",
            "/console/releases?" + urlencode({"customer": typed_name}),
            200,
            lambda: releases(ReleaseFilter(customer=typed_name)),
        ),
        Scenario(
            SEARCH_BROAD,
            "/console/bookings?" + urlencode({"q": broad_name}),
            200,
            lambda: search.search_page(ctx, flt=BookingFilter(text=broad_name)),
        ),
        Scenario(
            "release screen, customer filter, broad",
            "/console/releases?" + urlencode({"customer": broad_name}),
            200,
            lambda: releases(ReleaseFilter(customer=broad_name)),
        ),
        Scenario(
            "customer directory, name",
            "/console/customers?" + urlencode({"q": typed_name}),
            200,
            lambda: directory.search_customers(ctx, text=typed_name),
        ),
        Scenario(  # a reference typed in the search box opens that booking
            "search by reference, then the booking",
            f"/console/bookings?q={reference}",
            200,
            lambda: search.booking_detail(ctx, reference=reference),
        ),
    ]


@guarded("bookings.view")
async def empty_page(page: Page) -> Response:
    """Nothing but the fixed cost of a console request: the middleware, the session read,
    the role check and the console's layout around one line."""
    return page.render("console/refused.html", title="", text="", kind="")


async def measure(sizes: Sizes, db_path: Path, found: dict[str, Any]) -> list[Scenario]:
    ctx = make_context(sqlite_url(db_path))
    app = build_app(ctx, {"web": "running"}, extra_routes=[Route(EMPTY_PATH, empty_page)])
    session = Session(csrf=new_token())
    account = await staff_admin.get_account(ctx, staff_id=1)
    assert account is not None
    token = await staff_admin.start_session(ctx, staff_id=1)
    session.sign_in(token, account)
    found = {**found, "token": token}
    cookie = SessionCodec("bench", secure=False).dumps(session)
    bare = await aiosqlite.connect(db_path, isolation_level=None)
    await bare.execute("PRAGMA foreign_keys=ON")
    await bare.execute("PRAGMA busy_timeout=30000")
    try:
        found_scenarios = scenarios(ctx, found)
        for s in found_scenarios:
            status, _ = await asgi_get(app, s.path, cookie)  # also compiles the template
            assert status == s.expect, f"{s.name}: HTTP {status}"
            with captured(ctx) as sql:
                await asgi_get(app, s.path, cookie)
            s.sql, s.statements = sql, sum(len(t) for t in sql)
            for _ in range(sizes.warmup):
                await asgi_get(app, s.path, cookie)
                await s.service()
                await replay(bare, s.sql)
        for s in found_scenarios:
            stop = time.perf_counter() + sizes.budget_s
            for _ in range(sizes.rounds):
                if time.perf_counter() > stop:
                    say(f"  {s.name}: time budget reached after {len(s.page_ms)} rounds")
                    break
                t0 = time.perf_counter()
                await asgi_get(app, s.path, cookie)
                t1 = time.perf_counter()
                await s.service()
                t2 = time.perf_counter()
                await replay(bare, s.sql)
                t3 = time.perf_counter()
                s.page_ms.append((t1 - t0) * 1000)
                s.service_ms.append((t2 - t1) * 1000)
                s.bare_ms.append((t3 - t2) * 1000)
        return found_scenarios
    finally:
        await bare.close()
        await ctx.close()


def report(found: list[Scenario]) -> dict[str, Any]:
    floor = next(s for s in found if s.name == FLOOR)
    floor95, floor50 = p(floor.page_ms, 0.95), p(floor.page_ms, 0.5)
    say(
        f"{'scenario':40} {'page p50/p95':>15} {'service p50/p95':>17} {'bare p50/p95':>15} "
        f"{'page/bare p95 (p50)':>19} {'page/empty p95':>14} {'stmts':>5}"
    )
    results: dict[str, Any] = {}
    for s in found:
        # The goal compares p95s, like the latency goal; the medians' ratio is printed too (on
        # a shared machine one stall of either side can decide a p95).
        ratio = p(s.page_ms, 0.95) / p(s.bare_ms, 0.95)
        ratio50 = p(s.page_ms, 0.5) / p(s.bare_ms, 0.5)
        # Against the empty page: where the bare SQL costs less than the fixed cost of any
        # request, this is the ratio that says what the page adds.
        over_floor = p(s.page_ms, 0.95) / floor95
        say(
            f"{s.name:40} {p(s.page_ms, 0.5):6.1f}/{p(s.page_ms, 0.95):6.1f} ms "
            f"{p(s.service_ms, 0.5):7.1f}/{p(s.service_ms, 0.95):6.1f} ms "
            f"{p(s.bare_ms, 0.5):6.1f}/{p(s.bare_ms, 0.95):6.1f} ms "
            f"{ratio:10.2f}x ({ratio50:4.1f}x) {over_floor:13.2f}x {s.statements:5}"
        )
        results[s.name] = {
            "page_p50_ms": round(p(s.page_ms, 0.5), 2),
            "page_p95_ms": round(p(s.page_ms, 0.95), 2),
            "service_p50_ms": round(p(s.service_ms, 0.5), 2),
            "service_p95_ms": round(p(s.service_ms, 0.95), 2),
            "bare_p50_ms": round(p(s.bare_ms, 0.5), 2),
            "bare_p95_ms": round(p(s.bare_ms, 0.95), 2),
            "page_over_bare": round(ratio, 2),
            "page_over_bare_p50": round(ratio50, 2),
            "page_over_empty": round(over_floor, 2),
            # within 3x of whichever is larger: the page's own SQL, or the fixed cost
            "page_over_bare_or_empty": round(
                p(s.page_ms, 0.95) / max(floor95, p(s.bare_ms, 0.95)), 2
            ),
            "rounds": len(s.page_ms),
        }
    say(f"empty page: p50 {floor50:.1f} ms, p95 {floor95:.1f} ms (the floor of every page)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 bookings")
    parser.add_argument("--keep", type=Path, help="keep the seeded database at this path")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="guichet-bench-console-") as tmp:
        workdir = Path(tmp)
        template = sqlite_template(workdir)
        db_path = sqlite_copy(template, args.keep or workdir / "console.db")
        say(
            f"== seeding {sizes.bookings:,} bookings over {sizes.performances} performances "
            f"in SQLite ({load()}) =="
        )
        t0 = time.perf_counter()
        found = seed(db_path, sizes)
        say(
            f"  seeded in {time.perf_counter() - t0:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in found["counts"].items())
        )
        say(
            f"== timing each page, its service and its bare SQL, {sizes.rounds} rounds "
            f"({load()}) =="
        )
        results = report(asyncio.run(measure(sizes, db_path, found)))
    pages = {k: r for k, r in results.items() if k != FLOOR}
    p95_max = max(r["page_p95_ms"] for r in pages.values())
    ratio_max = max(r["page_over_bare"] for r in pages.values())
    floor_ratio_max = max(r["page_over_bare_or_empty"] for r in pages.values())
    latency = "met" if p95_max < P95_GOAL_MS else "NOT met"
    bare = "met" if ratio_max <= RATIO_GOAL else "NOT met"
    floored = "met" if floor_ratio_max <= RATIO_GOAL else "NOT met"
    say(
        f"goals: every page p95 < {P95_GOAL_MS:.0f} ms: {latency}; <= {RATIO_GOAL:.0f}x its bare "
        f"SQL's p95: {bare} (max {ratio_max:.2f}x); <= {RATIO_GOAL:.0f}x max(bare SQL, empty "
        f"page): {floored} (max {floor_ratio_max:.2f}x); total "
        f"{time.perf_counter() - started:.0f} s ({load()})"
    )
    print(
        json.dumps(
            {
                "bench": "console",
                "bookings": sizes.bookings,
                "p95_ms_max": round(p95_max, 2),
                "bare_ratio_max": round(ratio_max, 2),
                "bare_ratio_p50_max": round(
                    max(r["page_over_bare_p50"] for r in pages.values()), 2
                ),
                "bare_or_empty_ratio_max": round(floor_ratio_max, 2),
                "empty_page_p95_ms": results[FLOOR]["page_p95_ms"],
                "search_name_p95_ms": results[SEARCH_NAME]["page_p95_ms"],
                "search_email_p95_ms": results[SEARCH_EMAIL]["page_p95_ms"],
                "search_broad_p95_ms": results[SEARCH_BROAD]["page_p95_ms"],
                "scenarios": results,
                "goals": {"p95_ms": P95_GOAL_MS, "bare_ratio": RATIO_GOAL},
            }
        )
    )


if __name__ == "__main__":
    main()
