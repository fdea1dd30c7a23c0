"""The catalogue: seasons, venues (areas, numbered seats from CSV), events with their rules,
dates and tariffs; bad values re-shown, and edits made meanwhile detected."""

from __future__ import annotations

import re
from datetime import timedelta

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import catalog, catalog_admin
from tests.builders import make_catalog
from tests.console.conftest import Console, ConsoleFactory

SEATS = "section,block,row,seat\nParterre,Gauche,A,1\nParterre,Gauche,A,2\nParterre,Gauche,B,1\n"


def hidden(page: str, name: str, after: str = "") -> str:
    text = page.split(after, 1)[1] if after else page
    return re.search(rf'name="{name}" value="([^"]*)"', text).group(1)  # type: ignore[union-attr]


async def a_venue(console: Console, name: str = "Salle Neuve") -> int:
    await console.get("/console/venues")
    made = await console.post("/console/venues", {"name": name, "address": "Rue 1"})
    assert made.status_code == 303, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


async def test_seasons_are_created_and_bad_ones_refused(console_for: ConsoleFactory) -> None:
    console = await console_for("organizer")
    await console.get("/console/seasons")
    ok = await console.post(
        "/console/seasons", {"name": "2026/27", "starts_on": "2026-09-01", "ends_on": "2027-06-30"}
    )
    assert ok.status_code == 303
    twice = await console.post(
        "/console/seasons", {"name": "2026/27", "starts_on": "2026-09-01", "ends_on": "2027-06-30"}
    )
    assert twice.status_code == 400 and "This name is already used." in twice.text
    backwards = await console.post(
        "/console/seasons", {"name": "Odd", "starts_on": "2027-01-01", "ends_on": "2026-01-01"}
    )
    assert backwards.status_code == 400 and "The end must come after the start." in backwards.text
    assert 'value="Odd"' in backwards.text


