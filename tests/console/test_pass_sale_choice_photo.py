"""The box office sells every kind of pass over HTTP (and once in headless Chromium): a pass
with choice with its dates picked on the form (places left shown, sold-out dates shown and
refused, 1 to N, the seats free at the picked dates), and a pass asking for the holder's
photo uploaded on the form (Pillow's checks beside the field, the photo kept across a refused
try, no photo row left by a refused sale), in English and French (issue 12 items 1-2)."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.rules import pass_products as rules
from booking.services import pass_photos, pass_products, passes, unused_photos
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Gauge
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassPhoto
from console.web.render import render, translator
from tests.booking.test_pass_photos import jpeg, png_bomb
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import dates_of, seat_id
from tests.builders import STAFF, make_customer
from tests.console import test_browser
from tests.console.conftest import ConsoleFactory, both
from tests.console.test_browser import shot, signed_in
from tests.console.test_pass_products_console import DATA as PRODUCT_DATA
from tests.console.test_pass_products_console import field_error
from tests.support.english import english_in, visible_text

DATA = (*PRODUCT_DATA, "Léa", "Roux", "lea@example.org", "Ana Test", "ana@example.org", "Carte 3")
NAME_ONLY = rules.holder_fields({"first_name": "required"})
WITH_PHOTO = rules.holder_fields({"first_name": "required", "photo": "required"})
SOLD_OUT = re.compile(r'<input type="checkbox" name="picks" value="(\d+)" disabled>')


async def choice_product(
    ctx: Context, ids: dict[str, int], *, fields: Any = NAME_ONLY, **changes: Any
) -> int:
    """Three dates to pick at a fixed seat in the Stalls among every date of the season at the
    venue (opera 2, jazz 3)."""
    settings = product(
        ids, name="Carte 3", includes="choice", choice_count=3, event_ids=(),
        holder_fields=fields, **changes,
    )  # fmt: skip
    return await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def photo_product(ctx: Context, ids: dict[str, int]) -> int:
    """The automatic Abonnement (opera and jazz at a fixed seat), asking for the photo."""
    settings = product(ids, holder_fields=WITH_PHOTO)
    return await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def scalar(ctx: Context, query: Any) -> Any:
    async def work(session: AsyncSession) -> Any:
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


async def count(ctx: Context, table: Any) -> int:
    return int(await scalar(ctx, select(func.count()).select_from(table)))


async def written(ctx: Context) -> tuple[int, int, int, int]:
    """Passes, bookings, photos and customers: what a refused sale must leave as it was."""
    return (
        await count(ctx, Pass),
        await count(ctx, Booking),
        await count(ctx, PassPhoto),
        await count(ctx, Customer),
    )


async def sell_out(ctx: Context, performance_id: int, area_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(Gauge)
            .where(col(Gauge.performance_id) == performance_id, col(Gauge.area_id) == area_id)
            .values(remaining=0)
        )

    await ctx.db.write(work)


async def picked_dates(ctx: Context, pass_id: int) -> list[int]:
    booking = await scalar(ctx, select(col(Pass.booking_id)).where(col(Pass.id) == pass_id))

    async def work(session: AsyncSession) -> list[int]:
        query = select(col(Item.performance_id)).where(col(Item.booking_id) == booking)
        return sorted(int(p) for p in (await session.execute(query)).scalars())

    return await ctx.db.read(work)


def sale(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": "lea@example.org",
        "name": "Léa Roux",
        "language": "fr",
        "holder_first_name": "Léa",
        "seat": "best",
        "payment": "cash",
    }
    return data | changes


def upload(data: bytes, name: str = "lea.jpg") -> dict[str, Any]:
    return {"files": {"holder_photo": (name, data, "image/jpeg")}}


def kept_photo(html: str) -> str:
    found = re.search(r'name="photo_kept" value="([^"]+)"', html)
    return found.group(1) if found else ""


# -- passes with choice ------------------------------------------------------------------------


@both
async def test_a_pass_with_choice_is_sold_with_the_dates_picked_on_the_form(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await choice_product(app_ctx, ids)
    opera = await dates_of(app_ctx, ids["opera"])
    jazz = await dates_of(app_ctx, ids["jazz"])
    await sell_out(app_ctx, jazz[0], ids["Stalls"])
    console = await console_for("box_office")
    listing = (await console.get("/console/passes/sell")).text
    assert f'href="/console/passes/products/{product_id}/sell">Carte 3</a>' in listing
    assert "3 dates the holder picks" in listing

    form = (await console.get(f"/console/passes/products/{product_id}/sell")).text
    offered = re.findall(r'name="picks" value="(\d+)"', form)  # earliest first
    assert sorted(offered) == sorted(str(p) for p in (*opera, *jazz))
    assert SOLD_OUT.findall(form) == [str(jazz[0])]  # shown, not pickable
    assert "Sold out" in form and "10 places left" in form
    assert "at least one now, the others later with the pass code" in form

    sold = await console.post(
        f"/console/passes/products/{product_id}/sell", sale(picks=[str(opera[1]), str(jazz[2])])
    )

    assert sold.status_code == 303, field_error(sold.text, "picks") or sold.text
    pass_id = int(sold.headers["location"].rsplit("/", 1)[1])
    assert await picked_dates(app_ctx, pass_id) == sorted([opera[1], jazz[2]])
    row = await scalar(app_ctx, select(Pass).where(col(Pass.id) == pass_id))
    assert row.choices_left == 1
    assert await scalar(app_ctx, select(col(Booking.status))) == "confirmed"
    assert await scalar(app_ctx, select(col(Booking.total_minor))) == 24_000  # the whole price
    page = (await console.get(sold.headers["location"])).text
    assert re.search(r'id="pass-choices-left">1\b', page)


async def test_bad_picks_come_back_beside_the_dates_and_nothing_is_written(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await choice_product(app_ctx, ids)
    opera = await dates_of(app_ctx, ids["opera"])
    jazz = await dates_of(app_ctx, ids["jazz"])
    away = await dates_of(app_ctx, ids["away"])  # another venue: not choosable
    console = await console_for("box_office")
    url = f"/console/passes/products/{product_id}/sell"
    before = await written(app_ctx)

    none = await console.post(url, sale())
    four = await console.post(url, sale(picks=[str(p) for p in (*opera, *jazz[:2])]))
    elsewhere = await console.post(url, sale(picks=[str(opera[0]), str(away[0])]))
    await sell_out(app_ctx, jazz[1], ids["Stalls"])  # after the form was shown
    full = await console.post(url, sale(picks=[str(opera[0]), str(jazz[1])]))

    for refused in (none, four, elsewhere, full):
        assert refused.status_code == 400
    assert field_error(none.text, "picks") == "Pick between 1 and 3 dates for this pass."
    assert field_error(four.text, "picks") == "Pick between 1 and 3 dates for this pass."
    assert field_error(elsewhere.text, "picks") == "Choose dates from the list."
    assert field_error(full.text, "picks").startswith("Sold out: ")
    assert f'value="{opera[0]}" checked' in elsewhere.text  # the ticks are kept
    assert 'value="Léa"' in full.text
    assert await written(app_ctx) == before


async def test_the_seats_offered_are_free_at_the_picked_dates(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await choice_product(app_ctx, ids)
    opera = await dates_of(app_ctx, ids["opera"])
    jazz = await dates_of(app_ctx, ids["jazz"])
    a1 = await seat_id(app_ctx, ids["Stalls"], "A", 1)
    other = await make_customer(app_ctx)
    await passes.sell(
        app_ctx, actor=STAFF, product_id=product_id, customer_id=other.id,
        answers={"first_name": "Ana"}, seat_id=a1, picks=[jazz[0]],
    )  # fmt: skip
    console = await console_for("box_office")
    url = f"/console/passes/products/{product_id}/sell"
    a1_option = f'<option value="{a1}">Stalls · row A · seat 1</option>'
    assert a1_option not in (await console.get(url)).text  # taken at one of the dates

    picks = [str(opera[0]), str(opera[1])]
    shown = await console.post(url, sale(picks=picks, name="", action="seats"))

    assert shown.status_code == 200 and a1_option in shown.text
    assert not field_error(shown.text, "name")  # only the seats were asked for
    taken = await console.post(url, sale(picks=[*picks, str(jazz[0])], seat=str(a1)))
    assert taken.status_code == 400
    assert "seat" in field_error(taken.text, "seat").lower()
    sold = await console.post(url, sale(picks=picks, seat=str(a1)))
    assert sold.status_code == 303, sold.text
    pass_id = int(sold.headers["location"].rsplit("/", 1)[1])
    assert await scalar(app_ctx, select(col(Pass.seat_id)).where(col(Pass.id) == pass_id)) == a1


# -- the holder's photo ------------------------------------------------------------------------


@both
async def test_a_pass_asking_for_a_photo_is_sold_with_the_uploaded_photo(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    console = await console_for("box_office")
    form = (await console.get(f"/console/passes/products/{product_id}/sell")).text
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form

    sold = await console.post(
        f"/console/passes/products/{product_id}/sell", sale(), **upload(jpeg(1600, 1200))
    )

    assert sold.status_code == 303, field_error(sold.text, "holder_photo") or sold.text
    row = await scalar(app_ctx, select(Pass))
    photo = await scalar(app_ctx, select(PassPhoto))
    assert row.photo_id == photo.id and photo.customer_id == row.customer_id
    assert await count(app_ctx, Customer) == 1
    served = await console.get(f"{sold.headers['location']}/photo.jpg")
    assert served.headers["content-type"] == "image/jpeg"
    assert "no-store" in served.headers["cache-control"]
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (600, 450)  # redrawn small, as the card and the PDF print it


async def test_a_photo_heavier_than_the_apps_body_limit_still_reaches_the_form(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """The app refuses bodies over 4 MB; a phone photo of up to 5 MB is accepted here."""
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    console = await console_for("box_office")
    noise = Image.frombytes("RGB", (1250, 1250), os.urandom(1250 * 1250 * 3))
    heavy = io.BytesIO()
    noise.save(heavy, format="PNG")
    assert 4_000_000 < len(heavy.getvalue()) <= pass_photos.BYTES_MAX

    sold = await console.post(
        f"/console/passes/products/{product_id}/sell", sale(), **upload(heavy.getvalue(), "a.png")
    )

    assert sold.status_code == 303, sold.text
    assert await count(app_ctx, PassPhoto) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 not a picture at all", "not a picture we can read: choose a JPEG"),
        (png_bomb(60_000), "too large: choose one of at most 5 MB"),
        (b"\xff\xd8" + b"\x00" * (pass_photos.BYTES_MAX + 1), "too large"),
        (None, "This pass asks for this: please fill it in."),
    ],
    ids=["pdf", "bomb", "over-5-mb", "missing"],
)
async def test_a_bad_photo_comes_back_beside_its_field_and_nothing_is_written(
    app_ctx: Context, console_for: ConsoleFactory, data: bytes | None, message: str
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    console = await console_for("box_office")
    before = await written(app_ctx)
    files = upload(data) if data is not None else {}

    refused = await console.post(f"/console/passes/products/{product_id}/sell", sale(), **files)

    assert refused.status_code == 400
    assert message in field_error(refused.text, "holder_photo")
    assert 'value="Léa"' in refused.text and 'value="Léa Roux"' in refused.text
    assert not kept_photo(refused.text)
    assert await written(app_ctx) == before  # not even the new customer


async def test_a_refused_sale_keeps_the_photo_on_the_form_and_leaves_no_photo_row(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    ana = await make_customer(app_ctx)
    a3 = await seat_id(app_ctx, ids["Stalls"], "A", 3)
    console = await console_for("box_office")
    url = f"/console/passes/products/{product_id}/sell"
    assert f'<option value="{a3}">' in (await console.get(url, email=ana.email)).text
    rival = await make_customer(app_ctx, email="rival@example.org")
    await passes.sell(
        app_ctx, actor=STAFF, product_id=product_id, customer_id=rival.id,
        answers={"first_name": "Rival"}, seat_id=a3,
        photo_id=await pass_photos.store(app_ctx, customer_id=rival.id, data=jpeg()),
    )  # fmt: skip
    order = sale(customer_id=str(ana.id), seat=str(a3))

    taken = await console.post(url, order, **upload(jpeg()))

    assert taken.status_code == 400
    assert "A3" in field_error(taken.text, "seat")
    assert await count(app_ctx, PassPhoto) == 1  # the rival's only: ours was discarded
    kept = kept_photo(taken.text)
    assert kept and 'id="photo-kept"' in taken.text and "data:image/jpeg;base64," in taken.text
    again = await console.post(url, order | {"seat": "best", "photo_kept": kept})
    assert again.status_code == 303, again.text
    sold = await scalar(app_ctx, select(Pass).where(col(Pass.customer_id) == ana.id))
    assert sold.photo_id is not None and await count(app_ctx, PassPhoto) == 2


async def test_without_the_discard_a_refused_sale_leaves_its_photo_behind(
    app_ctx: Context, console_for: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Companion: the same refused sale, the discard disabled, leaves an unused photo row."""

    async def kept(*_args: Any, **_kw: Any) -> bool:
        return False

    monkeypatch.setattr(unused_photos, "discard", kept)
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    ana = await make_customer(app_ctx)
    a3 = await seat_id(app_ctx, ids["Stalls"], "A", 3)
    rival = await make_customer(app_ctx, email="rival@example.org")
    await passes.sell(
        app_ctx, actor=STAFF, product_id=product_id, customer_id=rival.id,
        answers={"first_name": "Rival"}, seat_id=a3,
        photo_id=await pass_photos.store(app_ctx, customer_id=rival.id, data=jpeg()),
    )  # fmt: skip
    console = await console_for("box_office")

    taken = await console.post(
        f"/console/passes/products/{product_id}/sell",
        sale(customer_id=str(ana.id), seat=str(a3)),
        **upload(jpeg()),
    )

    assert taken.status_code == 400
    assert await count(app_ctx, PassPhoto) == 2


