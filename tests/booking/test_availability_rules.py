"""Availability rules in the core (issue 11, points 6, 7, 8 and 14), for every channel: a
tariff's minimum and maximum per booking, "only N left", the read models the channels show
(venue, description, picture, "N left" threshold, quantity range), the event's display
settings, a limit of open holds per customer, and migration 0010. Refusals are read in English
and French, as the channels render them."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import demo
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules import states
from booking.schema import alembic_config
from booking.services import cancellations, catalog, catalog_admin, holds
from booking.tables.bookings import Booking
from booking.tables.catalog import Tariff
from booking.views import BookingView, CustomerView
from tests import databases
from tests.builders import STAFF, Catalog, as_customer, make_catalog, make_customer
from tests.support.english import english_in

IMPORT = Actor(kind="system", name="import", channel="import")


def channels(customer: CustomerView) -> dict[str, Actor]:
    """Who may hold for ``customer``: the customer in Telegram and by email, the box office,
    an import."""
    return {
        "telegram": as_customer(customer, "telegram"),
        "email": as_customer(customer, "email"),
        "console": STAFF,
        "import": IMPORT,
    }


async def group_tariff(
    ctx: Context, cat: Catalog, *, minimum: int = 10, maximum: int | None = None
) -> int:
    return await catalog.create_tariff(
        ctx,
        actor=STAFF,
        event_id=cat.event_id,
        area_id=cat.ga_area,
        name="Groupe (dès 10)",
        price_minor=3500,
        min_per_booking=minimum,
        max_per_booking=maximum,
    )


async def hold(
    ctx: Context, actor: Actor, customer: CustomerView, cat: Catalog, *lines: holds.Line
) -> BookingView:
    return await holds.hold(
        ctx,
        actor=actor,
        customer_id=customer.id,
        performance_id=cat.performance_id,
        lines=list(lines),
    )


async def refusal(call: Any) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await call
    return caught.value


def in_both(error: BookingError) -> tuple[str, str]:
    """The refusal as an English and a French customer read it; the French has no English."""
    english, french = error_text(error, "en"), error_text(error, "fr")
    assert english_in(french) == [], french
    return english, french


# -- point 7: a tariff's minimum and maximum per booking, in every channel ---------------------


@pytest.mark.parametrize("channel", ["telegram", "email", "console", "import"])
async def test_a_group_tariff_of_ten_is_refused_at_nine_and_held_at_ten_and_fourteen(
    ctx: Context, channel: str
) -> None:
    cat = await make_catalog(ctx, max_per_order=20)
    group = await group_tariff(ctx, cat)
    customer = await make_customer(ctx)
    actor = channels(customer)[channel]

    nine = await refusal(hold(ctx, actor, customer, cat, holds.Line(group, quantity=9)))

    assert nine.code == "below_minimum" and nine.params == {"min": 10}
    assert in_both(nine) == (
        "This ticket type is sold from 10 places per booking.",
        "Ce type de billet se vend à partir de 10 places par réservation.",
    )
    for quantity in (10, 14):
        made = await hold(ctx, actor, customer, cat, holds.Line(group, quantity=quantity))
        assert len(made.items) == quantity


async def test_the_minimum_counts_every_line_of_the_tariff_and_other_tariffs_do_not_help(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx, max_per_order=20)
    group = await group_tariff(ctx, cat)
    ana = await make_customer(ctx)
    actor = as_customer(ana)

    mixed = hold(
        ctx, actor, ana, cat, holds.Line(group, quantity=9), holds.Line(cat.ga_tariff, quantity=3)
    )
    assert (await refusal(mixed)).code == "below_minimum"
    split = await hold(
        ctx, actor, ana, cat, holds.Line(group, quantity=6), holds.Line(group, quantity=4)
    )
    assert len(split.items) == 10


async def test_a_tariff_maximum_is_refused_above_it_with_the_real_range(ctx: Context) -> None:
    cat = await make_catalog(ctx, max_per_order=20)
    group = await group_tariff(ctx, cat, minimum=10, maximum=15)
    ana = await make_customer(ctx)

    above = await refusal(hold(ctx, as_customer(ana), ana, cat, holds.Line(group, quantity=16)))

    assert above.code == "bad_quantity" and above.params == {"min": 10, "max": 15}
    assert in_both(above) == (
        "Please choose between 10 and 15 places.",
        "Choisissez entre 10 et 15 places.",
    )
    assert len((await hold(ctx, STAFF, ana, cat, holds.Line(group, quantity=15))).items) == 15


async def test_the_event_s_places_per_booking_cap_a_larger_tariff_maximum(ctx: Context) -> None:
    cat = await make_catalog(ctx, max_per_order=12)
    group = await group_tariff(ctx, cat, minimum=10, maximum=50)
    ana = await make_customer(ctx)

    above = await refusal(hold(ctx, STAFF, ana, cat, holds.Line(group, quantity=13)))

    assert above.code == "bad_quantity" and above.params == {"min": 1, "max": 12}
    offer = next(
        o
        for o in await catalog.offers(ctx, performance_id=cat.performance_id, channel="telegram")
        if o.tariff_id == group
    )
    assert (offer.min_quantity, offer.max_quantity) == (10, 12)


async def test_without_the_tariff_check_a_group_of_two_would_get_the_group_price(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is what refuses it: without it the engine holds two places at the group
    price."""
    cat = await make_catalog(ctx)
    group = await group_tariff(ctx, cat)
    ana = await make_customer(ctx)
    monkeypatch.setattr(holds, "_check_tariff_quantities", lambda *args: None)

    made = await hold(ctx, as_customer(ana), ana, cat, holds.Line(group, quantity=2))

    assert made.total_minor == 2 * 3500