async def test_a_venue_gets_a_standing_area_and_seats_from_a_spreadsheet(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    console = await console_for("organizer")
    venue_id = await a_venue(console)
    await console.get(f"/console/venues/{venue_id}")
    area = await console.post(
        f"/console/venues/{venue_id}/areas", {"name": "Fosse", "capacity": "300"}
    )
    assert area.status_code == 303
    # Excel in French saves semicolons and Windows-1252.
    latin = "Section;Bloc;Rang;Place\r\nGalerie;Côté cour;A;1\r\nGalerie;Côté cour;A;2\r\n"
    for name, data in (("Parterre", SEATS.encode()), ("Galerie", latin.encode("cp1252"))):
        imported = await console.post(
            f"/console/venues/{venue_id}/seats",
            {"name": name},
            files={"file": ("plan.csv", data, "text/csv")},
        )
        assert imported.status_code == 303, imported.text
    venue = await catalog_admin.get_venue(app_ctx, venue_id=venue_id)
    assert [(a.name, a.kind, a.capacity, a.seats) for a in venue.areas] == [
        ("Fosse", "ga", 300, 0),
        ("Parterre", "seated", 3, 3),
        ("Galerie", "seated", 2, 2),
    ]
    page = await console.get(f"/console/venues/{venue_id}")
    assert "Numbered seats (3)" in page.text and "3 seats imported into Parterre." in page.text


async def test_a_broken_seat_file_imports_nothing_and_says_which_lines(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    console = await console_for("organizer")
    venue_id = await a_venue(console)
    await console.get(f"/console/venues/{venue_id}")
    broken = "Parterre,,A,1\nParterre,,A,x\nParterre,,A\nParterre,,A,1\n,,B,2\n"
    refused = await console.post(
        f"/console/venues/{venue_id}/seats",
        {"name": "Parterre"},
        files={"file": ("plan.csv", broken.encode(), "text/csv")},
    )
    assert refused.status_code == 400
    assert "Line 2: the seat must be a number" in refused.text
    assert "Line 3: expected 4 columns: section, block, row, seat" in refused.text
    assert "Line 4: the same seat as line 1" in refused.text
    assert "Line 5: section and row cannot be empty" in refused.text
    assert 'value="Parterre"' in refused.text
    none = await console.post(f"/console/venues/{venue_id}/seats", {"name": "Parterre"})
    assert none.status_code == 400 and "Choose a CSV file." in none.text
    assert (await catalog_admin.get_venue(app_ctx, venue_id=venue_id)).areas == ()


async def test_an_event_is_created_with_its_rules_and_bad_values_come_back(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    console = await console_for("organizer")
    venue_id = await a_venue(console)
    await console.get("/console/events")
    fields = {
        "venue_id": str(venue_id),
        "title": "Le Cid",
        "timezone": "Mars/Olympus",
        "policy": "flexible",
        "days_after_booking": "5",
        "days_before_event": "",
        "reminder_hours": "72, soon",
        "extension_days": "7",
        "auto_extend_days": "2",
        "max_per_order": "8",
        "description": "Corneille",
    }
    bad = await console.post("/console/events", fields)
    assert bad.status_code == 400
    assert "Enter hours before the deadline, such as 72, 24." in bad.text
    assert 'value="Le Cid"' in bad.text and 'value="72, soon"' in bad.text
    still_bad = await console.post("/console/events", {**fields, "reminder_hours": "72, 24"})
    assert still_bad.status_code == 400 and "Invalid value for timezone." in still_bad.text
    made = await console.post(
        "/console/events",
        {
            **fields,
            "reminder_hours": "72, 24, 1.5",
            "timezone": "Europe/Paris",
            "cancellation_allowed": "on",
        },
    )
    assert made.status_code == 303
    event_id = int(made.headers["location"].rsplit("/", 1)[1])
    detail = await catalog_admin.event_detail(app_ctx, event_id=event_id)
    rules = detail.event.settings
    assert (rules.policy, rules.days_after_booking, rules.days_before_event) == (
        "flexible",
        5,
        None,
    )
    assert rules.reminder_offsets == "4320,1440,90" and rules.cancellation_allowed
    assert rules.auto_extend_days == 2 and rules.timezone == "Europe/Paris"


async def test_an_edit_made_meanwhile_is_not_overwritten(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    first = await console_for("organizer")
    second = await console_for("admin")
    page = await first.get(f"/console/events/{cat.event_id}")
    version = hidden(page.text, "version", 'action="/console/events/1#rules"')
    form = {
        "version": version,
        "title": "Renamed",
        "timezone": "Europe/Zurich",
        "policy": "firm",
        "days_after_booking": "7",
        "reminder_hours": "72, 24",
        "extension_days": "7",
        "auto_extend_days": "0",
        "max_per_order": "10",
    }
    await second.get(f"/console/events/{cat.event_id}")
    saved = await second.post(f"/console/events/{cat.event_id}", {**form, "title": "By Admin"})
    assert saved.status_code == 303
    late = await first.post(f"/console/events/{cat.event_id}", form)
    assert late.status_code == 400 and "Someone changed this meanwhile" in late.text
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    assert detail.event.settings.title == "By Admin"


async def test_dates_are_added_and_put_off_sale(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    await console.get(f"/console/events/{cat.event_id}")
    path = f"/console/events/{cat.event_id}/performances"
    past = await console.post(path, {"day": "2020-05-01", "time": "20:00", "policy": ""})
    assert past.status_code == 400 and "This date has already passed." in past.text
    bad_time = await console.post(path, {"day": "2027-05-01", "time": "25:00", "policy": ""})
    assert bad_time.status_code == 400 and "Enter a time such as 19:30." in bad_time.text
    added = await console.post(path, {"day": "2027-05-01", "time": "19:30", "policy": "flexible"})
    assert added.status_code == 303
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    new = detail.performances[-1]
    assert new.starts_at.isoformat() == "2027-05-01T17:30:00+00:00"  # 19:30 in Zurich (CEST)
    assert new.policy == "flexible" and new.capacity == 130  # a gauge for each area
    off = await console.post(
        f"/console/events/{cat.event_id}/performance",
        {"performance_id": str(new.id), "policy": ""},
    )
    assert off.status_code == 303
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    assert not detail.performances[-1].on_sale and detail.performances[-1].policy is None
    on_sale = await catalog.performances(app_ctx, event_id=cat.event_id)
    assert [p.id for p in on_sale] == [cat.performance_id]


async def test_tariffs_with_channels_customer_types_and_deadline_rules(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    await console.get(f"/console/events/{cat.event_id}")
    fields = {
        "name": "Étudiant",
        "area_id": str(cat.ga_area),
        "price": "12,5",
        "hold_channels": ["telegram", "console"],
        "buy_channels": ["telegram", "email"],
        "customer_types": ["individual"],
        "days_after_booking": "2",
        "days_before_event": "",
        "active": "on",
    }
    bad = await console.post(
        f"/console/events/{cat.event_id}/tariffs", {**fields, "price": "12.345"}
    )
    assert bad.status_code == 400 and "Enter an amount such as 45.00." in bad.text
    assert 'value="12.345"' in bad.text and 'value="Étudiant"' in bad.text
    added = await console.post(f"/console/events/{cat.event_id}/tariffs", fields)
    assert added.status_code == 303
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    tariff = next(t for t in detail.tariffs if t.settings.name == "Étudiant")
    assert tariff.settings.price_minor == 1250  # in the event's currency (CHF): 12.50
    assert tariff.settings.hold_channels == ("telegram", "console")
    assert tariff.settings.buy_channels == ("telegram", "email")
    assert (
        tariff.settings.customer_types == ("individual",)
        and tariff.settings.days_after_booking == 2
    )
    offers = await catalog.offers(app_ctx, performance_id=cat.performance_id, channel="email")
    student = next(o for o in offers if o.name == "Étudiant")
    assert student.can_buy and not student.can_hold  # email may buy it, not hold it
    changed = await console.post(
        f"/console/events/{cat.event_id}/tariffs/{tariff.id}",
        {**fields, "version": tariff.version, "price": "15", "active": ""},
    )
    assert changed.status_code == 303
    stale = await console.post(
        f"/console/events/{cat.event_id}/tariffs/{tariff.id}",
        {**fields, "version": tariff.version},
    )
    assert stale.status_code == 400 and "Someone changed this meanwhile" in stale.text
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    tariff = next(t for t in detail.tariffs if t.settings.name == "Étudiant")
    assert tariff.settings.price_minor == 1500 and not tariff.settings.active


async def test_a_new_area_is_on_sale_at_the_dates_to_come(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx, starts_in=timedelta(days=10))
    console = await console_for("organizer")
    venue = next(v for v in await catalog_admin.list_venues(app_ctx) if v.name == "Salle Test")
    await console.get(f"/console/venues/{venue.id}")
    await console.post(f"/console/venues/{venue.id}/areas", {"name": "Balcony", "capacity": "50"})
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    assert detail.performances[0].capacity == 100 + 30 + 50
