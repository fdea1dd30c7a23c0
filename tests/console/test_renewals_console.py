"""Renewal campaigns in the console over HTTP on a real database (SQLite and PostgreSQL): a
campaign created from its form (bad input refused beside its field, nothing written), the
launch page's count before inviting, the counts after launch, a renewal and the close, the
lists of a campaign and of a season both ways with their formula-safe CSV, CSRF and roles, no
English on the French pages, and once in Chromium: create, launch, see the counts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.queries import renewal_reports as reports
from booking.services import pass_products, renewals
from booking.tables.renewals import RenewalCampaign
from console.web import csvout
from tests.booking.test_pass_products import product
from tests.builders import STAFF, make_customer
from tests.console import test_browser
from tests.console.conftest import ConsoleFactory, both
from tests.console.test_browser import shot, signed_in
from tests.console.test_pass_holders_console import (
    Seasons,
    csv_rows,
    holders_of,
    sell_paid,
    two_seasons,
)
from tests.support.english import english_in, visible_text

FLASH = re.compile(r'<p class="flash ok" role="status">([^<]*)</p>')


def campaign_form(s: Seasons, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Renouvellement 27/28",
        "from_product_id": str(s.old),
        "offer_product_ids": [str(s.new)],
        "opens_day": "",
        "opens_time": "",
        "closes_day": "2026-12-20",
        "closes_time": "18:00",
        "reminder_days": "7, 1",
    }
    return data | changes


async def campaigns_made(ctx: Context) -> list[RenewalCampaign]:
    async def work(session: AsyncSession) -> list[RenewalCampaign]:
        return list((await session.execute(select(RenewalCampaign))).scalars())

    return await ctx.db.read(work)


def count(page: str, name: str) -> str:
    found = re.search(rf'id="count-{name}">([^<]*)<', page)
    assert found is not None, name
    return found.group(1)


def flash(page: str) -> str:
    found = FLASH.search(page)
    return found.group(1) if found else ""


async def created(console: Any, s: Seasons, **changes: Any) -> int:
    response = await console.post("/console/passes/renewals", campaign_form(s, **changes))
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


@both
async def test_campaign_counts_after_launch_renew_and_close(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    sold = await holders_of(app_ctx, s.old, 3)
    console = await console_for("organizer")
    form = (await console.get("/console/passes/renewals/new", **{"from": str(s.old)})).text
    assert f'<option value="{s.old}" selected>Abonnement · 2026/27</option>' in form

    campaign_id = await created(console, s)
    made = (await campaigns_made(app_ctx))[0]
    assert (made.name, made.state, made.reminder_days) == ("Renouvellement 27/28", "draft", "7,1")
    # typed at the organizer's timezone (Europe/Zurich: UTC+1 in December)
    assert made.closes_at is not None and made.closes_at.isoformat() == "2026-12-20T17:00:00+00:00"
    page = (await console.get(f"/console/passes/renewals/{campaign_id}")).text
    assert count(page, "invited") == "0" and "Not launched" in page
    assert "Sun 20 Dec 2026, 18:00 (Europe/Zurich)" in page

    launch = (await console.get(f"/console/passes/renewals/{campaign_id}/launch")).text
    assert "3 holders of Abonnement · 2026/27 will be invited to renew." in launch
    launched = await console.post(f"/console/passes/renewals/{campaign_id}/launch")
    assert launched.status_code == 303
    page = (await console.get(launched.headers["location"])).text
    assert flash(page) == "Launched. Invited: 3; seats kept: 3; not kept: 0."
    assert [count(page, n) for n in ("invited", "renewed", "waiting", "released")] == [
        "3", "0", "3", "0",
    ]  # fmt: skip

    lines = await reports.campaign_lines(app_ctx, campaign_id=campaign_id)
    first = next(x for x in lines if x.pass_id == sold[0].id)
    renewed = await renewals.renew(
        app_ctx, actor=STAFF, renewal_id=first.renewal_id or 0, product_id=s.new, buy=True
    )
    page = (await console.get(f"/console/passes/renewals/{campaign_id}")).text
    assert [count(page, n) for n in ("invited", "renewed", "waiting", "released")] == [
        "3", "1", "2", "0",
    ]  # fmt: skip
    renewed_list = page.split('<section id="renewed">')[1].split("</section>")[0]
    assert f'href="/console/bookings/{renewed.reference}">{renewed.reference}</a>' in renewed_list
    assert renewed_list.count("Stalls · row A · seat 1") == 2  # the old seat, kept
    assert sold[0].code in renewed_list and sold[1].code not in renewed_list

    closed = await console.post(f"/console/passes/renewals/{campaign_id}/close")
    page = (await console.get(closed.headers["location"])).text
    assert flash(page) == "Campaign closed. Kept seats back on sale: 2."
    assert [count(page, n) for n in ("invited", "renewed", "waiting", "released")] == [
        "3", "1", "0", "2",
    ]  # fmt: skip
    listing = (await console.get("/console/passes/renewals")).text
    row = listing.split(f'id="campaign-{campaign_id}"')[1].split("</tr>")[0]
    assert re.findall(r'class="num"[^>]*>(\d+)<', row) == ["3", "1", "0", "2"]


async def test_a_holder_who_bought_after_the_launch_is_invited_by_a_second_launch(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    await holders_of(app_ctx, s.old, 2)
    console = await console_for("organizer")
    campaign_id = await created(console, s)
    base = f"/console/passes/renewals/{campaign_id}"
    await console.post(base + "/launch")
    late = await make_customer(app_ctx, email="late@example.org", name="Late Buyer")
    await sell_paid(app_ctx, s.old, late, first_name="Tardif")

    page = (await console.get(base)).text
    assert count(page, "invited") == "2" and 'id="invite-more"' in page
    again = (await console.get(base + "/launch")).text
    assert "1 holder of Abonnement · 2026/27 will be invited to renew." in again
    launched = await console.post(base + "/launch")
    page = (await console.get(launched.headers["location"])).text
    assert flash(page) == "Launched. Invited: 1; seats kept: 1; not kept: 0."
    assert count(page, "invited") == "3" and count(page, "waiting") == "3"
    assert "Every holder is invited already." in (await console.get(base + "/launch")).text


@both
async def test_a_season_shows_renewals_both_ways(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    sold = await holders_of(app_ctx, s.old, 2)
    console = await console_for("organizer")
    campaign_id = await created(console, s)
    await console.post(f"/console/passes/renewals/{campaign_id}/launch")
    line = next(
        x
        for x in await reports.campaign_lines(app_ctx, campaign_id=campaign_id)
        if x.pass_id == sold[1].id
    )
    renewed = await renewals.renew(
        app_ctx, actor=STAFF, renewal_id=line.renewal_id or 0, product_id=s.new
    )

    old = (await console.get(f"/console/passes/renewals/seasons/{s.ids['season']}")).text
    new = (await console.get(f"/console/passes/renewals/seasons/{s.ids['other_season']}")).text

    def section(page: str, name: str) -> str:
        return page.split(f'<section id="{name}">')[1].split("</section>")[0]

    assert "(0)" in section(old, "into") and "(1)" in section(old, "from")
    assert sold[1].code in section(old, "from") and sold[0].code in section(old, "not-yet")
    assert "(1)" in section(new, "into") and "(0)" in section(new, "from")
    assert renewed.reference in section(new, "into") and "Held" in section(new, "into")
    # the pass pages link both ways
    old_pass = (await console.get(f"/console/passes/{sold[1].id}")).text
    assert f'<a href="/console/passes/{renewed.id}">Abonnement 27/28 · 2026/27b</a>' in old_pass
    new_pass = (await console.get(f"/console/passes/{renewed.id}")).text
    assert f'<a href="/console/passes/{sold[1].id}">Abonnement · 2026/27</a>' in new_pass
    assert f'<span id="pass-code">{sold[1].code}</span>' in new_pass  # the same code
    csv_url = f"/console/passes/renewals/seasons/{s.ids['other_season']}/into.csv"
    into = csv_rows((await console.get(csv_url)).content)
    assert [(r["pass_code"], r["state"], r["new_booking"], r["new_status"]) for r in into] == [
        (sold[1].code, "renewed", renewed.reference, "held")
    ]


async def test_bad_campaign_input_is_refused_beside_its_field_and_nothing_is_written(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    console = await console_for("organizer")
    url = "/console/passes/renewals"

    def error(page: str, field: str) -> str:
        found = re.search(rf'id="{field}-error">([^<]*)<', page)
        if found:
            return found.group(1)
        block = page.split(f'name="{field}"')[-1].split("</fieldset>")[0]
        found = re.search(r'<p class="error">([^<]*)<', block)
        return found.group(1) if found else ""

    cases = {
        "closes_day": (
            campaign_form(s, opens_day="2026-12-21", opens_time="09:00"),
            "The window must close after it opens.",
        ),
        "offer_product_ids": (
            campaign_form(s, offer_product_ids=[]),
            "Offer at least one product of a later season.",
        ),
        "reminder_days": (
            campaign_form(s, reminder_days="7, demain"),
            "Give whole days before the close, such as 7, 1 (at most five, up to 90).",
        ),
        "closes_time": (campaign_form(s, closes_time=""), "Required."),
        "name": (campaign_form(s, name=""), "Required."),
    }
    for field, (data, message) in cases.items():
        refused = await console.post(url, data)
        assert refused.status_code == 400, field
        assert error(refused.text, field) == message, field
        assert 'value="Renouvellement 27/28"' in refused.text or field == "name"  # kept
    same = await console.post(url, campaign_form(s, offer_product_ids=[str(s.old)]))
    assert "Offer only products of a season after 2026/27." in same.text
    choice = await pass_products.create_product(
        app_ctx, actor=STAFF,
        settings=product(
            s.ids, season_id=s.ids["other_season"], name="Carte 3", includes="choice",
            choice_count=3, event_ids=(), seating="ga", area_id=s.ids["Floor"],
        ),
    )  # fmt: skip
    card = await console.post(url, campaign_form(s, offer_product_ids=[str(choice)]))
    assert error(card.text, "offer_product_ids") == (
        "Offer only passes that include every date of their events, priced in CHF."
    )
    past = await console.post(url, campaign_form(s, closes_day="2026-11-01"))
    assert error(past.text, "closes_day") == "This moment has already passed."
    assert await campaigns_made(app_ctx) == []


async def test_campaign_csv_is_formula_safe_and_the_guard_matters(
    app_ctx: Context, console_for: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await two_seasons(app_ctx)
    await holders_of(app_ctx, s.old, 1)
    hostile = await make_customer(app_ctx, email="evil@example.org", name="Evil")
    await sell_paid(app_ctx, s.old, hostile, first_name='=HYPERLINK("http://x")')
    console = await console_for("organizer")
    campaign_id = await created(console, s)
    await console.post(f"/console/passes/renewals/{campaign_id}/launch")
    url = f"/console/passes/renewals/{campaign_id}/waiting.csv"

    rows = csv_rows((await console.get(url)).content)
    assert sorted(r["holder"] for r in rows) == ['\'=HYPERLINK("http://x")', "Prénom0"]
    assert {r["state"] for r in rows} == {"invited"}
    assert {r["new_seat"] for r in rows} == {"Stalls · row A · seat 1", "Stalls · row A · seat 2"}
    # The companion: without the guard, the cell reaches the spreadsheet as a live formula.
    monkeypatch.setattr(csvout, "cell", lambda value: "" if value is None else str(value))
    raw = csv_rows((await console.get(url)).content)
    assert '=HYPERLINK("http://x")' in [r["holder"] for r in raw]
    assert (
        await console.get(f"/console/passes/renewals/{campaign_id}/nope.csv")
    ).status_code == 404


async def test_a_forged_post_changes_nothing(app_ctx: Context, console_for: ConsoleFactory) -> None:
    s = await two_seasons(app_ctx)
    await holders_of(app_ctx, s.old, 2)
    console = await console_for("organizer")
    campaign_id = await created(console, s)

    forged = await console.post("/console/passes/renewals", campaign_form(s), csrf="forged")
    assert forged.status_code == 403
    launch = await console.post(f"/console/passes/renewals/{campaign_id}/launch", csrf="")
    assert launch.status_code == 403
    assert [(c.id, c.state) for c in await campaigns_made(app_ctx)] == [(campaign_id, "draft")]
    await console.post(f"/console/passes/renewals/{campaign_id}/launch")
    close = await console.post(f"/console/passes/renewals/{campaign_id}/close", csrf="x")
    assert close.status_code == 403
    assert [c.state for c in await campaigns_made(app_ctx)] == ["open"]


async def test_door_and_box_office_are_refused(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    await holders_of(app_ctx, s.old, 1)
    organizer = await console_for("organizer")
    campaign_id = await created(organizer, s)
    for role in ("door", "box_office"):
        console = await console_for(role)
        for path in (
            "/console/passes/renewals",
            "/console/passes/renewals/new",
            f"/console/passes/renewals/{campaign_id}",
            f"/console/passes/renewals/{campaign_id}/launch",
            f"/console/passes/renewals/{campaign_id}/waiting.csv",
            f"/console/passes/renewals/seasons/{s.ids['season']}",
        ):
            assert (await console.get(path)).status_code == 403, (role, path)
        assert (await console.post("/console/passes/renewals", campaign_form(s))).status_code == 403
        launched = await console.post(f"/console/passes/renewals/{campaign_id}/launch")
        assert launched.status_code == 403
    assert [(c.id, c.state) for c in await campaigns_made(app_ctx)] == [(campaign_id, "draft")]


async def test_french_renewal_pages_show_no_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    sold = await holders_of(app_ctx, s.old, 2)
    console = await console_for("organizer")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    pages = {
        "empty list": (await console.get("/console/passes/renewals")).text,
        "form": (await console.get("/console/passes/renewals/new")).text,
        "refused": (
            await console.post(
                "/console/passes/renewals",
                campaign_form(s, offer_product_ids=[], reminder_days="x", closes_time=""),
            )
        ).text,
    }
    campaign_id = await created(console, s)
    base = f"/console/passes/renewals/{campaign_id}"
    pages["draft"] = (await console.get(base)).text
    pages["launch"] = (await console.get(base + "/launch")).text
    launched = await console.post(base + "/launch")
    pages["launched"] = (await console.get(launched.headers["location"])).text
    assert flash(pages["launched"]) == "Lancée. Invités : 2 ; places gardées : 2 ; non gardées : 0."
    line = (await reports.campaign_lines(app_ctx, campaign_id=campaign_id))[0]
    await renewals.renew(app_ctx, actor=STAFF, renewal_id=line.renewal_id or 0, product_id=s.new)
    pages["renewed"] = (await console.get(base)).text
    closed = await console.post(base + "/close")
    pages["closed"] = (await console.get(closed.headers["location"])).text
    pages["list"] = (await console.get("/console/passes/renewals")).text
    pages["season"] = (
        await console.get(f"/console/passes/renewals/seasons/{s.ids['season']}")
    ).text
    pages["pass"] = (await console.get(f"/console/passes/{sold[0].id}")).text
    data = (
        "Abonnement", "Abonnement 27/28", "Renouvellement 27/28", "Holder 0", "Holder 1",
        "Prénom0", "Prénom1", "2026/27", "Stalls", "Europe/Zurich",
    )  # fmt: skip
    english = {k: f for k, v in pages.items() if (f := english_in(visible_text(v), data))}
    assert not english, english


browser = test_browser.browser
base_url = test_browser.base_url


@pytest.mark.slow
async def test_organizer_creates_and_launches_a_campaign_in_a_browser(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    s = await two_seasons(app_ctx)
    await holders_of(app_ctx, s.old, 4)
    page = await signed_in(browser, base_url, "organizer")
    await page.goto(f"{base_url}/console/passes/renewals")
    await page.click("text=New campaign")
    await page.fill("#name", "Renouvellement 27/28")
    await page.select_option("#from_product_id", label="Abonnement · 2026/27")
    await page.check(f"input[name=offer_product_ids][value='{s.new}']")
    await page.fill("#closes_day", "2026-12-20")
    await page.fill("#closes_time", "18:00")
    await page.click("button:has-text('Create the campaign')")
    await page.wait_for_selector("text=Campaign created.")
    assert await page.inner_text("#count-invited") == "0"
    await page.click("#launch")
    assert "4 holders of Abonnement · 2026/27" in await page.inner_text("#to-invite")
    await page.click("#launch-now")
    await page.wait_for_selector("text=Launched. Invited: 4; seats kept: 4; not kept: 0.")
    assert await page.inner_text("#count-invited") == "4"
    assert await page.inner_text("#count-waiting") == "4"
    await shot(page, "31-renewal-campaign-launched")
    await page.click("#close")  # the confirm dialog is accepted by signed_in's handler
    await page.wait_for_selector("text=Campaign closed. Kept seats back on sale: 4.")
    assert await page.inner_text("#count-released") == "4"
    made = await campaigns_made(app_ctx)
    assert [c.state for c in made] == ["closed"]
    assert made[0].closes_at is not None
    assert made[0].closes_at - made[0].created_at > timedelta(days=20)