# -- point 6: "only N left" ---------------------------------------------------------------------


async def test_asking_more_than_remain_says_how_many_are_left_and_none_left_is_sold_out(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx, capacity=4)
    ana = await make_customer(ctx)
    actor = as_customer(ana)
    await hold(ctx, actor, ana, cat, holds.Line(cat.ga_tariff, quantity=1))

    three = await refusal(hold(ctx, actor, ana, cat, holds.Line(cat.ga_tariff, quantity=5)))
    assert three.code == "not_enough_left" and three.params == {"left": 3}
    assert in_both(three) == (
        "Sorry, only 3 remaining for this date.",
        "Désolé, il n'en reste que 3 pour cette date.",
    )
    await hold(ctx, actor, ana, cat, holds.Line(cat.ga_tariff, quantity=2))
    one = await refusal(hold(ctx, actor, ana, cat, holds.Line(cat.ga_tariff, quantity=2)))
    assert in_both(one) == (
        "Sorry, only 1 remaining for this date.",
        "Désolé, il n'en reste que 1 pour cette date.",
    )
    await hold(ctx, STAFF, ana, cat, holds.Line(cat.ga_tariff, quantity=1))
    none = await refusal(hold(ctx, STAFF, ana, cat, holds.Line(cat.ga_tariff, quantity=1)))
    assert none.code == "sold_out"


async def test_best_seats_asked_beyond_the_free_ones_say_how_many_are_left(ctx: Context) -> None:
    cat = await make_catalog(ctx, max_per_order=20)  # 30 seats in rows of 10
    ana = await make_customer(ctx)
    for _ in range(2):
        await hold(ctx, STAFF, ana, cat, holds.Line(cat.seat_tariff, quantity=10))
    await hold(ctx, STAFF, ana, cat, holds.Line(cat.seat_tariff, quantity=6))

    short = await refusal(hold(ctx, STAFF, ana, cat, holds.Line(cat.seat_tariff, quantity=5)))

    assert short.code == "not_enough_left" and short.params == {"left": 4}


# -- points 6 and 8: what the channels read -----------------------------------------------------


