"""The console sets issue 11's availability rules: a tariff's places per booking (minimum and
maximum) on the tariff form, the "N left" threshold and the picture on the event's rules; bad
values are refused beside their field with the typing kept, in English and French."""

from __future__ import annotations

import html
import re

from booking.context import Context
from booking.services import catalog, catalog_admin
from tests.builders import Catalog, make_catalog
from tests.console.conftest import Console, ConsoleFactory
from tests.support.english import english_in, visible_text

RULES = {
    "title": "Test Concert",
    "timezone": "Europe/Zurich",
    "policy": "firm",
    "days_after_booking": "7",
    "reminder_hours": "72, 24",
    "extension_days": "7",
    "auto_extend_days": "0",
    "max_per_order": "20",
    "currency": "CHF",
}


def tariff_fields(cat: Catalog, **more: str) -> dict[str, str | list[str]]:
    return {
        "name": "Groupe",
        "area_id": str(cat.ga_area),
        "price": "35",
        "hold_channels": ["telegram", "email", "console"],
        "buy_channels": ["telegram", "email", "console"],
        "customer_types": ["individual", "group"],
        "days_after_booking": "",
        "days_before_event": "",
        "active": "on",
        **more,
    }


def field_error(page: str, name: str) -> str:
    """The error printed under the input ``name`` (ids may carry a prefix)."""
    found = re.search(rf'id="[\w-]*{name}-error">([^<]*)<', page)
    assert found, f"no error beside {name}"
    return html.unescape(found.group(1))


async def rules_version(console: Console, cat: Catalog) -> str:
    page = (await console.get(f"/console/events/{cat.event_id}")).text
    part = page.split(f'action="/console/events/{cat.event_id}#rules"', 1)[1]
    return re.search(r'name="version" value="([^"]*)"', part).group(1)  # type: ignore[union-attr]


async def in_language(console_for: ConsoleFactory, language: str) -> Console:
    console = await console_for("organizer")
    await console.get("/console/")
    await console.post("/console/language", {"language": language})
    return console


async def test_a_tariff_gets_its_places_per_booking_and_bad_ranges_are_refused_in_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, max_per_order=20)
    console = await in_language(console_for, "en")
    page = await console.get(f"/console/events/{cat.event_id}")
    assert "Places of this tariff per booking, at least" in page.text
    url = f"/console/events/{cat.event_id}/tariffs"

    upside_down = await console.post(
        url, tariff_fields(cat, min_per_booking="12", max_per_booking="8")
    )
    assert upside_down.status_code == 400
    assert field_error(upside_down.text, "min_per_booking") == (
        "The minimum per booking (12) is above the maximum (8): nobody could book this ticket type."
    )
    assert 'value="12"' in upside_down.text and 'value="8"' in upside_down.text
    above_event = await console.post(url, tariff_fields(cat, min_per_booking="25"))
    assert above_event.status_code == 400
    assert "(25) is above the maximum (20)" in field_error(above_event.text, "min_per_booking")

    added = await console.post(url, tariff_fields(cat, min_per_booking="10", max_per_booking=""))
    assert added.status_code == 303, added.text
    offers = await catalog.offers(app_ctx, performance_id=cat.performance_id, channel="telegram")
    group = next(o for o in offers if o.name == "Groupe")
    assert (group.min_quantity, group.max_quantity) == (10, 20)

    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    row = next(t for t in detail.tariffs if t.settings.name == "Groupe")
    edited = await console.post(
        f"{url}/{row.id}",
        tariff_fields(cat, version=row.version, min_per_booking="10", max_per_booking="15"),
    )
    assert edited.status_code == 303
    offers = await catalog.offers(app_ctx, performance_id=cat.performance_id, channel="telegram")
    assert next(o for o in offers if o.name == "Groupe").max_quantity == 15
    page = await console.get(f"/console/events/{cat.event_id}")
    assert 'name="max_per_booking" type="number" value="15"' in page.text


async def test_the_event_s_threshold_and_picture_are_saved_and_an_http_picture_refused(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, max_per_order=20)
    console = await in_language(console_for, "en")
    url = f"/console/events/{cat.event_id}"
    version = await rules_version(console, cat)

    plain = await console.post(
        url,
        {
            **RULES,
            "version": version,
            "show_remaining_below": "15",
            "picture_url": "http://example.org/a.jpg",
        },
    )
    assert plain.status_code == 400
    assert field_error(plain.text, "picture_url") == (
        "The picture must be an https:// address, or leave it empty."
    )
    assert 'value="http://example.org/a.jpg"' in plain.text and 'value="15"' in plain.text
    saved = await console.post(
        url,
        {
            **RULES,
            "version": version,
            "show_remaining_below": "15",
            "picture_url": "https://example.org/a.jpg",
        },
    )
    assert saved.status_code == 303, saved.text
    (date,) = await catalog.performances(app_ctx, event_id=cat.event_id)
    assert (date.show_remaining_below, date.picture_url) == (15, "https://example.org/a.jpg")
    negative = await console.post(
        url, {**RULES, "version": await rules_version(console, cat), "show_remaining_below": "-1"}
    )
    assert negative.status_code == 400 and field_error(negative.text, "show_remaining_below")


async def test_the_same_forms_in_french_have_no_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, max_per_order=10)
    console = await in_language(console_for, "fr")
    page = await console.get(f"/console/events/{cat.event_id}")
    for label in (
        "Places de ce tarif par réservation, au moins",
        "Places de ce tarif par réservation, au plus",
        "Afficher les places restantes sous",
        "Image (adresse https)",
    ):
        assert label in page.text

    refused = await console.post(
        f"/console/events/{cat.event_id}/tariffs", tariff_fields(cat, min_per_booking="12")
    )
    assert field_error(refused.text, "min_per_booking") == (
        "Le minimum par réservation (12) dépasse le maximum (10) : personne ne pourrait "
        "réserver ce type de billet."
    )
    picture = await console.post(
        f"/console/events/{cat.event_id}",
        {
            **RULES,
            "max_per_order": "10",
            "version": await rules_version(console, cat),
            "picture_url": "ftp://example.org/a.jpg",
        },
    )
    assert field_error(picture.text, "picture_url") == (
        "L'image doit être une adresse https://, ou laissez le champ vide."
    )
    data = ("Test Concert", "Groupe", "Standing", "Seated", "Salle Test", "Floor", "Stalls")
    for shown in (page, refused, picture):
        assert english_in(visible_text(shown.text), data) == []