async def test_a_new_customer_stays_on_file_when_the_sale_with_a_photo_is_refused(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    a3 = await seat_id(app_ctx, ids["Stalls"], "A", 3)
    rival = await make_customer(app_ctx, email="rival@example.org")
    await passes.sell(
        app_ctx, actor=STAFF, product_id=product_id, customer_id=rival.id,
        answers={"first_name": "Rival"}, seat_id=a3,
        photo_id=await pass_photos.store(app_ctx, customer_id=rival.id, data=jpeg()),
    )  # fmt: skip
    console = await console_for("box_office")
    url = f"/console/passes/products/{product_id}/sell"

    taken = await console.post(url, sale(seat=str(a3)), **upload(jpeg()))

    assert taken.status_code == 400
    lea = await scalar(app_ctx, select(Customer).where(col(Customer.email) == "lea@example.org"))
    assert f'name="customer_id" value="{lea.id}"' in taken.text
    assert "Léa Roux is on file now" in taken.text
    assert (await count(app_ctx, Pass), await count(app_ctx, PassPhoto)) == (1, 1)
    again = await console.post(
        url,
        sale(customer_id=str(lea.id), photo_kept=kept_photo(taken.text)),
    )
    assert again.status_code == 303, again.text
    assert await count(app_ctx, Customer) == 2  # the rival and Léa, once


async def test_an_address_on_file_is_refused_before_the_photo_is_stored(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    await make_customer(app_ctx)
    console = await console_for("box_office")
    before = await written(app_ctx)

    refused = await console.post(
        f"/console/passes/products/{product_id}/sell",
        sale(email="ANA@example.org"),
        **upload(jpeg()),
    )

    assert refused.status_code == 400
    assert "is already a customer&#39;s address" in field_error(refused.text, "email")
    assert await written(app_ctx) == before


@both
async def test_discard_removes_only_an_unused_photo_of_that_customer(app_ctx: Context) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    ana = await make_customer(app_ctx)
    bob = await make_customer(app_ctx, email="bob@example.org")
    used = await pass_photos.store(app_ctx, customer_id=ana.id, data=jpeg())
    await passes.sell(
        app_ctx, actor=STAFF, product_id=product_id, customer_id=ana.id,
        answers={"first_name": "Ana"}, photo_id=used,
    )  # fmt: skip
    spare = await pass_photos.store(app_ctx, customer_id=ana.id, data=jpeg())

    assert not await unused_photos.discard(app_ctx, photo_id=used, customer_id=ana.id)
    assert not await unused_photos.discard(app_ctx, photo_id=spare, customer_id=bob.id)
    assert await unused_photos.discard(app_ctx, photo_id=spare, customer_id=ana.id)
    assert await count(app_ctx, PassPhoto) == 1  # the pass's, still printed on its card


async def test_the_holder_photo_partial_shows_a_sold_passs_photo(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """What the pass page includes (console/passes/_photo.html), and the photo it points at;
    a pass without a photo shows none and its photo address answers 404."""
    ids = await season_with_events(app_ctx)
    product_id = await photo_product(app_ctx, ids)
    ana = await make_customer(app_ctx)
    photo_id = await pass_photos.store(app_ctx, customer_id=ana.id, data=jpeg())
    sold = await passes.sell(
        app_ctx, actor=STAFF, product_id=product_id, customer_id=ana.id,
        answers={"first_name": "Ana"}, photo_id=photo_id,
    )  # fmt: skip
    plain = await choice_product(app_ctx, ids, seating="ga", area_id=ids["Floor"])
    opera = await dates_of(app_ctx, ids["opera"])
    bare = await passes.sell(
        app_ctx, actor=STAFF, product_id=plain, customer_id=ana.id,
        answers={"first_name": "Ana"}, picks=[opera[0]],
    )  # fmt: skip
    console = await console_for("box_office")

    def shown(pass_id: int, photo: int | None, language: str = "en") -> str:
        p = type("P", (), {"id": pass_id, "photo_id": photo, "holder_name": "Ana"})
        return render("console/passes/_photo.html", {"_": translator(language), "p": p})

    assert f'src="/console/passes/{sold.id}/photo.jpg"' in shown(sold.id, photo_id)
    assert 'alt="Photo de Ana"' in shown(sold.id, photo_id, "fr")
    assert "<img" not in shown(bare.id, None)
    assert (await console.get(f"/console/passes/{sold.id}/photo.jpg")).status_code == 200
    assert (await console.get(f"/console/passes/{bare.id}/photo.jpg")).status_code == 404
    door = await console_for("door")
    assert (await door.get(f"/console/passes/{sold.id}/photo.jpg")).status_code == 403


async def test_french_choice_and_photo_sale_pages_show_no_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    choice = await choice_product(app_ctx, ids, fields=WITH_PHOTO)
    jazz = await dates_of(app_ctx, ids["jazz"])
    await sell_out(app_ctx, jazz[0], ids["Stalls"])
    console = await console_for("box_office")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    url = f"/console/passes/products/{choice}/sell"
    picks = {"picks": [str(jazz[1])]}
    pages = {
        "list": (await console.get("/console/passes/sell")).text,
        "form": (await console.get(url + "?email=lea@example.org")).text,
        "no picks": (await console.post(url, sale())).text,
        "sold out": (await console.post(url, sale(picks=[str(jazz[0])]))).text,
        "bad photo": (await console.post(url, sale(**picks), **upload(b"%PDF"))).text,
        "kept photo": (await console.post(url, sale(**picks, name=""), **upload(jpeg()))).text,
        "seats": (await console.post(url, sale(**picks, action="seats"))).text,
    }
    assert "Complet" in pages["form"] and "places restantes" in pages["form"]
    assert "Photo reçue" in pages["kept photo"]
    english = {k: f for k, v in pages.items() if (f := english_in(visible_text(v), DATA))}
    assert not english, english


browser = test_browser.browser
base_url = test_browser.base_url


@pytest.mark.slow
async def test_box_office_sells_a_pass_with_choice_and_a_photo_in_a_browser(
    app_ctx: Context, browser: Any, base_url: str, tmp_path: Any
) -> None:
    ids = await season_with_events(app_ctx)
    await choice_product(app_ctx, ids, fields=WITH_PHOTO)
    opera = await dates_of(app_ctx, ids["opera"])
    jazz = await dates_of(app_ctx, ids["jazz"])
    await sell_out(app_ctx, jazz[0], ids["Stalls"])
    picture = tmp_path / "lea.jpg"
    picture.write_bytes(jpeg(900, 1200))
    page = await signed_in(browser, base_url, "box_office")
    await page.goto(f"{base_url}/console/passes/sell")
    await page.click("text=Carte 3")
    await page.fill("#find-email", "lea@example.org")
    await page.click("button:has-text('Find the customer')")
    assert await page.is_disabled(f"input[name=picks][value='{jazz[0]}']")  # sold out
    await page.check(f"input[name=picks][value='{opera[1]}']")
    await page.check(f"input[name=picks][value='{jazz[2]}']")
    await page.click("button:has-text('Show the seats free at these dates')")
    assert await page.is_checked(f"input[name=picks][value='{opera[1]}']")
    await page.fill("#name", "Léa Roux")
    await page.fill("#holder_first_name", "Léa")
    await page.set_input_files("#holder_photo", str(picture))
    await page.select_option("#seat", label="Stalls · row B · seat 4")
    await page.check("input[name=payment][value=card]")
    await shot(page, "22-pass-sale-with-choice-and-photo")
    await page.click("button:has-text('Sell the pass')")
    await page.wait_for_selector("text=Pass sold and paid.")
    assert await page.locator("#pass-dates li").count() == 2
    assert "Stalls · row B · seat 4" in await page.inner_text("#pass-seat")
    row = await scalar(app_ctx, select(Pass))
    assert await page.inner_text("#pass-code") == row.code
    await shot(page, "23-pass-sold-with-choice-and-photo")
    photo = await page.request.get(f"{base_url}/console/passes/{row.id}/photo.jpg")
    assert photo.status == 200 and photo.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(await photo.body())) as image:
        assert image.size == (450, 600)