@contextmanager
def statements(ctx: Context) -> Iterator[list[str]]:
    """The SQL statements the read engine runs meanwhile."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = ctx.db.read_engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


async def shown_event(ctx: Context, *, dates: int = 1, name: str = "Salle Test") -> Catalog:
    """An event with a description, a picture, "N left" under 20, and ``dates`` dates."""
    cat = await make_catalog(ctx, max_per_order=20, name=name)
    row = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event
    shown = replace(
        row.settings,
        description="Trois groupes, une nuit.",
        show_remaining_below=20,
        picture_url="https://example.org/jazz.jpg",
    )
    await catalog_admin.update_event(
        ctx, actor=STAFF, event_id=cat.event_id, expected=row.version, settings=shown
    )
    for day in range(1, dates):
        await catalog.add_performance(
            ctx, actor=STAFF, event_id=cat.event_id, starts_at=cat.starts_at.replace(day=day)
        )
    return cat


async def test_dates_carry_the_venue_description_picture_and_threshold(ctx: Context) -> None:
    cat = await shown_event(ctx)

    (date,) = await catalog.performances(ctx, event_id=cat.event_id)

    assert date.remaining == 100 + 30
    assert date.show_remaining_below == 20
    assert (date.venue_name, date.venue_address) == ("Salle Test", "")
    assert date.description == "Trois groupes, une nuit."
    assert date.picture_url == "https://example.org/jazz.jpg"
    (summary,) = await catalog.upcoming_events(ctx)
    assert summary.venue_name == "Salle Test"


async def test_offers_carry_the_quantity_range_and_the_threshold(ctx: Context) -> None:
    cat = await shown_event(ctx)
    group = await group_tariff(ctx, cat)

    found = {
        o.tariff_id: o
        for o in await catalog.offers(ctx, performance_id=cat.performance_id, channel="telegram")
    }

    assert (found[group].min_quantity, found[group].max_quantity) == (10, 20)
    assert (found[cat.ga_tariff].min_quantity, found[cat.ga_tariff].max_quantity) == (1, 20)
    assert found[group].remaining == 100  # the range is not capped by what remains
    assert {o.show_remaining_below for o in found.values()} == {20}


async def test_the_reads_run_as_many_statements_for_many_dates_and_tariffs_as_for_one(
    ctx: Context,
) -> None:
    """The bot's hot path: no statement per date or per tariff."""
    one = await shown_event(ctx)
    many = await shown_event(ctx, dates=6, name="Salle Grande")
    for k in range(4):
        await group_tariff(ctx, many, minimum=2 + k)
    counts = []
    for cat in (one, many):
        with statements(ctx) as seen:
            await catalog.upcoming_events(ctx)
            await catalog.performances(ctx, event_id=cat.event_id)
            await catalog.offers(ctx, performance_id=cat.performance_id, channel="telegram")
        counts.append(len([s for s in seen if s.lstrip().upper().startswith("SELECT")]))
    assert counts[0] == counts[1] == 4  # one, one, and two (the date, then its tariffs)


# -- point 6 and 8 settings: the event's display fields and the tariff's limits, validated ------


