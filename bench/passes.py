#!/usr/bin/env python
"""The door on a full house: check-ins through the web app against their bare SQL.

    python bench/passes.py --quick   # 500 paid tickets, 1,000 renewals
    python bench/passes.py           # 2,000 paid tickets for one performance, 10,000 renewals

A migrated SQLite database is seeded with plain SQL: one performance tonight, its paid tickets
(one booking, one customer each) beside 20,000 tickets of other performances, and one account
of the door role. Two copies of it are then used, one per side, each ticket admitted once on
each, in the same order, the two sides alternating ticket by ticket (one machine stall then
weighs on both):

- web: ``POST /console/door`` as a signed-in door staff member, the code being what a USB
  scanner types (the ticket's ``PUBLIC_URL/t/<secret>``): the whole request through the ASGI
  app over httpx's ASGI transport (session check, role and CSRF, the performance menu, the
  admission, the counts, the page), the answer checked to say "admitted";
- bare: the same check-in as plain SQL through the raw aiosqlite driver, one write transaction
  each as the door takes it: the entitlement looked up by its secret (the same joins), the
  check-in looked for, then inserted;
- floor: ``GET`` of an empty page behind the same guard (session check, role, the console's
  layout), the fixed cost under every console request, which the bare SQL does not pay.

Goals: web p99 under 50 ms, and web check-ins per second at least 0.3 of the bare ones. The
other half, run first (``bench/pass_renewals.py``): a renewal campaign launched over 10,000
holders (1,000 with ``--quick``), then each renews; goal 500 renewals per second. The last
line of output is one JSON object with ``checkin_per_s``, ``checkin_p99_ms``,
``checkin_ratio``, ``renewals_per_s`` and ``renewal_rss_mb``.
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
import re  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import timedelta  # noqa: E402

import aiosqlite  # noqa: E402
import httpx  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from bench.common import NOW, load, make_context, sqlite_copy, sqlite_template, sqlite_url  # noqa: E402
from bench.console import p, reference_sql, ts  # noqa: E402
from bench.pass_renewals import run as run_renewals  # noqa: E402
from booking.clock import FrozenClock  # noqa: E402
from booking.services import staff_admin, tickets  # noqa: E402
from console.web.app import build_app  # noqa: E402
from console.web.pages import Page, guarded  # noqa: E402
from console.web.security import COOKIE, Session, SessionCodec, new_token  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    tickets: int  # paid tickets of tonight's performance, each admitted once
    others: int  # tickets of the other performances (the tables are not tonight's alone)
    warmup: int  # of the tickets, admitted first and not counted


QUICK = Sizes(tickets=500, others=20_000, warmup=20)
FULL = Sizes(tickets=2_000, others=20_000, warmup=50)
P99_GOAL_MS = 50.0
RATIO_GOAL = 0.3
RENEWALS_GOAL = 500.0  # per second, on SQLite
PUBLIC_URL = "https://tickets.bench.example"
DOOR = "North"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
OUTCOME = re.compile(r'data-outcome="([a-z_]+)"')


def say(text: str = "") -> None:
    print(text, flush=True)


# -- seeding with plain SQL ---------------------------------------------------------------------


def seed(path: Path, sizes: Sizes) -> int:
    """The catalogue, the tickets and the door account; returns tonight's performance id (the
    door's default: today's first performance)."""
    now = int(NOW.timestamp())
    n = sizes.tickets + sizes.others
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.execute("INSERT INTO venue (name, address) VALUES ('Bench Hall', '')")
        conn.execute(
            "INSERT INTO area (venue_id, name, kind, capacity) VALUES (1, 'Floor', 'ga', 100000)"
        )
        conn.execute(
            "INSERT INTO season (name, starts_on, ends_on) VALUES ('2026/27', '2026-09-01', "
            "'2027-06-30')"
        )
        conn.execute(
            "INSERT INTO event (title, description, season_id, venue_id, timezone, policy, "
            "days_after_booking, days_before_event, reminder_offsets, extension_days, "
            "auto_extend_days, cancellation_allowed, max_per_order) VALUES ('Bench Show', '', "
            "1, 1, 'Europe/Zurich', 'firm', 7, NULL, '4320,1440', 7, 0, 0, 10)"
        )
        # Tonight at 20:00 in Zurich (the first), then nine later dates.
        conn.execute(
            "WITH RECURSIVE p(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM p WHERE i < 9) "
            "INSERT INTO performance (event_id, starts_at, policy, days_after_booking, "
            f"days_before_event, on_sale) SELECT 1, {ts('? + 36000 + 86400 * 7 * i')}, NULL, "
            "NULL, NULL, 1 FROM p",
            (now,),
        )
        conn.execute(
            "INSERT INTO tariff (event_id, area_id, name, price_minor, hold_channels, "
            "buy_channels, customer_types, days_after_booking, days_before_event, active) "
            "VALUES (1, 1, 'Standard', 4500, 'telegram,email,console,import', "
            "'telegram,email,console,import', 'individual,group,b2b', NULL, NULL, 1)"
        )
        conn.execute(
            "INSERT INTO gauge (performance_id, area_id, capacity, remaining) "
            "SELECT id, 1, 100000, 0 FROM performance"
        )
        conn.execute(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
            "INSERT INTO customer (name, email, email_key, phone, language, telegram_user_id, "
            "telegram_chat_id, telegram_unreachable, email_undeliverable, company, postcode, "
            "categories, newsletter, customer_type, organization_id, created_at) "
            "SELECT 'Holder ' || i, 'h' || i || '@bench.example.org', "
            "'h' || i || '@bench.example.org', '', 'fr', NULL, NULL, 0, 0, '', '', '', 0, "
            f"'individual', NULL, {ts('?')} FROM c",
            (n, now),
        )
        # The first ``tickets`` bookings are tonight's; the others spread over the later dates.
        conn.execute(
            "WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b WHERE i < :n) "
            "INSERT INTO booking (reference, customer_id, organization_id, event_id, "
            "performance_id, channel, status, checkout, deadline, deadline_set_at, starts_at, "
            "total_minor, currency, refund_due, extension_count, cancel_reason, cancel_note, "
            f"created_at, updated_at) SELECT {reference_sql('i')}, i, NULL, 1, "
            "CASE WHEN i <= :tonight THEN 1 ELSE 2 + i % 9 END, 'telegram', 'confirmed', 0, "
            f"{ts(':now')}, {ts(':now')}, (SELECT starts_at FROM performance WHERE id = "
            "CASE WHEN i <= :tonight THEN 1 ELSE 2 + i % 9 END), 4500, 'CHF', 0, 0, NULL, '', "
            f"{ts(':now - 86400')}, {ts(':now - 86400')} FROM b",
            {"n": n, "tonight": sizes.tickets, "now": now},
        )
        conn.execute(
            "INSERT INTO item (booking_id, performance_id, tariff_id, area_id, seat_id, "
            "price_minor, discount_minor) SELECT id, performance_id, 1, 1, NULL, 4500, 0 "
            "FROM booking ORDER BY id"
        )
        conn.execute(
            "INSERT INTO ticket (item_id, booking_id, secret, issued_at, voided_at) "
            f"SELECT id, booking_id, lower(hex(randomblob(16))), {ts('?')}, NULL FROM item "
            "ORDER BY id",
            (now,),
        )
        conn.execute(
            "INSERT INTO staffuser (email, name, password_hash, role, active, created_at, "
            "language, session_epoch) VALUES ('door@bench.example', 'Bench Door', '!', "
            f"'door', 1, {ts(str(now))}, 'fr', 0)"
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return 1


def tonight_secrets(path: Path, performance_id: int) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT t.secret FROM ticket t JOIN item i ON i.id = t.item_id "
            "WHERE i.performance_id = ? ORDER BY t.id",
            (performance_id,),
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


# -- the two sides ------------------------------------------------------------------------------

# The door's own reads and write, as plain SQL: the entitlement by its secret (the joins of
# booking.services.checkin.entitlement), the check-in looked for, then inserted.
LOOKUP = (
    "SELECT ticket.id, ticket.voided_at, booking.status, booking.refund_due, "
    "item.performance_id, performance.starts_at, event.title, event.timezone, venue.name, "
    "booking.reference, customer.name, customer.language, tariff.name, seat.id "
    "FROM ticket JOIN booking ON booking.id = ticket.booking_id "
    "JOIN item ON item.id = ticket.item_id JOIN tariff ON tariff.id = item.tariff_id "
    "JOIN performance ON performance.id = item.performance_id "
    "JOIN event ON event.id = performance.event_id JOIN venue ON venue.id = event.venue_id "
    "JOIN customer ON customer.id = booking.customer_id "
    "LEFT OUTER JOIN seat ON seat.id = item.seat_id WHERE ticket.secret = ?"
)
USED = (
    "SELECT id, admitted_at, door FROM checkin WHERE entitlement_kind = 'ticket' "
    "AND entitlement_id = ? AND performance_id = ?"
)
INSERT = (
    "INSERT INTO checkin (entitlement_kind, entitlement_id, performance_id, admitted_at, door, "
    "staff_id) VALUES ('ticket', ?, ?, ?, ?, 1)"
)


async def bare_checkin(conn: aiosqlite.Connection, secret: str, performance_id: int) -> None:
    await conn.execute("BEGIN IMMEDIATE")
    cursor = await conn.execute(LOOKUP, (secret,))
    found = await cursor.fetchone()
    assert found is not None and found[2] == "confirmed" and found[4] == performance_id
    cursor = await conn.execute(USED, (found[0], performance_id))
    assert await cursor.fetchone() is None
    await conn.execute(INSERT, (found[0], performance_id, NOW.isoformat(sep=" "), DOOR))
    await conn.commit()


EMPTY_PATH = "/bench/empty"


@guarded("door")
async def empty_page(page: Page) -> Response:
    """Nothing but the fixed cost of a door request: middleware, session read, role check and
    the console's layout around one line."""
    return page.render("console/refused.html", title="", text="", kind="")


