"""Screenshots of the console's pass pages (issue 12, "Done when"), taken in headless Chromium
on a realistic season: two pass products (a fixed seat at every date, and a card of four dates
the holder picks), eight passes sold, a renewal campaign into next season launched with three
renewals, a date added to every pass, two holders admitted at tonight's door.

Every page's figures are asserted on every run; the PNGs are written to docs/screenshots/ only
when ``GUICHET_SCREENSHOTS=1`` (so CI does not churn the repository)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booking.context import Context
from booking.queries import door as door_queries
from booking.queries import passes as pass_queries
from booking.queries import renewal_reports as reports
from booking.rules import pass_products as rules
from booking.rules.pass_products import PassProductSettings
from booking.services import (
    catalog,
    checkin,
    pass_additions,
    pass_products,
    passes,
    payments,
    renewals,
)
from booking.services.catalog import AreaSpec, SeatSpec
from booking.services.renewals import CampaignSettings
from tests.booking.test_pass_products import _venue_of
from tests.builders import STAFF, make_customer
from tests.console import test_browser
from tests.console.test_browser import signed_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WRITE = os.environ.get("GUICHET_SCREENSHOTS") == "1"
HOLDERS = (
    "Léa Roux", "Marc Dubois", "Sofia Keller", "Jonas Meier", "Claire Fontaine", "Noah Weber",
)  # fmt: skip
pytestmark = pytest.mark.slow

browser = test_browser.browser
base_url = test_browser.base_url


@dataclass
class Season:
    """What the pages are expected to show."""

    season: int = 0
    next_season: int = 0
    fixed: int = 0  # "Abonnement Parterre", 2026/27
    card: int = 0  # "Carte 4 dates", 2026/27
    next_fixed: int = 0  # "Abonnement Parterre 2027/28"
    campaign: int = 0
    tonight: int = 0  # La Traviata tonight: the door is open
    fixed_passes: list[passes.SoldPass] = field(default_factory=list)
    card_passes: list[passes.SoldPass] = field(default_factory=list)
    renewed: list[passes.SoldPass] = field(default_factory=list)


def fixed_product(
    season_id: int, area_id: int, events: tuple[int, ...], name: str
) -> PassProductSettings:
    return PassProductSettings(
        season_id=season_id, name=name, price_minor=36_000, currency="CHF",
        customer_types=("individual",), buy_channels=("telegram", "email", "console"),
        seating="fixed_seat", area_id=area_id, includes="automatic", choice_count=None,
        event_ids=events,
        holder_fields=rules.holder_fields({"first_name": "required", "last_name": "required"}),
        accent_colour="#7a1f3d", note="Portes 30 minutes avant le début.",
    )  # fmt: skip


async def build(ctx: Context) -> Season:
    s = Season()
    now = ctx.clock.now()
    s.season = await catalog.create_season(
        ctx, actor=STAFF, name="2026/27", starts_on=date(2026, 9, 1), ends_on=date(2027, 6, 30)
    )
    s.next_season = await catalog.create_season(
        ctx, actor=STAFF, name="2027/28", starts_on=date(2027, 9, 1), ends_on=date(2028, 6, 30)
    )
    seats = tuple(SeatSpec("Parterre", r, n) for r in "ABC" for n in range(1, 7))
    areas = await catalog.create_venue(
        ctx, actor=STAFF, name="Théâtre des Abeilles",
        areas=[AreaSpec("Parterre", seats=seats), AreaSpec("Galerie", capacity=80)],
    )  # fmt: skip
    venue = await _venue_of(ctx, areas["Parterre"])

    async def event(title: str, season_id: int, starts: list[datetime]) -> tuple[int, list[int]]:
        event_id = await catalog.create_event(
            ctx, actor=STAFF, title=title, venue_id=venue, season_id=season_id,
            timezone="Europe/Zurich",
        )  # fmt: skip
        dates = [
            await catalog.add_performance(ctx, actor=STAFF, event_id=event_id, starts_at=t)
            for t in starts
        ]
        return event_id, dates

    tonight = now.replace(hour=18, minute=30)  # 19:30 in Zurich: its door opens at 16:30
    traviata, dates = await event(
        "La Traviata",
        s.season,
        [tonight, tonight + timedelta(days=7), tonight + timedelta(days=14)],
    )
    s.tonight = dates[0]
    quartet, _ = await event(
        "Quatuor Ébène", s.season, [tonight + timedelta(days=10), tonight + timedelta(days=21)]
    )
    carmen, _ = await event(
        "Carmen", s.next_season, [datetime.fromisoformat("2027-10-02T17:30:00+00:00")]
    )
    s.fixed = await pass_products.create_product(
        ctx, actor=STAFF,
        settings=fixed_product(s.season, areas["Parterre"], (traviata, quartet),
                               "Abonnement Parterre"),
    )  # fmt: skip
    s.card = await pass_products.create_product(
        ctx, actor=STAFF, settings=card_product(s.season, areas["Galerie"], (traviata, quartet))
    )
    s.next_fixed = await pass_products.create_product(
        ctx, actor=STAFF,
        settings=fixed_product(s.next_season, areas["Parterre"], (carmen,),
                               "Abonnement Parterre 2027/28"),
    )  # fmt: skip
    for i, name in enumerate(HOLDERS):
        first, last = name.split(" ")
        customer = await make_customer(ctx, email=f"{first.lower()}@example.org", name=name)
        sold = await passes.sell(
            ctx, actor=STAFF, product_id=s.fixed, customer_id=customer.id,
            answers={"first_name": first, "last_name": last}, buy=i != 5,
        )  # fmt: skip
        if i != 5:  # the last one is held, not paid: not invited to renew
            await payments.record_box_office_payment(
                ctx, actor=STAFF, reference=sold.reference, method="card"
            )
        s.fixed_passes.append(sold)
    for i, name in enumerate(("Ana Costa", "Yves Perrin")):
        first, last = name.split(" ")
        customer = await make_customer(ctx, email=f"{first.lower()}@example.org", name=name)
        sold = await passes.sell(
            ctx, actor=STAFF, product_id=s.card, customer_id=customer.id,
            answers={"first_name": first, "last_name": last}, buy=True, picks=dates[: i + 1],
        )  # fmt: skip
        await payments.record_box_office_payment(
            ctx, actor=STAFF, reference=sold.reference, method="cash"
        )
        s.card_passes.append(sold)
    # A date added to the season after the sale, then to every pass of the product.
    await catalog.add_performance(
        ctx, actor=STAFF, event_id=traviata, starts_at=tonight + timedelta(days=28)
    )
    added = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=s.fixed)
    assert (added.dates_added, added.items_added, added.conflicts) == (1, 6, ())
    s.campaign = await renewals.create_campaign(
        ctx, actor=STAFF,
        settings=CampaignSettings(
            from_product_id=s.fixed, name="Renouvellement 2027/28",
            offer_product_ids=(s.next_fixed,),
            closes_at=datetime.fromisoformat("2026-12-20T17:00:00+00:00"),
        ),
    )  # fmt: skip
    report = await renewals.launch(ctx, actor=STAFF, campaign_id=s.campaign)
    assert (report.invited, report.seats_kept, report.not_kept) == (5, 5, 0)
    lines = await reports.campaign_lines(ctx, campaign_id=s.campaign)
    by_pass = {x.pass_id: x.renewal_id or 0 for x in lines}
    for i, old in enumerate(s.fixed_passes[:3]):
        new = await renewals.renew(
            ctx, actor=STAFF, renewal_id=by_pass[old.id], product_id=s.next_fixed, buy=i < 2
        )
        if i < 2:
            await payments.record_box_office_payment(
                ctx, actor=STAFF, reference=new.reference, method="card"
            )
        s.renewed.append(new)
    for sold in s.fixed_passes[:2]:  # two holders at tonight's door
        secret = await _secret(ctx, sold.id)
        answer = await checkin.admit(
            ctx, actor=STAFF, secret=secret, performance_id=s.tonight, door="Entrée A"
        )
        assert answer.outcome == "admitted"
    return s


def card_product(season_id: int, area_id: int, events: tuple[int, ...]) -> PassProductSettings:
    """Four dates the holder picks among those events, in the GA gallery."""
    return replace(
        fixed_product(season_id, area_id, events, "Carte 4 dates"),
        seating="ga", includes="choice", choice_count=4, price_minor=16_000,
        accent_colour="#1f4e79",
    )  # fmt: skip


async def _secret(ctx: Context, pass_id: int) -> str:
    return (await pass_queries.pass_detail(ctx, pass_id=pass_id)).secret


async def save(page: Any, name: str) -> None:
    if WRITE:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def text(page: Any, selector: str) -> str:
    return " ".join((await page.inner_text(selector)).split())


async def test_screenshots_of_the_pass_pages(app_ctx: Context, browser: Any, base_url: str) -> None:
    s = await build(app_ctx)
    page = await signed_in(browser, base_url, "organizer")
    url = f"{base_url}/console/passes"

    await page.goto(url)
    row = await text(page, f"#product-{s.fixed}")
    assert "Abonnement Parterre" in row and row.endswith("2 6 yes")  # 2 events, 6 dates now
    assert "Carte 4 dates" in await text(page, f"#product-{s.card}")
    await save(page, "passes-01-products")

    await page.goto(f"{url}/products/{s.fixed}")
    assert await page.inner_text("h1") == "Abonnement Parterre"
    assert await page.locator("#product-links a").count() == 3
    await save(page, "passes-02-product")

    await page.goto(f"{url}/products/{s.fixed}/sell?email=new@example.org")
    # 18 seats, 6 sold (the seats kept for renewals are next season's): 12 free at every date
    assert await page.locator("#seat option").count() == 1 + 12
    await save(page, "passes-03-sale-form")

    first = s.fixed_passes[0]
    await page.goto(f"{url}/{first.id}")
    assert await page.inner_text("#pass-code") == first.code
    assert await page.locator("#pass-dates li").count() == 6  # five sold, one added
    assert await text(page, "#pass-renewed-into") == "Abonnement Parterre 2027/28 · 2027/28"
    assert await text(page, "#pass-seat") == "Parterre · row A · seat 1"
    await save(page, "passes-04-pass")

    await page.goto(f"{url}/holders")
    assert await page.locator("#holders tbody tr").count() == 6 + 2 + 3
    card = await text(page, f"#holder-{s.card_passes[1].id}")
    assert card.endswith("CHF 0.00 2")  # four dates, two picked at the sale
    await save(page, "passes-05-holders")

    await page.goto(f"{url}/renewals")
    row = await text(page, f"#campaign-{s.campaign}")
    assert row.endswith("Launched 5 3 2 0"), row
    await save(page, "passes-06-renewals")

    await page.goto(f"{url}/renewals/new?from={s.fixed}")
    chosen = await page.eval_on_selector("#from_product_id", "e => e.selectedOptions[0].text")
    assert chosen == "Abonnement Parterre · 2026/27"
    assert await page.locator("input[name=offer_product_ids]").count() == 3
    await save(page, "passes-10-new-campaign")

    await page.goto(f"{url}/renewals/{s.campaign}")
    counts = [await page.inner_text(f"#count-{n}") for n in ("invited", "renewed", "waiting")]
    assert counts == ["5", "3", "2"]
    assert await page.locator("#renewed tbody tr").count() == 3
    await save(page, "passes-07-campaign")

    await page.goto(f"{url}/renewals/seasons/{s.next_season}")
    assert "(3)" in await page.inner_text("#into h2")
    await save(page, "passes-08-season-renewals")

    await page.goto(f"{base_url}/console/door?performance={s.tonight}")
    # two admitted; "expected" is the door query's own figure (it counts tickets, not passes,
    # today: reported to the lead)
    board = await door_queries.board(app_ctx, s.tonight)
    assert board.counts is not None
    shown = f"Checked in: 2 of {board.counts.expected} expected"
    assert await text(page, "#door-counts") == shown
    await page.fill("input[name=code]", await _secret(app_ctx, s.fixed_passes[0].id))
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#door-answer")
    assert await page.get_attribute("#door-answer", "data-outcome") == "already_used"
    await save(page, "passes-09-door")
