"""Pass products on a real database (SQLite and PostgreSQL): create, list with counts, the
checks that need the catalogue, edits guarded by their version, on and off sale, the demo."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import pytest

from booking import demo
from booking.context import Context
from booking.errors import BookingError
from booking.queries import pass_products as queries
from booking.rules import pass_products as rules
from booking.rules.pass_products import PassProductSettings
from booking.services import catalog, pass_products
from booking.services.catalog import AreaSpec
from tests.builders import STAFF, seat_rows


async def season_with_events(ctx: Context, *, name: str = "2026/27") -> dict[str, int]:
    """A season, a venue with a GA and a seated area, two events of the season there (2 and 3
    dates), one event of the venue outside the season, one event at another venue."""
    season = await catalog.create_season(
        ctx, actor=STAFF, name=name, starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30)
    )
    other_season = await catalog.create_season(
        ctx, actor=STAFF, name=name + "b", starts_on=date(2027, 9, 1), ends_on=date(2028, 6, 30)
    )
    areas = await catalog.create_venue(
        ctx,
        actor=STAFF,
        name="Salle " + name,
        areas=[AreaSpec("Floor", capacity=50), AreaSpec("Stalls", seats=seat_rows("AB", 5))],
    )
    elsewhere = await catalog.create_venue(
        ctx, actor=STAFF, name="Ailleurs " + name, areas=[AreaSpec("Hall", capacity=10)]
    )
    venue = await _venue_of(ctx, areas["Floor"])
    ids = {"season": season, "other_season": other_season, **areas, **elsewhere}
    for key, venue_id, season_id, dates in (
        ("opera", venue, season, 2),
        ("jazz", venue, season, 3),
        ("next_year", venue, other_season, 1),
        ("away", await _venue_of(ctx, elsewhere["Hall"]), season, 1),
    ):
        event = await catalog.create_event(
            ctx,
            actor=STAFF,
            title=key.title(),
            venue_id=venue_id,
            season_id=season_id,
            timezone="Europe/Zurich",
        )
        for n in range(dates):
            await catalog.add_performance(
                ctx,
                actor=STAFF,
                event_id=event,
                starts_at=ctx.clock.now() + timedelta(days=10 + n),
            )
        ids[key] = event
    return ids


async def _venue_of(ctx: Context, area_id: int) -> int:
    from booking.tables.catalog import Area

    async def work(session):  # type: ignore[no-untyped-def]
        area = await session.get(Area, area_id)
        return area.venue_id

    return int(await ctx.db.read(work))


def product(ids: dict[str, int], **changes: object) -> PassProductSettings:
    base = PassProductSettings(
        season_id=ids["season"],
        name="Abonnement",
        price_minor=24000,
        currency="CHF",
        customer_types=("individual",),
        buy_channels=("telegram", "console"),
        seating="fixed_seat",
        area_id=ids["Stalls"],
        includes="automatic",
        choice_count=None,
        event_ids=(ids["opera"], ids["jazz"]),
        holder_fields=rules.holder_fields({"first_name": "required", "photo": "optional"}),
        accent_colour="#7a1f3d",
        note="Portes 30 minutes avant.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def refused(ctx: Context, settings: PassProductSettings) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await pass_products.create_product(ctx, actor=STAFF, settings=settings)
    return caught.value


async def test_created_product_lists_its_events_and_dates(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    choice = await pass_products.create_product(
        ctx,
        actor=STAFF,
        settings=product(
            ids, name="Carte 4", includes="choice", choice_count=4, event_ids=(), seating="ga",
            area_id=ids["Floor"],
        ),
    )  # fmt: skip
    rows = await queries.list_products(ctx, season_id=ids["season"])
    assert [(r.id, r.settings.name, r.events, r.performances) for r in rows] == [
        (product_id, "Abonnement", 2, 5),
        (choice, "Carte 4", 0, 0),
    ]
    detail = await queries.product_detail(ctx, product_id=product_id)
    assert detail.event_titles == ("Jazz", "Opera")
    assert detail.sample_seat == "Stalls A 1"
    assert detail.row.settings.mode("first_name") == "required"
    assert detail.row.settings.holder_fields == product(ids).holder_fields
    assert (await queries.product_detail(ctx, product_id=choice)).sample_seat == "Floor"
    assert await queries.list_products(ctx, season_id=ids["other_season"]) == []


async def test_events_elsewhere_or_in_another_season_are_refused(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    away = await refused(ctx, product(ids, event_ids=(ids["opera"], ids["away"])))
    assert (away.code, away.params["event"], away.params["field"]) == (
        "pass_event_elsewhere",
        "Away",
        "event_ids",
    )
    later = await refused(ctx, product(ids, event_ids=(ids["next_year"],)))
    assert (later.code, later.params["event"]) == ("pass_event_elsewhere", "Next_Year")
    assert (await refused(ctx, product(ids, event_ids=(999_999,)))).code == "bad_value"
    assert await queries.list_products(ctx) == []


async def test_seating_must_fit_the_area_kind(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    assert (await refused(ctx, product(ids, area_id=ids["Floor"]))).code == "pass_area_kind"
    ga = product(ids, seating="ga", area_id=ids["Stalls"])
    assert (await refused(ctx, ga)).code == "pass_area_kind"
    assert (await refused(ctx, product(ids, area_id=999_999))).params["field"] == "area_id"
    assert (await refused(ctx, product(ids, season_id=999_999))).params["field"] == "season_id"


async def test_currency_is_iso_4217_and_the_events_own(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    assert (await refused(ctx, product(ids, currency="XYZ"))).code == "bad_currency"
    euro = await refused(ctx, product(ids, currency="eur"))
    assert (euro.code, euro.params["currency"], euro.params["pass_currency"]) == (
        "pass_currency",
        "CHF",
        "EUR",
    )


async def test_a_name_is_unique_within_its_season(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    assert (await refused(ctx, product(ids, name=" Abonnement "))).code == "name_taken"
    # Next season may reuse the name (it is how a renewal reads: the same pass, a new season).
    await pass_products.create_product(
        ctx,
        actor=STAFF,
        settings=product(ids, season_id=ids["other_season"], event_ids=(ids["next_year"],)),
    )


async def test_update_replaces_settings_and_events(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    before = (await queries.product_detail(ctx, product_id=product_id)).row
    changed = product(ids, name="Abonnement opéra", event_ids=(ids["opera"],), price_minor=9000)
    version = await pass_products.update_product(
        ctx, actor=STAFF, product_id=product_id, expected=before.version, settings=changed
    )
    after = (await queries.product_detail(ctx, product_id=product_id)).row
    assert after.version == version != before.version
    assert (after.settings.name, after.events, after.performances) == ("Abonnement opéra", 1, 2)


async def test_a_stale_version_is_refused_and_changes_nothing(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    read = (await queries.product_detail(ctx, product_id=product_id)).row.version
    await pass_products.update_product(
        ctx, actor=STAFF, product_id=product_id, expected=read, settings=product(ids, note="A")
    )
    with pytest.raises(BookingError) as caught:
        await pass_products.update_product(
            ctx, actor=STAFF, product_id=product_id, expected=read, settings=product(ids, note="B")
        )
    assert caught.value.code == "changed_meanwhile"
    assert (await queries.product_detail(ctx, product_id=product_id)).row.settings.note == "A"


async def _two_saves_from_one_version(ctx: Context) -> tuple[list[object], str]:
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    read = (await queries.product_detail(ctx, product_id=product_id)).row.version
    results = await asyncio.gather(
        *(
            pass_products.update_product(
                ctx,
                actor=STAFF,
                product_id=product_id,
                expected=read,
                settings=product(ids, note=n),
            )
            for n in ("first organizer", "second organizer")
        ),
        return_exceptions=True,
    )
    note = (await queries.product_detail(ctx, product_id=product_id)).row.settings.note
    return list(results), note


async def test_two_saves_from_one_version_exactly_one_wins(ctx: Context) -> None:
    results, note = await _two_saves_from_one_version(ctx)
    lost = [r for r in results if isinstance(r, BookingError)]
    assert len(lost) == 1 and lost[0].code == "changed_meanwhile"
    assert note in ("first organizer", "second organizer")


async def test_without_the_version_check_a_save_is_silently_lost(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pass_products, "check_version", lambda current, expected: None)
    results, _ = await _two_saves_from_one_version(ctx)
    assert not any(isinstance(r, BaseException) for r in results)  # both "saved": one is lost


async def test_on_and_off_sale(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    await pass_products.set_active(ctx, actor=STAFF, product_id=product_id, active=False)
    assert not (await queries.product_detail(ctx, product_id=product_id)).row.settings.active
    await pass_products.set_active(ctx, actor=STAFF, product_id=product_id, active=True)
    assert (await queries.product_detail(ctx, product_id=product_id)).row.settings.active
    with pytest.raises(BookingError) as caught:
        await pass_products.set_active(ctx, actor=STAFF, product_id=999_999, active=True)
    assert caught.value.code == "unknown_item"


async def test_the_demo_has_its_season_pass(ctx: Context) -> None:
    assert await demo.load(ctx)
    (row,) = await queries.list_products(ctx)
    assert (row.settings.name, row.settings.seating, row.settings.includes) == (
        "Abonnement saison",
        "fixed_seat",
        "automatic",
    )
    assert (row.events, row.performances, row.area_name) == (1, 3, "Balcon")
    assert not await demo.load(ctx)  # idempotent: still one product
    assert len(await queries.list_products(ctx)) == 1