@dataclass
class Side:
    ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time (all threads)

    @property
    def per_s(self) -> float:
        return len(self.ms) / (sum(self.ms) / 1000) if self.ms else float("nan")


async def measure(
    web_db: Path, bare_db: Path, performance_id: int, sizes: Sizes
) -> tuple[Side, Side, Side]:
    # Two hours after NOW: today's first performance (the door's default) is tonight's.
    ctx = make_context(
        sqlite_url(web_db), FrozenClock(NOW + timedelta(hours=2)), public_url=PUBLIC_URL
    )
    app = build_app(ctx, {"web": "running"}, extra_routes=[Route(EMPTY_PATH, empty_page)])
    account = await staff_admin.get_account(ctx, staff_id=1)
    assert account is not None and account.role == "door"
    session = Session(csrf=new_token())
    session.sign_in(await staff_admin.start_session(ctx, staff_id=1), account)
    cookie = SessionCodec("bench", secure=False).dumps(session)
    secrets = tonight_secrets(web_db, performance_id)
    assert len(secrets) == sizes.tickets
    bare = await aiosqlite.connect(bare_db, isolation_level=None)
    await bare.execute("PRAGMA journal_mode=WAL")
    await bare.execute("PRAGMA synchronous=NORMAL")  # as booking.db sets it
    await bare.execute("PRAGMA foreign_keys=ON")
    web, plain, floor = Side(), Side(), Side()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.cookies.set(COOKIE, cookie, domain="testserver.local", path="/console")
            door_page = await client.get("/console/door")
            assert door_page.status_code == 200, door_page.status_code
            found = CSRF.search(door_page.text)
            assert found, "the door page carries a CSRF token"
            beside = {"cookie": f"{COOKIE}={cookie}"}  # the jar's cookie is for /console only
            form = {"csrf": found.group(1), "performance": str(performance_id), "door": DOOR}
            for i, secret in enumerate(secrets):
                code = tickets.ticket_url(PUBLIC_URL, secret)  # what the scanner types
                c0, t0 = time.process_time(), time.perf_counter()
                answer = await client.post("/console/door", data={**form, "code": code})
                c1, t1 = time.process_time(), time.perf_counter()
                await bare_checkin(bare, secret, performance_id)
                c2, t2 = time.process_time(), time.perf_counter()
                empty = await client.get(EMPTY_PATH, headers=beside)
                c3, t3 = time.process_time(), time.perf_counter()
                assert empty.status_code == 200, empty.status_code
                said = OUTCOME.search(answer.text)
                assert answer.status_code == 200 and said and said.group(1) == "admitted", (
                    answer.status_code,
                    said,
                )
                if i >= sizes.warmup:
                    web.ms.append((t1 - t0) * 1000)
                    plain.ms.append((t2 - t1) * 1000)
                    floor.ms.append((t3 - t2) * 1000)
                    web.cpu_ms.append((c1 - c0) * 1000)
                    plain.cpu_ms.append((c2 - c1) * 1000)
                    floor.cpu_ms.append((c3 - c2) * 1000)
        say_cpu(web, plain, floor)
        return web, plain, floor
    finally:
        await bare.close()
        await ctx.close()


