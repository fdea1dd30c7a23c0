"""One currency per event, and so per booking (issue 10, point 2).

A tariff used to take any three letters ("XYZ" was saved), and a booking with a CHF and an EUR
tariff added both up as "CHF 65.00". Now the event has one ISO 4217 currency, its tariffs have
none of their own, and a hold naming a place priced in another currency is refused.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.clock import FrozenClock
from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.formatting import money
from booking.schema import alembic_config
from booking.services import catalog, catalog_admin, holds
from booking.services.catalog import AreaSpec
from booking.settings import CoreSettings
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Event, Tariff
from tests import databases
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking
from tests.conftest import NOW

# -- the currency is a real one, on the event ---------------------------------------------------


async def test_an_unknown_currency_is_refused_by_name_in_english_and_french(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    venue = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event.venue_id
    with pytest.raises(BookingError) as refused:
        await catalog.create_event(
            ctx, actor=STAFF, title="Nowhere", venue_id=venue, timezone="UTC", currency="XYZ"
        )
    assert refused.value.code == "bad_currency"
    assert error_text(refused.value, "en") == (
        "XYZ is not a currency in use: give its ISO 4217 code, such as CHF, EUR or JPY."
    )
    assert error_text(refused.value, "fr").startswith("XYZ n'est pas une monnaie en usage")
    events = await catalog_admin.list_events(ctx)
    assert [e.settings.title for e in events] == ["Test Concert"]  # nothing half written


async def test_editing_an_event_to_an_unknown_currency_changes_nothing(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    row = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event
    with pytest.raises(BookingError) as refused:
        await catalog_admin.update_event(
            ctx,
            actor=STAFF,
            event_id=cat.event_id,
            expected=row.version,
            settings=_with(row.settings, currency="XYZ"),
        )
    assert refused.value.code == "bad_currency"
    again = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event
    assert again.settings.currency == "CHF"


async def test_tariffs_and_bookings_take_the_event_s_currency(ctx: Context) -> None:
    cat = await make_catalog(ctx, currency="jpy")  # normalized to the ISO code
    customer = await make_customer(ctx)
    offers = await catalog.offers(ctx, performance_id=cat.performance_id, channel="telegram")
    assert {o.currency for o in offers} == {"JPY"}
    booking = await make_held_booking(ctx, cat, customer, quantity=2)
    assert (booking.currency, booking.total_minor) == ("JPY", 9000)
    assert money(booking.total_minor, booking.currency, "en") == "¥9,000"


async def test_the_currency_is_locked_once_the_event_has_bookings(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    row = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event
    await make_held_booking(ctx, cat, await make_customer(ctx))
    with pytest.raises(BookingError) as refused:
        await catalog_admin.update_event(
            ctx,
            actor=STAFF,
            event_id=cat.event_id,
            expected=row.version,
            settings=_with(row.settings, currency="EUR"),
        )
    assert refused.value.code == "currency_locked"
    assert "made in CHF" in error_text(refused.value, "en")
    assert "faites en CHF" in error_text(refused.value, "fr")


async def test_without_bookings_the_currency_can_change(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    row = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event
    saved = await catalog_admin.update_event(
        ctx,
        actor=STAFF,
        event_id=cat.event_id,
        expected=row.version,
        settings=_with(row.settings, currency="eur"),
    )
    assert saved.currency == "EUR"
    offers = await catalog.offers(ctx, performance_id=cat.performance_id, channel="telegram")
    assert {o.currency for o in offers} == {"EUR"}


# -- a booking never mixes currencies -----------------------------------------------------------


async def test_a_hold_with_a_place_priced_in_another_currency_is_refused(ctx: Context) -> None:
    chf = await make_catalog(ctx, name="Salle Franc")
    eur = await make_catalog(ctx, name="Salle Euro", currency="EUR")
    customer = await make_customer(ctx)
    with pytest.raises(BookingError) as refused:
        await holds.hold(
            ctx,
            actor=as_customer(customer),
            customer_id=customer.id,
            performance_id=chf.performance_id,
            lines=[holds.Line(chf.ga_tariff, quantity=1), holds.Line(eur.ga_tariff, quantity=1)],
        )
    assert refused.value.code == "mixed_currencies"
    assert error_text(refused.value, "en") == (
        "These places are priced in different currencies (CHF, EUR); a booking is in one "
        "currency, so book them separately."
    )
    assert "monnaies différentes (CHF, EUR)" in error_text(refused.value, "fr")
    assert await _count(ctx, Booking) == 0  # nothing taken, nothing written
    offers = await catalog.offers(ctx, performance_id=chf.performance_id, channel="telegram")
    assert {o.name: o.remaining for o in offers}["Standing"] == 100


# -- the property: one currency per booking, totals are the sum of the lines --------------------

PRICES = st.integers(min_value=0, max_value=250_000)
EVENTS = st.lists(
    st.tuples(st.sampled_from(["CHF", "EUR", "JPY"]), st.lists(PRICES, min_size=1, max_size=3)),
    min_size=1,
    max_size=3,
)
HOLDS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # the date: of which event
        st.lists(  # the lines: (a tariff of any event, how many)
            st.tuples(st.integers(min_value=0, max_value=8), st.integers(1, 3)),
            min_size=1,
            max_size=3,
        ),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=EVENTS, attempts=HOLDS)
def test_no_booking_ever_holds_two_currencies_and_its_total_is_its_lines(
    sqlite_template: Path, events: list[tuple[str, list[int]]], attempts: list[tuple[int, list]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = databases.sqlite_copy(sqlite_template, Path(directory) / "guichet.db")
        asyncio.run(_random_holds(url, events, attempts))


async def _random_holds(
    url: str, events: list[tuple[str, list[int]]], attempts: list[tuple[int, list]]
) -> None:
    ctx = Context.create(
        CoreSettings(database_url=url, secret_key="test-secret", _env_file=None),  # type: ignore[call-arg]
        clock=FrozenClock(NOW),
    )
    try:
        dates, tariffs = await _catalogue(ctx, events)
        customer = await make_customer(ctx)
        for event_index, wanted in attempts:
            date, currency = dates[event_index % len(dates)]
            chosen = {tariffs[t % len(tariffs)][0]: n for t, n in wanted}
            lines = [holds.Line(t, quantity=n) for t, n in chosen.items()]
            before = await _count(ctx, Booking)
            try:
                booking = await holds.hold(
                    ctx,
                    actor=as_customer(customer),
                    customer_id=customer.id,
                    performance_id=date,
                    lines=lines,
                )
            except BookingError as error:
                currencies = {c for t, c in tariffs if t in chosen}
                assert error.code != "mixed_currencies" or currencies != {currency}
                assert await _count(ctx, Booking) == before
                continue
            assert booking.currency == currency
            assert booking.total_minor == sum(i.price_minor for i in booking.items)
        await _check_every_booking(ctx)
    finally:
        await ctx.close()


async def _catalogue(
    ctx: Context, events: list[tuple[str, list[int]]]
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """One venue; per event a date and its tariffs. Returns (date, currency) per event and
    (tariff, currency) for every tariff."""
    areas = await catalog.create_venue(
        ctx, actor=STAFF, name="Hall", areas=[AreaSpec("Floor", capacity=1000)]
    )
    venue = await _venue(ctx)
    dates: list[tuple[int, str]] = []
    tariffs: list[tuple[int, str]] = []
    for k, (currency, prices) in enumerate(events):
        event = await catalog.create_event(
            ctx, actor=STAFF, title=f"E{k}", venue_id=venue, timezone="UTC", currency=currency
        )
        date = await catalog.add_performance(
            ctx, actor=STAFF, event_id=event, starts_at=NOW.replace(year=2027)
        )
        dates.append((date, currency))
        for n, price in enumerate(prices):
            tariff = await catalog.create_tariff(
                ctx,
                actor=STAFF,
                event_id=event,
                area_id=areas["Floor"],
                name=f"T{n}",
                price_minor=price,
            )
            tariffs.append((tariff, currency))
    return dates, tariffs


async def _check_every_booking(ctx: Context) -> None:
    """Read the tables: each item's tariff belongs to an event in the booking's currency, and
    the total is the sum of the item prices less discounts."""

    async def work(session: AsyncSession) -> None:
        rows = (
            await session.execute(
                select(Booking, Item, Event)
                .join(Item, col(Item.booking_id) == Booking.id)
                .join(Tariff, col(Tariff.id) == Item.tariff_id)
                .join(Event, col(Event.id) == Tariff.event_id)
            )
        ).all()
        currencies: dict[int, set[str]] = {}
        totals: dict[int, int] = {}
        expected: dict[int, tuple[int, str]] = {}
        for booking, item, event in rows:
            assert booking.id is not None
            currencies.setdefault(booking.id, set()).add(event.currency)
            totals[booking.id] = totals.get(booking.id, 0) + item.price_minor - item.discount_minor
            expected[booking.id] = (booking.total_minor, booking.currency)
        for booking_id, found in currencies.items():
            total, currency = expected[booking_id]
            assert found == {currency}
            assert total == totals[booking_id]

    await ctx.db.read(work)


async def _venue(ctx: Context) -> int:
    rows = await catalog_admin.list_venues(ctx)
    return rows[0].id


async def _count(ctx: Context, table: type[Booking]) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())

    return await ctx.db.read(work)


def _with(settings: catalog_admin.EventSettings, **changes: object) -> catalog_admin.EventSettings:
    from dataclasses import replace

    return replace(settings, **changes)  # type: ignore[arg-type]


# -- migration 0007 on existing data ------------------------------------------------------------

SEED = [
    "INSERT INTO venue (id, name, address) VALUES (1, 'Hall', '')",
    "INSERT INTO area (id, venue_id, name, kind, capacity) VALUES (1, 1, 'Floor', 'ga', 100)",
    *(
        "INSERT INTO event (id, title, description, venue_id, timezone, policy, "
        "days_after_booking, reminder_offsets, extension_days, auto_extend_days, "
        f"cancellation_allowed, max_per_order) VALUES ({i}, '{title}', '', 1, 'Europe/Zurich', "
        "'firm', 7, '4320,1440', 7, 0, FALSE, 10)"
        for i, title in ((1, "Mostly euros"), (2, "Yen"), (3, "Nonsense"), (4, "Tie"))
    ),
    *(
        "INSERT INTO tariff (id, event_id, area_id, name, price_minor, currency, hold_channels, "
        "buy_channels, customer_types, active) VALUES "
        f"({t}, {e}, 1, 'T{t}', {price}, '{currency}', 'telegram', 'telegram', 'individual', TRUE)"
        for t, e, price, currency in (
            (1, 1, 4500, "EUR"),
            (2, 1, 2000, "CHF"),  # the minority: its event becomes EUR
            (3, 1, 6500, "eur"),
            (4, 2, 450000, "JPY"),  # shown as ¥4,500 while every amount was divided by 100
            (5, 3, 1000, "XYZ"),
            (6, 4, 1000, "CHF"),  # a tie: the oldest tariff's currency
            (7, 4, 1000, "EUR"),
        )
    ),
    "INSERT INTO performance (id, event_id, starts_at, on_sale) "
    "VALUES (1, 2, '2026-12-20 19:00:00+00:00', TRUE)",
    "INSERT INTO customer (id, name, phone, language, telegram_unreachable, "
    "email_undeliverable, company, postcode, categories, newsletter, customer_type, created_at) "
    "VALUES (1, 'Ana', '', 'en', FALSE, FALSE, '', '', '', FALSE, 'individual', "
    "'2026-11-01 09:00:00+00:00')",
    *(
        "INSERT INTO booking (id, reference, customer_id, event_id, performance_id, channel, "
        "status, checkout, starts_at, total_minor, currency, refund_due, extension_count, "
        f"cancel_note, created_at, updated_at) VALUES ({b}, 'REF-00{b}', 1, 2, 1, 'telegram', "
        f"'{status}', FALSE, '2026-12-20 19:00:00+00:00', 900000, 'JPY', FALSE, 0, '', "
        "'2026-11-01 09:00:00+00:00', '2026-11-01 09:00:00+00:00')"
        for b, status in ((1, "held"), (2, "confirmed"))
    ),
    *(
        "INSERT INTO item (id, booking_id, performance_id, tariff_id, area_id, price_minor, "
        f"discount_minor) VALUES ({i}, {b}, 1, 4, 1, 450000, 0)"
        for i, b in ((1, 1), (2, 1), (3, 2), (4, 2))
    ),
]
AFTER = {
    "events": [(1, "EUR"), (2, "JPY"), (3, "CHF"), (4, "CHF")],
    "tariffs": [
        (1, 4500, True),
        (2, 2000, False),  # off sale until the organizer re-prices it in EUR
        (3, 6500, True),
        (4, 4500, True),  # ¥4,500 in yen
        (5, 1000, False),
        (6, 1000, True),
        (7, 1000, False),
    ],
    # The held booking keeps what it showed (2 × ¥4,500); the paid one what was charged.
    "bookings": [(1, 9000), (2, 900000)],
    "items": [(1, 4500), (2, 4500), (3, 450000), (4, 450000)],
}
QUERIES = {
    "events": "SELECT id, currency FROM event ORDER BY id",
    "tariffs": "SELECT id, price_minor, active FROM tariff ORDER BY id",
    "bookings": "SELECT id, total_minor FROM booking ORDER BY id",
    "items": "SELECT id, price_minor FROM item ORDER BY id",
}


def test_migration_0007_gives_events_their_tariffs_currency_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0006")
    with sqlite3.connect(path) as db:
        for statement in SEED:
            db.execute(statement)
    command.upgrade(alembic_config(url), "0007")
    with sqlite3.connect(path) as db:
        found = {
            name: [tuple(bool(v) if name == "tariffs" and k == 2 else v for k, v in enumerate(r))
                   for r in db.execute(sql)]
            for name, sql in QUERIES.items()
        }  # fmt: skip
        columns = [r[1] for r in db.execute("PRAGMA table_info(tariff)")]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert found == AFTER
    assert "currency" not in columns


@pytest.mark.postgres
def test_migration_0007_gives_events_their_tariffs_currency_on_postgresql() -> None:
    if not databases.in_thread(databases.pg_available):
        databases.missing_service(f"PostgreSQL is not reachable at {databases.PG_DSN}")
    name = f"guichet_{uuid.uuid4().hex[:10]}"
    base = databases.PG_DSN.rsplit("/", 1)[0]
    dsn = f"{base}/{name}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    databases.in_thread(lambda: _pg(databases.PG_DSN, f'CREATE DATABASE "{name}"'))
    try:
        command.upgrade(alembic_config(url), "0006")
        databases.in_thread(lambda: _pg(dsn, *SEED))
        command.upgrade(alembic_config(url), "0007")
        found = databases.in_thread(lambda: _pg_read(dsn))
        assert found == AFTER
    finally:
        databases.in_thread(lambda: databases.drop_pg_database(url))


async def _pg(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_read(dsn: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(dsn)
    try:
        found = {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in QUERIES.items()}
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tariff'"
        )
    finally:
        await conn.close()
    assert "currency" not in {c["column_name"] for c in columns}
    return found
