"""The console's pass products over HTTP (and one form in headless Chromium): the list per
season, create and edit with refusals beside their fields, the stale-save check, roles, the
phone card preview, and no English on the French pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from booking.context import Context
from booking.queries import pass_products as queries
from booking.services import pass_products
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF
from tests.console import test_browser
from tests.console.conftest import ConsoleFactory
from tests.console.test_browser import shot, signed_in
from tests.support.english import english_in, visible_text

# Data the test puts in the database: names, not the console's words.
DATA = (
    "Abonnement", "Opera", "Jazz", "Away", "Next_Year", "Floor", "Stalls", "Hall",
    "Salle 2026/27", "Ailleurs 2026/27", "Camille Exemple", "Portes 30 minutes avant.",
    "Organizer Test",
)  # fmt: skip


def form_data(ids: dict[str, int], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "season_id": str(ids["season"]),
        "name": "Abonnement",
        "price": "240.00",
        "currency": "CHF",
        "customer_types": ["individual"],
        "buy_channels": ["telegram", "console"],
        "seating": "fixed_seat",
        "area_id": str(ids["Stalls"]),
        "includes": "automatic",
        "choice_count": "",
        "event_ids": [str(ids["opera"]), str(ids["jazz"])],
        "field_first_name": "required",
        "field_photo": "optional",
        "free_field_label": "",
        "accent_colour": "#7a1f3d",
        "note": "Portes 30 minutes avant.",
        "active": "on",
    }
    data.update(changes)
    return data


def field_error(html: str, name: str) -> str:
    """The error shown beside the field ``name`` (input, select or fieldset)."""
    found = re.search(rf'id="{name}-error">([^<]+)<', html) or re.search(
        rf'name="{name}"[^\n]*\n(?:.*\n){{0,40}}?\s*<p class="error">([^<]+)<', html
    )
    return found.group(1) if found else ""


async def test_organizer_creates_a_product_and_the_list_counts_its_dates(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    console = await console_for("organizer")
    assert (await console.get("/console/passes")).status_code == 200
    created = await console.post("/console/passes/products", form_data(ids))
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    (row,) = await queries.list_products(app_ctx)
    assert location == f"/console/passes/products/{row.id}"
    assert (row.settings.price_minor, row.events, row.performances) == (24000, 2, 5)
    listing = (await console.get("/console/passes")).text
    assert f'href="/console/passes/products/{row.id}">Abonnement</a>' in listing
    assert re.search(r'<td class="num">2</td>\s*<td class="num">5</td>', listing)
    page = (await console.get(location)).text
    assert "<svg" in page and 'fill="#7a1f3d"' in page and "Camille Exemple" in page
    assert "Stalls A 1" in page and f"/console/passes/products/{row.id}/preview.pdf" in page


async def test_refused_values_come_back_beside_their_fields_with_the_typing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    console = await console_for("organizer")
    bad = await console.post(
        "/console/passes/products",
        form_data(ids, name="Mon abonnement", accent_colour="bordeaux", price="12,5x"),
    )
    assert bad.status_code == 400
    assert field_error(bad.text, "price") == "Enter an amount such as 45.00."
    assert 'value="bordeaux"' in bad.text and 'value="Mon abonnement"' in bad.text
    colour = await console.post(
        "/console/passes/products", form_data(ids, accent_colour="bordeaux")
    )
    assert "Give the colour as #rrggbb" in field_error(colour.text, "accent_colour")
    away = await console.post(
        "/console/passes/products",
        form_data(ids, event_ids=[str(ids["opera"]), str(ids["away"])]),
    )
    assert away.status_code == 400
    assert "Away is not at this area" in field_error(away.text, "event_ids")
    ga_area = await console.post(
        "/console/passes/products", form_data(ids, area_id=str(ids["Floor"]))
    )
    assert "numbered seats" in field_error(ga_area.text, "area_id")
    assert await queries.list_products(app_ctx) == []


async def test_a_stale_edit_shows_what_is_saved_now_and_keeps_the_typing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=product(ids))
    console = await console_for("organizer")
    page = (await console.get(f"/console/passes/products/{product_id}")).text
    version = re.search(r'name="version" value="([0-9a-f]+)"', page)
    assert version
    row = (await queries.product_detail(app_ctx, product_id=product_id)).row
    await pass_products.update_product(  # a colleague saves first
        app_ctx,
        actor=STAFF,
        product_id=product_id,
        expected=row.version,
        settings=product(ids, note="Saved by a colleague"),
    )
    mine = form_data(ids, note="Typed by me", version=version.group(1))
    stale = await console.post(f"/console/passes/products/{product_id}", mine)
    assert stale.status_code == 409
    assert "Someone changed this meanwhile" in stale.text
    assert "Saved now: Saved by a colleague · you typed: Typed by me" in stale.text
    assert 'value="Typed by me"' in stale.text
    again = await console.post(
        f"/console/passes/products/{product_id}",
        {**mine, "version": re.findall(r'name="version" value="([0-9a-f]+)"', stale.text)[0]},
    )
    assert again.status_code == 303
    saved = (await queries.product_detail(app_ctx, product_id=product_id)).row.settings
    assert saved.note == "Typed by me"


async def test_off_and_on_sale_from_the_product_page(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=product(ids))
    console = await console_for("admin")
    await console.get(f"/console/passes/products/{product_id}")
    off = await console.post(f"/console/passes/products/{product_id}/active", {"active": ""})
    assert off.status_code == 303
    assert not (await queries.product_detail(app_ctx, product_id=product_id)).row.settings.active
    await console.post(f"/console/passes/products/{product_id}/active", {"active": "on"})
    assert (await queries.product_detail(app_ctx, product_id=product_id)).row.settings.active


async def test_box_office_may_not_see_or_change_pass_products(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=product(ids))
    console = await console_for("box_office")
    for path in ("/console/passes", f"/console/passes/products/{product_id}",
                 f"/console/passes/products/{product_id}/preview.pdf"):  # fmt: skip
        assert (await console.get(path)).status_code == 403, path
    refused = await console.post(f"/console/passes/products/{product_id}/active", {"active": ""})
    assert refused.status_code == 403
    assert (await queries.product_detail(app_ctx, product_id=product_id)).row.settings.active
    forged = await (await console_for("organizer")).post(
        f"/console/passes/products/{product_id}/active", {"active": ""}, csrf="forged"
    )
    assert forged.status_code == 403


async def test_unknown_product_is_a_clear_page(console_for: ConsoleFactory) -> None:
    console = await console_for("organizer")
    missing = await console.get("/console/passes/products/999999")
    assert missing.status_code == 409 and "This no longer exists." in missing.text


async def test_french_pass_pages_show_no_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=product(ids))
    console = await console_for("organizer")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    pages = {
        path: (await console.get(path)).text
        for path in ("/console/passes", "/console/passes/products/new",
                     f"/console/passes/products/{product_id}")
    }  # fmt: skip
    refused = await console.post(
        "/console/passes/products",
        form_data(ids, name="", accent_colour="x", event_ids=[str(ids["away"])],
                  includes="choice", choice_count="0", field_free="optional"),
    )  # fmt: skip
    pages["refused form"] = refused.text
    assert "Abonnement" in pages["/console/passes"]
    english = {k: f for k, v in pages.items() if (f := english_in(visible_text(v), DATA))}
    assert not english, english


# The browser journeys' fixtures: Chromium, and the app served by uvicorn on loopback.
browser = test_browser.browser
base_url = test_browser.base_url


@pytest.mark.slow
async def test_organizer_fills_the_form_in_a_browser(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    ids = await season_with_events(app_ctx)
    page = await signed_in(browser, base_url, "organizer")
    await page.goto(f"{base_url}/console/passes")
    await page.click("text=New pass product")
    await page.select_option("#season_id", str(ids["season"]))
    await page.fill("#name", "Abonnement")
    await page.fill("#price", "240")
    await page.select_option("#area_id", str(ids["Stalls"]))
    await page.check(f"input[name=event_ids][value='{ids['opera']}']")
    await page.select_option("#field_photo", "required")
    await page.fill("#accent_colour", "bordeaux")
    await page.click("button:has-text('Create the pass product')")
    await page.wait_for_selector("#accent_colour-error")
    assert await page.input_value("#name") == "Abonnement"  # the typing is kept
    assert await page.input_value("#field_photo") == "required"
    await page.fill("#accent_colour", "#7a1f3d")
    await page.click("button:has-text('Create the pass product')")
    await page.wait_for_selector("text=Pass product created.")
    await page.wait_for_selector("figure.pass-card svg")
    await shot(page, "20-pass-product")
    (row,) = await queries.list_products(app_ctx)
    assert (row.settings.accent_colour, row.settings.mode("photo"), row.events) == (
        "#7a1f3d",
        "required",
        1,
    )
