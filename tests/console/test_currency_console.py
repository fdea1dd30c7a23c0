"""The console: the currency is set in the event's rules (a select of ISO 4217 codes, checked
by the core), tariffs are priced in it, and money follows the staff member's language."""

from __future__ import annotations

import re

from booking.context import Context
from booking.services import catalog_admin
from tests.builders import make_catalog
from tests.console.conftest import ConsoleFactory


def rules_form(version: str, **changes: str) -> dict[str, str]:
    return {
        "version": version,
        "title": "Test Concert",
        "timezone": "Europe/Zurich",
        "currency": "CHF",
        "policy": "firm",
        "days_after_booking": "7",
        "reminder_hours": "72, 24",
        "extension_days": "7",
        "auto_extend_days": "0",
        "max_per_order": "10",
        **changes,
    }


def version_of(page: str) -> str:
    form = page.split('action="/console/events/1#rules"', 1)[1]
    return re.search(r'name="version" value="([^"]*)"', form).group(1)  # type: ignore[union-attr]


async def test_an_unknown_currency_is_refused_in_the_event_form_in_english_and_french(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    page = await console.get(f"/console/events/{cat.event_id}")
    assert '<select id="currency" name="currency">' in page.text
    assert '<option value="CHF" selected>' in page.text and 'value="XYZ"' not in page.text
    path = f"/console/events/{cat.event_id}"
    refused = await console.post(path, rules_form(version_of(page.text), currency="XYZ"))
    assert refused.status_code == 400
    assert "XYZ is not a currency in use" in refused.text
    await console.post("/console/language", {"language": "fr"})
    page = await console.get(path)
    refused = await console.post(path, rules_form(version_of(page.text), currency="XYZ"))
    assert refused.status_code == 400 and "XYZ n&#39;est pas une monnaie en usage" in refused.text
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    assert detail.event.settings.currency == "CHF"  # nothing saved


async def test_the_tariff_form_has_no_currency_and_takes_yen_without_decimals(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    page = await console.get(f"/console/events/{cat.event_id}")
    saved = await console.post(
        f"/console/events/{cat.event_id}", rules_form(version_of(page.text), currency="jpy")
    )
    assert saved.status_code == 303, saved.text
    page = await console.get(f"/console/events/{cat.event_id}")
    assert page.text.count('name="currency"') == 1  # the rules' select; no tariff has one
    assert "Price in JPY" in page.text and "¥4,500" in page.text  # the Standing tariff
    fields = {
        "name": "Early bird",
        "area_id": str(cat.ga_area),
        "hold_channels": ["telegram"],
        "buy_channels": ["telegram"],
        "customer_types": ["individual"],
        "active": "on",
    }
    path = f"/console/events/{cat.event_id}/tariffs"
    refused = await console.post(path, {**fields, "price": "3000.50"})  # yen have no decimals
    assert refused.status_code == 400
    added = await console.post(path, {**fields, "price": "3000"})
    assert added.status_code == 303
    detail = await catalog_admin.event_detail(app_ctx, event_id=cat.event_id)
    early = next(t for t in detail.tariffs if t.settings.name == "Early bird")
    assert early.settings.price_minor == 3000  # ¥3,000, not 300000
    page = await console.get(f"/console/events/{cat.event_id}")
    assert 'value="3000"' in page.text and "¥3,000" in page.text


async def test_console_money_reads_chf_136_00_in_english_and_136_00_chf_in_french(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    page = await console.get(f"/console/events/{cat.event_id}")
    assert "CHF\u00a045.00" in page.text
    await console.post("/console/language", {"language": "fr"})
    page = await console.get(f"/console/events/{cat.event_id}")
    assert "45,00\u00a0CHF" in page.text
