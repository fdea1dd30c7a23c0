"""The console's pass additions over HTTP (and once in headless Chromium): adding new dates to
every pass of a product (the count first, a confirm button, then the report listing the
conflicts), adding a date to a pass with choice by its code at the box office, CSRF refused,
roles, and no English on the French pages (issue 12, items 5 and 6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.services import catalog, holds, pass_products, passes
from booking.tables.bookings import Item
from booking.tables.passes import Pass
from tests.booking.test_pass_choice import choice_product
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import dates_of, seat_id
from tests.builders import STAFF, make_customer
from tests.console import test_browser
from tests.console.conftest import ConsoleFactory, both
from tests.console.test_browser import shot, signed_in
from tests.console.test_pass_products_console import DATA as PRODUCT_DATA
from tests.support.english import english_in, visible_text

DATA = (*PRODUCT_DATA, "Ana", "Ben", "Carte 3", "Jazz", "Opera", "Stalls")


async def one(ctx: Context, query: Any) -> Any:
    async def work(session: AsyncSession) -> Any:
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


async def items(ctx: Context) -> int:
    return int(await one(ctx, select(func.count()).select_from(Item)))


async def two_passes_and_a_new_date(ctx: Context) -> tuple[dict[str, int], int, int, str]:
    """An automatic product with passes at A1 (Ana) and A2 (Ben); a jazz date added since, at
    which Ben's A2 is sold on its own. Returns (ids, product, new date, Ben's pass code)."""
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    codes = []
    for email, name in (("ana@example.org", "Ana"), ("ben@example.org", "Ben")):
        who = await make_customer(ctx, email=email, name=name)
        sold = await passes.sell(
            ctx, actor=STAFF, product_id=product_id, customer_id=who.id,
            answers={"first_name": name},
        )  # fmt: skip
        codes.append(sold.code)
    late = await catalog.add_performance(
        ctx, actor=STAFF, event_id=ids["jazz"], starts_at=ctx.clock.now() + timedelta(days=20)
    )
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["jazz"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    someone = await make_customer(ctx, email="someone@example.org", name="Someone")
    await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id, performance_id=late,
        lines=[holds.Line(regular, seat_ids=(await seat_id(ctx, ids["Stalls"], "A", 2),))],
    )  # fmt: skip
    return ids, product_id, late, codes[1]


@both
async def test_add_dates_shows_the_count_then_adds_and_lists_the_conflicts(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id, _late, ben = await two_passes_and_a_new_date(app_ctx)
    console = await console_for("organizer")
    url = f"/console/passes/products/{product_id}/add-dates"
    before = await items(app_ctx)

    shown = await console.get(url)

    assert shown.status_code == 200
    text = visible_text(shown.text)
    assert "New dates: 1" in text and "Passes to complete: 2" in text
    assert "Places to add: 2" in text
    assert await items(app_ctx) == before  # the preview writes nothing

    done = await console.post(url)

    assert done.status_code == 200
    report = visible_text(done.text)
    assert "Places added: 1" in report and "Conflicts: 1" in report
    assert ben in report and "Ben" in report and "Stalls · row A · seat 2" in report
    assert "The pass's seat is taken at this date" in report
    assert await items(app_ctx) == before + 1
    again = visible_text((await console.post(url)).text)
    assert "Places added: 0" in again
    assert await items(app_ctx) == before + 1  # twice adds nothing


async def test_forms_without_their_csrf_token_change_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids, product_id, _late, _ben = await two_passes_and_a_new_date(app_ctx)
    choice = await choice_product(app_ctx, ids)
    ana = await make_customer(app_ctx, email="ana@example.org")
    opera = await dates_of(app_ctx, ids["opera"])
    sold = await passes.sell(
        app_ctx, actor=STAFF, product_id=choice, customer_id=ana.id,
        answers={"first_name": "Ana"}, picks=[opera[0]],
    )  # fmt: skip
    console = await console_for("organizer")
    before = await items(app_ctx)

    forged = await console.post(f"/console/passes/products/{product_id}/add-dates", csrf="")
    forged_add = await console.post(
        "/console/passes/add-date", {"code": sold.code, "performance_id": str(opera[1])},
        csrf="forged",
    )  # fmt: skip

    assert (forged.status_code, forged_add.status_code) == (403, 403)
    assert await items(app_ctx) == before


@both
async def test_the_box_office_adds_a_date_to_a_pass_with_choice_by_its_code(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    choice = await choice_product(app_ctx, ids)
    ana = await make_customer(app_ctx)
    opera, jazz = await dates_of(app_ctx, ids["opera"]), await dates_of(app_ctx, ids["jazz"])
    sold = await passes.sell(
        app_ctx, actor=STAFF, product_id=choice, customer_id=ana.id,
        answers={"first_name": "Ana"}, picks=[opera[0]],
    )  # fmt: skip
    console = await console_for("box_office")

    wrong = await console.get("/console/passes/add-date", code="ZZZ-ZZ0")
    assert wrong.status_code == 400 and "There is no pass ZZZ-ZZ0" in wrong.text
    found = await console.get("/console/passes/add-date", code=sold.code.lower())
    assert found.status_code == 200
    assert f'<option value="{jazz[0]}"' in found.text
    assert f'<option value="{opera[0]}"' not in found.text  # already in the pass
    assert 'id="choices-left">2<' in found.text

    no_date = await console.post("/console/passes/add-date", {"code": sold.code})
    assert no_date.status_code == 400 and "Choose a date from the list." in no_date.text
    added = await console.post(
        "/console/passes/add-date", {"code": sold.code, "performance_id": str(jazz[0])}
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"/console/passes/{sold.id}"
    page = await console.get(added.headers["location"])
    assert f"Date added to pass {sold.code}. Choices left: 1." in page.text
    twice = await console.post(
        "/console/passes/add-date", {"code": sold.code, "performance_id": str(jazz[0])}
    )
    assert twice.status_code == 400 and "already includes this date" in twice.text
    left = await one(app_ctx, select(Pass.choices_left).where(col(Pass.id) == sold.id))
    assert left == 1


async def test_only_organizers_add_dates_to_every_pass(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id, _late, _ben = await two_passes_and_a_new_date(app_ctx)
    url = f"/console/passes/products/{product_id}/add-dates"
    box_office = await console_for("box_office")
    assert (await box_office.get(url)).status_code == 403
    before = await items(app_ctx)
    assert (await box_office.post(url)).status_code == 403
    door = await console_for("door")
    assert (await door.get("/console/passes/add-date")).status_code == 403
    assert await items(app_ctx) == before


async def test_french_pages_show_no_english(app_ctx: Context, console_for: ConsoleFactory) -> None:
    ids, product_id, _late, _ben = await two_passes_and_a_new_date(app_ctx)
    choice = await choice_product(app_ctx, ids)
    ana = await make_customer(app_ctx, email="ana@example.org")
    opera = await dates_of(app_ctx, ids["opera"])
    sold = await passes.sell(
        app_ctx, actor=STAFF, product_id=choice, customer_id=ana.id,
        answers={"first_name": "Ana"}, picks=[opera[0]],
    )  # fmt: skip
    console = await console_for("organizer")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    url = f"/console/passes/products/{product_id}/add-dates"
    pages = {
        "preview": (await console.get(url)).text,
        "report": (await console.post(url)).text,
        "nothing": (await console.get(url)).text,
        "code": (await console.get("/console/passes/add-date")).text,
        "found": (await console.get("/console/passes/add-date", code=sold.code)).text,
        "wrong": (await console.get("/console/passes/add-date", code="ZZZ-ZZ0")).text,
        "no date": (await console.post("/console/passes/add-date", {"code": sold.code})).text,
    }
    added = await console.post(
        "/console/passes/add-date", {"code": sold.code, "performance_id": str(opera[1])}
    )
    pages["added"] = (await console.get(added.headers["location"])).text
    assert "Conflits : 1" in pages["report"] and "Nouvelles dates : 1" in pages["preview"]
    assert "Date ajoutée à l'abonnement" in visible_text(pages["added"])
    english = {k: f for k, v in pages.items() if (f := english_in(visible_text(v), DATA))}
    assert not english, english


browser = test_browser.browser
base_url = test_browser.base_url


@pytest.mark.slow
async def test_an_organizer_adds_new_dates_to_every_pass_in_a_browser(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    _ids, product_id, _late, ben = await two_passes_and_a_new_date(app_ctx)
    page = await signed_in(browser, base_url, "organizer")
    await page.goto(f"{base_url}/console/passes/products/{product_id}")
    await page.click("text=Add new dates to every pass")
    await page.wait_for_selector("#add-dates-count")
    assert "Places to add: 2" in await page.inner_text("#add-dates-count")
    await shot(page, "22-pass-add-dates-preview")
    await page.click("button:has-text('Add these dates to every pass')")
    await page.wait_for_selector("#conflicts")
    assert "Places added: 1" in await page.inner_text("#add-dates-report")
    assert ben in await page.inner_text("#conflicts")
    await shot(page, "23-pass-add-dates-report")