async def test_a_picture_must_be_an_https_address(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    for bad in ("http://example.org/a.jpg", "javascript:alert(1)", "https://", "https://a b/c"):
        with pytest.raises(BookingError) as caught:
            catalog.check_display(0, bad)
        assert caught.value.code == "bad_picture_url"
    assert in_both(caught.value) == (
        "The picture must be an https:// address, or leave it empty.",
        "L'image doit être une adresse https://, ou laissez le champ vide.",
    )
    assert catalog.check_display(0, "  https://example.org/a.jpg ") == "https://example.org/a.jpg"
    with pytest.raises(BookingError):
        await catalog.create_event(
            ctx,
            actor=STAFF,
            title="X",
            venue_id=1,
            timezone="Europe/Zurich",
            picture_url="ftp://example.org/a.jpg",
        )
    assert (await catalog.performances(ctx, event_id=cat.event_id))[0].picture_url == ""


async def test_a_minimum_above_the_maximum_or_the_event_s_cap_is_refused(ctx: Context) -> None:
    cat = await make_catalog(ctx, max_per_order=10)

    above_own = await refusal(group_tariff(ctx, cat, minimum=12, maximum=8))
    above_event = await refusal(group_tariff(ctx, cat, minimum=12))

    assert above_own.code == above_event.code == "minimum_above_maximum"
    assert above_event.params["max"] == 10
    assert in_both(above_event) == (
        "The minimum per booking (12) is above the maximum (10): nobody could book this "
        "ticket type.",
        "Le minimum par réservation (12) dépasse le maximum (10) : personne ne pourrait "
        "réserver ce type de billet.",
    )
    await group_tariff(ctx, cat, minimum=10)
    row = (await catalog_admin.event_detail(ctx, event_id=cat.event_id)).event
    lowered = replace(row.settings, max_per_order=8)
    refused = await refusal(
        catalog_admin.update_event(
            ctx, actor=STAFF, event_id=cat.event_id, expected=row.version, settings=lowered
        )
    )
    assert refused.code == "minimum_above_maximum" and refused.params["field"] == "max_per_order"


# -- point 14: a limit of open holds per customer -----------------------------------------------


async def test_a_sixth_hold_waiting_for_payment_is_refused_in_telegram_and_by_email(
    ctx: Context,
) -> None:
    assert ctx.settings.max_open_holds == 5  # the default
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    for channel in ("telegram", "email", "telegram", "email", "telegram"):
        await hold(ctx, as_customer(ana, channel), ana, cat, holds.Line(cat.ga_tariff, quantity=1))

    for channel in ("telegram", "email"):
        sixth = await refusal(
            hold(ctx, as_customer(ana, channel), ana, cat, holds.Line(cat.ga_tariff, quantity=1))
        )
        assert sixth.code == "too_many_holds" and sixth.params == {"count": 5}
    assert in_both(sixth) == (
        "Bookings waiting for payment: 5, the most allowed. Pay or cancel one before holding "
        "another.",
        "Réservations en attente de paiement : 5, le maximum autorisé. Payez ou annulez l'une "
        "d'elles avant d'en réserver une autre.",
    )
    # The box office and an import are not limited; another customer is not either.
    await hold(ctx, STAFF, ana, cat, holds.Line(cat.ga_tariff, quantity=1))
    await hold(ctx, IMPORT, ana, cat, holds.Line(cat.ga_tariff, quantity=1))
    ben = await make_customer(ctx, email="ben@example.org")
    await hold(ctx, as_customer(ben), ben, cat, holds.Line(cat.ga_tariff, quantity=1))


async def test_overdue_holds_count_and_cancelled_ones_free_a_place_in_the_limit(
    ctx: Context,
) -> None:
    ctx.settings.max_open_holds = 2
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    actor = as_customer(ana)
    first = await hold(ctx, actor, ana, cat, holds.Line(cat.ga_tariff, quantity=1))
    await hold(ctx, actor, ana, cat, holds.Line(cat.ga_tariff, quantity=1))

    async def overdue(session: AsyncSession) -> None:
        await session.execute(
            update(Booking).where(col(Booking.id) == first.id).values(status=states.OVERDUE)
        )

    await ctx.db.write(overdue)
    line = holds.Line(cat.ga_tariff, quantity=1)
    assert (await refusal(hold(ctx, actor, ana, cat, line))).params == {"count": 2}
    await cancellations.cancel(ctx, actor=actor, reference=first.reference, reason="mistake")
    await hold(ctx, actor, ana, cat, line)


async def test_a_limit_of_zero_means_no_limit(ctx: Context) -> None:
    ctx.settings.max_open_holds = 0
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    for _ in range(7):
        await hold(ctx, as_customer(ana), ana, cat, holds.Line(cat.ga_tariff, quantity=1))


# -- demo data ----------------------------------------------------------------------------------


async def test_the_demo_group_tariff_starts_at_ten(ctx: Context) -> None:
    assert await demo.load(ctx)

    async def groups(session: AsyncSession) -> list[tuple[int, int | None]]:
        query = select(col(Tariff.min_per_booking), col(Tariff.max_per_booking)).where(
            col(Tariff.name) == "Groupe (dès 10)"
        )
        return [tuple(r) for r in (await session.execute(query)).all()]  # type: ignore[misc]

    assert await ctx.db.read(groups) == [(10, None), (10, None)]

    async def sizes(session: AsyncSession) -> list[int]:
        query = select(col(Booking.id))
        return list((await session.execute(query)).scalars())  # type: ignore[arg-type]

    assert len(await ctx.db.read(sizes)) == 2  # the demo's two group bookings (10 and 12)


# -- migration 0010 -----------------------------------------------------------------------------

SEED = [
    "INSERT INTO venue (id, name, address) VALUES (1, 'Hall', '')",
    "INSERT INTO area (id, venue_id, name, kind, capacity) VALUES (1, 1, 'Floor', 'ga', 100)",
    "INSERT INTO event (id, title, description, venue_id, timezone, currency, policy, "
    "days_after_booking, reminder_offsets, extension_days, auto_extend_days, "
    "cancellation_allowed, max_per_order) VALUES (1, 'Old', '', 1, 'Europe/Zurich', 'CHF', "
    "'firm', 7, '4320,1440', 7, 0, FALSE, 10)",
    "INSERT INTO tariff (id, event_id, area_id, name, price_minor, hold_channels, "
    "buy_channels, customer_types, active) VALUES (1, 1, 1, 'T', 4500, 'telegram', "
    "'telegram', 'individual', TRUE)",
]
AFTER = [
    ("SELECT min_per_booking, max_per_booking FROM tariff", [(1, None)]),
    ("SELECT show_remaining_below, picture_url FROM event", [(0, "")]),
]


def test_migration_0010_gives_old_rows_the_old_rules_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0009")
    with sqlite3.connect(path) as db:
        for statement in SEED:
            db.execute(statement)
    command.upgrade(alembic_config(url), "0010")
    with sqlite3.connect(path) as db:
        assert [db.execute(sql).fetchall() for sql, _ in AFTER] == [rows for _, rows in AFTER]
    command.downgrade(alembic_config(url), "0009")
    with sqlite3.connect(path) as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(tariff)")}
        columns |= {r[1] for r in db.execute("PRAGMA table_info(event)")}
    assert not columns & {"min_per_booking", "max_per_booking", "show_remaining_below"}


@pytest.mark.postgres
def test_migration_0010_gives_old_rows_the_old_rules_on_postgresql() -> None:
    if not databases.in_thread(databases.pg_available):
        databases.missing_service(f"PostgreSQL is not reachable at {databases.PG_DSN}")
    name = f"guichet_{uuid.uuid4().hex[:10]}"
    dsn = f"{databases.PG_DSN.rsplit('/', 1)[0]}/{name}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    databases.in_thread(lambda: _pg(databases.PG_DSN, f'CREATE DATABASE "{name}"'))
    try:
        command.upgrade(alembic_config(url), "0009")
        databases.in_thread(lambda: _pg(dsn, *SEED))
        command.upgrade(alembic_config(url), "0010")
        found = databases.in_thread(lambda: _pg_rows(dsn, [sql for sql, _ in AFTER]))
        assert found == [rows for _, rows in AFTER]
        command.downgrade(alembic_config(url), "0009")
        command.upgrade(alembic_config(url), "head")
    finally:
        databases.in_thread(lambda: databases.drop_pg_database(url))


async def _pg(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_rows(dsn: str, queries: list[str]) -> list[list[tuple[Any, ...]]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [[tuple(r) for r in await conn.fetch(q)] for q in queries]
    finally:
        await conn.close()
