"""Selling a season pass at the box office over HTTP (and once in headless Chromium): the
customer found by email or new, the holder fields enforced beside their inputs with nothing
written, the seat select, paid now or held, the pass page with its phone card, the PDF whose
QR decodes to PUBLIC_URL/t/<secret>, roles, and no English on the French pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.rules import pass_products as rules
from booking.services import pass_products
from booking.tables.bookings import Booking, Ticket
from booking.tables.customers import Customer
from booking.tables.passes import Pass
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF, make_customer
from tests.console import test_browser
from tests.console.conftest import ConsoleFactory
from tests.console.test_browser import shot, signed_in
from tests.console.test_pass_pdf import codes, read
from tests.console.test_pass_products_console import DATA as PRODUCT_DATA
from tests.console.test_pass_products_console import field_error
from tests.support.english import english_in, visible_text

DATA = (*PRODUCT_DATA, "Léa", "Roux", "lea@example.org", "Ana Test", "ana@example.org", "8000")
FIELDS = rules.holder_fields(
    {"first_name": "required", "last_name": "required", "postcode": "optional"}
)


async def setup(ctx: Context) -> tuple[dict[str, int], int]:
    ids = await season_with_events(ctx)
    settings = product(ids, holder_fields=FIELDS, buy_channels=("telegram", "console"))
    return ids, await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def one(ctx: Context, query: Any) -> Any:
    async def work(session: AsyncSession) -> Any:
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


async def passes_sold(ctx: Context) -> int:
    return int(await one(ctx, select(func.count()).select_from(Pass)))


def sale(**changes: str) -> dict[str, str]:
    data = {
        "email": "lea@example.org",
        "name": "Léa Roux",
        "language": "fr",
        "holder_first_name": "Léa",
        "holder_last_name": "Roux",
        "holder_postcode": "8000",
        "seat": "best",
        "payment": "cash",
    }
    return data | changes


async def test_box_office_sells_a_paid_pass_to_a_new_customer(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id = await setup(app_ctx)
    console = await console_for("box_office")
    listing = (await console.get("/console/passes/sell")).text
    assert f'href="/console/passes/products/{product_id}/sell">Abonnement</a>' in listing
    form = await console.get(f"/console/passes/products/{product_id}/sell?email=lea@example.org")
    assert form.status_code == 200
    assert 'name="holder_first_name"' in form.text and 'name="holder_company"' not in form.text
    assert "Stalls · row A · seat 1" in form.text  # free at every date

    sold = await console.post(f"/console/passes/products/{product_id}/sell", sale())

    assert sold.status_code == 303, sold.text
    location = sold.headers["location"]
    pass_row = await one(app_ctx, select(Pass))
    assert location == f"/console/passes/{pass_row.id}"
    booking = await one(app_ctx, select(Booking).where(Booking.id == pass_row.booking_id))
    assert (booking.status, booking.total_minor) == ("confirmed", 24_000)
    assert await one(app_ctx, select(func.count()).select_from(Ticket)) == 0
    assert await one(app_ctx, select(Customer.name).where(Customer.id == pass_row.customer_id)) == (
        "Léa Roux"
    )
    page = (await console.get(location)).text
    assert f'<span id="pass-code">{pass_row.code}</span>' in page
    assert "Léa Roux" in page and "Stalls · row A · seat 1" in page and "8000" in page
    assert page.count("<li>") >= 5 and "<svg" in page  # the dates and the phone card
    pdf = await console.get(f"{location}/pass.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    printed = read(pdf.content)
    assert "Léa Roux" in printed.extract_text() and pass_row.code in printed.extract_text()
    public = app_ctx.settings.public_url.rstrip("/")
    assert codes(printed) == [f"{public}/t/{pass_row.secret}"]


async def test_a_customer_on_file_is_found_by_email_and_a_seat_chosen(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id = await setup(app_ctx)
    ana = await make_customer(app_ctx)
    console = await console_for("organizer")
    form = (
        await console.get(f"/console/passes/products/{product_id}/sell?email=ANA@example.org")
    ).text
    assert f'name="customer_id" value="{ana.id}"' in form and 'name="name"' not in form
    seat = re.search(r'<option value="(\d+)">Stalls · row B · seat 2</option>', form)
    assert seat is not None

    held = await console.post(
        f"/console/passes/products/{product_id}/sell",
        sale(customer_id=str(ana.id), seat=seat.group(1), payment="hold"),
    )

    assert held.status_code == 303, held.text
    pass_row = await one(app_ctx, select(Pass))
    assert (pass_row.customer_id, pass_row.seat_id) == (ana.id, int(seat.group(1)))
    assert await one(app_ctx, select(Booking.status)) == "held"
    again = (await console.get(f"/console/passes/products/{product_id}/sell")).text
    assert "Stalls · row B · seat 2" not in again  # taken at every date now


async def test_bad_input_comes_back_beside_its_field_and_nothing_is_written(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id = await setup(app_ctx)
    await make_customer(app_ctx)
    console = await console_for("box_office")
    url = f"/console/passes/products/{product_id}/sell"

    missing = await console.post(url, sale(holder_last_name=""))
    assert missing.status_code == 400
    assert (
        field_error(missing.text, "holder_last_name")
        == "This pass asks for this: please fill it in."
    )
    assert 'value="Léa"' in missing.text  # the typing is kept
    on_file = await console.post(url, sale(email="ana@example.org"))
    assert "is already a customer&#39;s address" in field_error(on_file.text, "email")
    bad_mail = await console.post(url, sale(email="nope"))
    assert field_error(bad_mail.text, "email")
    no_name = await console.post(url, sale(name=""))
    assert field_error(no_name.text, "name")
    assert await passes_sold(app_ctx) == 0
    assert await one(app_ctx, select(func.count()).select_from(Booking)) == 0
    assert await one(app_ctx, select(func.count()).select_from(Customer)) == 1


async def test_a_pass_asking_for_a_photo_is_refused_without_one_beside_its_field(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    # The desk uploads the photo (tests/console/test_pass_sale_choice_photo.py sells with one).
    ids = await season_with_events(app_ctx)
    fields = rules.holder_fields({"first_name": "required", "photo": "required"})
    settings = product(ids, holder_fields=fields, buy_channels=("telegram", "console"))
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=settings)
    console = await console_for("box_office")

    refused = await console.post(f"/console/passes/products/{product_id}/sell", sale())

    assert refused.status_code == 400
    assert field_error(refused.text, "holder_photo")
    assert await passes_sold(app_ctx) == 0
    assert await one(app_ctx, select(func.count()).select_from(Booking)) == 0


async def test_only_desk_staff_sell_and_see_passes(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id = await setup(app_ctx)
    door = await console_for("door")
    assert (await door.get(f"/console/passes/products/{product_id}/sell")).status_code == 403
    refused = await door.post(f"/console/passes/products/{product_id}/sell", sale())
    assert refused.status_code == 403
    assert await passes_sold(app_ctx) == 0


async def test_french_sale_pages_show_no_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ids, product_id = await setup(app_ctx)
    console = await console_for("box_office")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    url = f"/console/passes/products/{product_id}/sell"
    pages = {
        "list": (await console.get("/console/passes/sell")).text,
        "form": (await console.get(url + "?email=lea@example.org")).text,
        "refused": (await console.post(url, sale(holder_first_name=""))).text,
    }
    sold = await console.post(url, sale(payment="hold"))
    assert sold.status_code == 303
    pages["pass"] = (await console.get(sold.headers["location"])).text
    english = {k: f for k, v in pages.items() if (f := english_in(visible_text(v), DATA))}
    assert not english, english


browser = test_browser.browser
base_url = test_browser.base_url


@pytest.mark.slow
async def test_box_office_sells_a_pass_in_a_browser(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    _ids, _product_id = await setup(app_ctx)
    page = await signed_in(browser, base_url, "box_office")
    await page.goto(f"{base_url}/console/passes/sell")
    await page.click("text=Abonnement")
    await page.fill("#find-email", "lea@example.org")
    await page.click("button:has-text('Find the customer')")
    await page.fill("#name", "Léa Roux")
    await page.fill("#holder_first_name", "Léa")
    await page.fill("#holder_last_name", "Roux")
    await page.select_option("#seat", label="Stalls · row A · seat 3")
    await page.check("input[name=payment][value=card]")
    await page.click("button:has-text('Sell the pass')")
    await page.wait_for_selector("text=Pass sold and paid.")
    await page.wait_for_selector("figure.pass-card svg")
    await shot(page, "21-pass-sold")
    assert "Stalls · row A · seat 3" in await page.inner_text("#pass-seat")
    pass_row = await one(app_ctx, select(Pass))
    assert await page.inner_text("#pass-code") == pass_row.code
