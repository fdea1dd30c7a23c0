#!/usr/bin/env python
"""A renewal campaign over a season's pass holders: the launch (every holder invited, each
seat kept at every date of the new season) and then one renewal hold per holder.

    python bench/pass_renewals.py --quick   # 1,000 holders
    python bench/pass_renewals.py           # 10,000 holders

A migrated SQLite database gets its catalogue through the services (two seasons, one venue
whose numbered area has a seat per holder, last season's pass product with 1 date, the new
season's with 3 dates at the same area: the plan unchanged), then the holders with plain SQL:
a customer, a paid booking, its item and seat claim, and the pass, each. Then, timed:

- the launch (``renewals.launch``): one renewal row, 3 kept seat claims and their gauges, and
  one ``renewal_invited`` notice per holder;
- the renewals: ``renewals.renew`` once per holder, as the holder by email, into the kept seat
  (the hold path: 3 dates, the kept claims given back and taken again by the new booking),
  from 4 tasks on one event loop (SQLite writes queue on the process's write lock).

Then, for scale, 300 one-place holds through the same engine in the same run (a loaded machine
slows both alike): ``renewal_cpu_per_hold`` is a renewal's CPU in such holds.

``renewals_per_s`` is renewals per second of the second phase; ``renewal_rss_mb`` is the
process's peak resident memory at the end (``resource.getrusage``). Goal: 500 renewals per
second on SQLite. ``run(quick)`` returns both for ``bench/passes.py``; run alone it prints a
JSON line.
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
import resource  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from sqlalchemy import select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402
from sqlmodel import col  # noqa: E402

from bench.common import (  # noqa: E402
    NOW,
    STAFF,
    DriveResult,
    drive,
    load,
    make_context,
    sqlite_template,
    sqlite_url,
)
from bench.console import reference_sql, ts  # noqa: E402
from booking.actors import Actor  # noqa: E402
from booking.context import Context  # noqa: E402
from booking.rules import pass_products as product_rules  # noqa: E402
from booking.rules.pass_products import PassProductSettings  # noqa: E402
from booking.services import catalog, holds, pass_products  # noqa: E402
from booking.services import renewals as service  # noqa: E402
from booking.services.catalog import AreaSpec, SeatSpec  # noqa: E402
from booking.tables.catalog import Performance, Venue  # noqa: E402

QUICK, FULL = 1_000, 10_000
NEW_DATES = 3
CONCURRENCY = 4
GOAL_PER_S = 500.0
PER_ROW = 50
HOLDS = 300  # one-place holds timed for scale
BUDGET_S = 1500.0  # the renewals stop being issued after this (calls in flight finish)


def say(text: str = "") -> None:
    print(text, flush=True)


async def catalogue(ctx: Context, holders: int) -> dict[str, int]:
    """Seasons, the venue (a seat per holder and a few more), the events and both products."""
    ids: dict[str, int] = {}
    for key, name, year in (("old", "2026/27", 2026), ("new", "2027/28", 2027)):
        ids[key] = await catalog.create_season(
            ctx, actor=STAFF, name=name, starts_on=date(year, 9, 1), ends_on=date(year + 1, 6, 30)
        )
    seats = tuple(
        SeatSpec("Parterre", f"R{k // PER_ROW + 1:03d}", k % PER_ROW + 1)
        for k in range(holders + PER_ROW)
    )
    areas = await catalog.create_venue(
        ctx,
        actor=STAFF,
        name="Bench Opera",
        areas=[AreaSpec("Parterre", seats=seats), AreaSpec("Foyer", capacity=100_000)],
    )
    ids["foyer"] = areas["Foyer"]
    ids["area"] = areas["Parterre"]
    venue = await _venue(ctx)
    for key, season, first_day, n in (("old_event", "old", 10, 1), ("new_event", "new", 100, 3)):
        ids[key] = await catalog.create_event(
            ctx,
            actor=STAFF,
            title=key,
            venue_id=venue,
            season_id=ids[season],
            timezone="Europe/Zurich",
        )
        for k in range(n):
            await catalog.add_performance(
                ctx,
                actor=STAFF,
                event_id=ids[key],
                starts_at=NOW + timedelta(days=first_day + 7 * k),
            )
    products = (("old_product", "old", "old_event"), ("new_product", "new", "new_event"))
    for key, season, event in products:
        ids[key] = await pass_products.create_product(
            ctx,
            actor=STAFF,
            settings=PassProductSettings(
                season_id=ids[season],
                name=f"Abonnement {key}",
                price_minor=36000,
                currency="CHF",
                customer_types=("individual",),
                buy_channels=("telegram", "email", "console"),
                seating="fixed_seat",
                area_id=ids["area"],
                includes="automatic",
                choice_count=None,
                event_ids=(ids[event],),
                holder_fields=product_rules.holder_fields({"first_name": "required"}),
                accent_colour="#1f4e79",
                note="",
            ),
        )
    return ids


async def _venue(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        found = await session.execute(select(col(Venue.id)))
        return int(found.scalar_one() or 0)

    return await ctx.db.read(work)


def holders_sql(path: Path, ids: dict[str, int], n: int) -> None:
    """The holders of last season's pass, paid, with plain SQL: customer, booking, item, seat
    claim, pass, and the product's own tariff their items need (as its first sale makes it)."""
    now = int(NOW.timestamp())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO tariff (event_id, area_id, name, price_minor, hold_channels, "
            "buy_channels, customer_types, days_after_booking, days_before_event, "
            "min_per_booking, max_per_booking, active, pass_product_id) VALUES (?, ?, "
            "'Abonnement', 0, 'telegram,email,console', 'telegram,email,console', 'individual', "
            "NULL, NULL, 1, NULL, 1, ?)",
            (ids["old_event"], ids["area"], ids["old_product"]),
        )
        tariff = conn.execute("SELECT max(id) FROM tariff").fetchone()[0]
        old_date = conn.execute(
            "SELECT id FROM performance WHERE event_id = ?", (ids["old_event"],)
        ).fetchone()[0]
        first_seat = conn.execute("SELECT min(id) FROM seat WHERE area_id = ?", (ids["area"],))
        seat0 = first_seat.fetchone()[0] - 1
        counter = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :n) "
        conn.execute(
            counter + "INSERT INTO customer (name, email, email_key, phone, language, "
            "telegram_user_id, telegram_chat_id, telegram_unreachable, email_undeliverable, "
            "company, postcode, categories, newsletter, customer_type, organization_id, "
            "created_at) SELECT 'Holder ' || i, 'h' || i || '@bench.example.org', "
            "'h' || i || '@bench.example.org', '', 'fr', NULL, NULL, 0, 0, '', '', '', 0, "
            f"'individual', NULL, {ts(':now')} FROM c",
            {"n": n, "now": now},
        )
        conn.execute(
            counter + "INSERT INTO booking (reference, customer_id, organization_id, event_id, "
            "performance_id, channel, status, checkout, deadline, deadline_set_at, starts_at, "
            "total_minor, currency, refund_due, extension_count, cancel_reason, cancel_note, "
            f"created_at, updated_at) SELECT {reference_sql('i')}, i, NULL, :event, :date, "
            f"'email', 'confirmed', 0, {ts(':now')}, {ts(':now')}, (SELECT starts_at FROM "
            "performance WHERE id = :date), 36000, 'CHF', 0, 0, NULL, '', "
            f"{ts(':now - 86400')}, {ts(':now - 86400')} FROM c",
            {"n": n, "now": now, "event": ids["old_event"], "date": old_date},
        )
        conn.execute(
            "INSERT INTO item (booking_id, performance_id, tariff_id, area_id, seat_id, "
            "price_minor, discount_minor) SELECT id, performance_id, ?, ?, ? + id, 36000, 0 "
            "FROM booking ORDER BY id",
            (tariff, ids["area"], seat0),
        )
        conn.execute(
            "INSERT INTO seasonpass (product_id, season_id, customer_id, booking_id, seat_id, "
            "holder, code, secret, credit_minor, choices_left, created_at, renewed_from_id, "
            f"photo_id) SELECT ?, ?, customer_id, id, ? + id, "
            '\'{"first_name": "Holder"}\', '
            f"{reference_sql('id + 7')}, lower(hex(randomblob(24))), 0, NULL, {ts('?')}, NULL, "
            "NULL FROM booking ORDER BY id",
            (ids["old_product"], ids["old"], seat0, now),
        )
        conn.execute(
            "INSERT INTO seatclaim (performance_id, seat_id, item_id, pass_id, renewal_id) "
            "SELECT item.performance_id, item.seat_id, item.id, seasonpass.id, NULL FROM item "
            "JOIN seasonpass ON seasonpass.booking_id = item.booking_id"
        )
        conn.execute(
            "UPDATE gauge SET remaining = remaining - ? WHERE performance_id = ? AND area_id = ?",
            (n, old_date, ids["area"]),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def renewal_ids(path: Path) -> list[tuple[int, int]]:
    """(renewal id, holder's customer id) of every invited holder."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute("SELECT id, customer_id FROM renewal ORDER BY id"))
    finally:
        conn.close()


def checked(path: Path, n: int, new_product: int, *, complete: bool) -> None:
    """Every renewal done made one pass, at the holder's own seat, with their code; when all
    were done, no kept claim is left."""
    conn = sqlite3.connect(path)
    try:
        renewed = conn.execute(
            "SELECT count(*) FROM seasonpass new JOIN seasonpass old ON old.id = "
            "new.renewed_from_id WHERE new.product_id = ? AND new.code = old.code AND "
            "new.secret = old.secret AND new.seat_id = old.seat_id",
            (new_product,),
        ).fetchone()[0]
        kept = conn.execute("SELECT count(*) FROM seatclaim WHERE renewal_id IS NOT NULL")
        invited = conn.execute("SELECT count(*) FROM outboxmessage WHERE kind = 'renewal_invited'")
        assert renewed == n, (renewed, n)
        assert kept.fetchone()[0] == 0 or not complete
        assert invited.fetchone()[0] >= n
    finally:
        conn.close()


async def measure(path: Path, n: int) -> dict[str, float]:
    ctx = make_context(sqlite_url(path))
    try:
        ids = await catalogue(ctx, n)
        holders_sql(path, ids, n)
        campaign = await service.create_campaign(
            ctx,
            actor=STAFF,
            settings=service.CampaignSettings(
                from_product_id=ids["old_product"],
                name="Saison 27/28",
                offer_product_ids=(ids["new_product"],),
                closes_at=NOW + timedelta(days=30),
            ),
        )
        say(f"== launching the campaign over {n:,} holders ({load()}) ==")
        started = time.perf_counter()
        report = await service.launch(ctx, actor=STAFF, campaign_id=campaign)
        launch_s = time.perf_counter() - started
        assert report == service.LaunchReport(invited=n, seats_kept=n, not_kept=0), report
        say(f"launch: {launch_s:.1f} s, {n / launch_s:,.0f} holders/s")
        todo = renewal_ids(path)
        say(f"== {n:,} renewals from {CONCURRENCY} tasks ({load()}) ==")

        async def one(_worker: int, i: int) -> None:
            renewal_id, customer_id = todo[i]
            await service.renew(
                ctx,
                actor=Actor.customer(customer_id, f"Holder {customer_id}", "email"),
                renewal_id=renewal_id,
                product_id=ids["new_product"],
            )

        result = await drive(n, CONCURRENCY, one, budget_s=BUDGET_S)
        assert not result.errors, result.errors
        if result.timed_out:  # a loaded machine: the rate of the renewals done is the figure
            say(f"(stopped after {BUDGET_S:.0f} s: {result.done:,} of {n:,} renewals done)")
        hold = await baseline(ctx, ids, [customer for _, customer in todo])
    finally:
        await ctx.close()
    checked(path, result.done, ids["new_product"], complete=not result.timed_out)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    say(
        f"renewals: {result.per_s:,.0f}/s ({result.elapsed:.1f} s, {result.cpu_us:,.0f} us CPU "
        f"each); goal >= {GOAL_PER_S:.0f}/s: {'met' if result.per_s >= GOAL_PER_S else 'NOT met'}"
        f"; peak RSS {rss_mb:,.0f} MB"
    )
    say(
        f"the same run's one-place hold: {hold.per_s:,.0f}/s ({hold.cpu_us:,.0f} us CPU each): a "
        f"renewal costs {result.cpu_us / hold.cpu_us:.1f} holds of CPU ({load()})"
    )
    return {
        "renewal_hold_per_s": round(hold.per_s, 1),
        "renewal_cpu_per_hold": round(result.cpu_us / hold.cpu_us, 2),
        "renewals_per_s": round(result.per_s, 1),
        "renewal_rss_mb": round(rss_mb, 1),
        "renewal_launch_s": round(launch_s, 2),
        "renewal_holders": float(n),
    }


async def baseline(ctx: Context, ids: dict[str, int], customers: list[int]) -> DriveResult:
    """The hold engine's own rate in the same run, for scale: a one-place hold in the Foyer at
    the new season's first date, by a holder by email, as many as ``HOLDS``."""
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["new_event"], area_id=ids["foyer"], name="Foyer",
        price_minor=2000, hold_channels=("telegram", "email", "console"),
    )  # fmt: skip
    first = await _first_date(ctx, ids["new_event"])
    say(f"== {HOLDS} one-place holds through the same engine, for scale ({load()}) ==")

    async def one(_worker: int, i: int) -> None:
        customer = customers[i % len(customers)]
        await holds.hold(
            ctx,
            actor=Actor.customer(customer, f"Holder {customer}", "email"),
            customer_id=customer,
            performance_id=first,
            lines=[holds.Line(tariff, quantity=1)],
        )

    result = await drive(HOLDS, CONCURRENCY, one, budget_s=BUDGET_S)
    assert not result.errors, result.errors
    return result


async def _first_date(ctx: Context, event_id: int) -> int:
    async def work(session: AsyncSession) -> int:
        found = await session.execute(
            select(col(Performance.id))
            .where(col(Performance.event_id) == event_id)
            .order_by(col(Performance.starts_at))
        )
        return int(found.scalars().first() or 0)

    return await ctx.db.read(work)


async def run(quick: bool) -> dict[str, float]:
    """The figures for ``bench/passes.py``: renewals_per_s and renewal_rss_mb (and more)."""
    n = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="guichet-bench-renewals-") as tmp:
        template = await asyncio.to_thread(sqlite_template, Path(tmp))
        path = Path(tmp) / "renewals.db"
        path.write_bytes(template.read_bytes())
        return await measure(path, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} holders")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(run(args.quick))
    goals = {"renewals_per_s": GOAL_PER_S}
    print(json.dumps({"bench": "pass_renewals", **figures, "goals": goals}))


if __name__ == "__main__":
    main()