def say_cpu(web: Side, bare: Side, floor: Side) -> None:
    """The CPU each side spends per check-in (the sides alternate, so each span's CPU is its
    own): what the wall-clock ratio means on a quiet machine, read on a busy one too, where
    waiting for the CPU inflates every wall-clock figure unevenly."""

    def mean(side: Side) -> float:
        return sum(side.cpu_ms) / len(side.cpu_ms) if side.cpu_ms else float("nan")

    say(
        f"CPU per check-in: web {mean(web):.2f} ms, bare {mean(bare):.2f} ms, floor "
        f"{mean(floor):.2f} ms; bare/web {mean(bare) / mean(web):.2f}, bare/floor "
        f"{mean(bare) / mean(floor):.2f}"
    )


def checked_in(path: Path, performance_id: int) -> int:
    conn = sqlite3.connect(path)
    try:
        query = "SELECT count(*) FROM checkin WHERE performance_id = ?"
        return int(conn.execute(query, (performance_id,)).fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 tickets")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="guichet-bench-passes-") as tmp:
        # Renewals first: their peak RSS is then theirs, not the check-ins' before them.
        renewals = asyncio.run(run_renewals(args.quick))
        workdir = Path(tmp)
        template = sqlite_template(workdir)
        web_db = sqlite_copy(template, workdir / "web.db")
        say(
            f"== seeding {sizes.tickets:,} paid tickets for tonight and {sizes.others:,} for "
            f"later dates in SQLite ({load()}) =="
        )
        performance_id = seed(web_db, sizes)
        bare_db = sqlite_copy(web_db, workdir / "bare.db")
        say(f"== admitting each ticket once, web then bare, alternating ({load()}) ==")
        web, bare, floor = asyncio.run(measure(web_db, bare_db, performance_id, sizes))
        for path in (web_db, bare_db):  # each ticket admitted once on each side, no more
            assert checked_in(path, performance_id) == sizes.tickets
    ratio = web.per_s / bare.per_s
    say(f"{'side':6} {'p50':>8} {'p95':>8} {'p99':>8} {'per s':>9}  ({len(web.ms)} check-ins)")
    for name, side in (("web", web), ("bare", bare), ("floor", floor)):
        say(
            f"{name:6} {p(side.ms, 0.5):6.2f}ms {p(side.ms, 0.95):6.2f}ms "
            f"{p(side.ms, 0.99):6.2f}ms {side.per_s:9.1f}"
        )
    p99 = p(web.ms, 0.99)
    latency = "met" if p99 < P99_GOAL_MS else "NOT met"
    share = "met" if ratio >= RATIO_GOAL else "NOT met"
    say(
        f"goals: web p99 < {P99_GOAL_MS:.0f} ms: {latency} ({p99:.1f} ms); web/bare per second "
        f">= {RATIO_GOAL}: {share} ({ratio:.2f}); total {time.perf_counter() - started:.0f} s "
        f"({load()})"
    )
    say(
        f"the floor (an empty door page) alone runs at {floor.per_s / bare.per_s:.2f} of the bare "
        f"SQL's rate; the check-in page at {web.per_s / floor.per_s:.2f} of the floor's"
    )
    print(
        json.dumps(
            {
                "bench": "passes",
                "tickets": sizes.tickets,
                "checkin_per_s": round(web.per_s, 1),
                "checkin_p99_ms": round(p99, 2),
                "checkin_p50_ms": round(p(web.ms, 0.5), 2),
                "checkin_ratio": round(ratio, 3),
                "bare_per_s": round(bare.per_s, 1),
                "bare_p99_ms": round(p(bare.ms, 0.99), 3),
                "floor_per_s": round(floor.per_s, 1),
                "floor_ratio": round(floor.per_s / bare.per_s, 3),
                **renewals,
                "goals": {
                    "checkin_p99_ms": P99_GOAL_MS,
                    "checkin_ratio": RATIO_GOAL,
                    "renewals_per_s": RENEWALS_GOAL,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
