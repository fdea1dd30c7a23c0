"""The pass holders list over HTTP on a real database: every pass sold, found by holder, email
or pass code, narrowed to a season and a product, with status, seat, credit and choices left;
its CSV formula-safe; the pass page's credit and lineage; organizers only; no English in
French. The builders here (two seasons, paid passes) serve the renewal and screenshot tests
too."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from booking.context import Context
from booking.services import pass_products, passes, payments
from booking.tables.passes import Pass
from booking.views import CustomerView
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF, make_customer
from tests.console.conftest import ConsoleFactory, both
from tests.support.english import english_in, visible_text


@dataclass
class Seasons:
    ids: dict[str, int]
    old: int  # last season's product: opera and jazz, 5 dates in the Stalls
    new: int  # next season's: one date of "Next_Year", the same Stalls


async def two_seasons(ctx: Context) -> Seasons:
    """Season 2026/27 with its pass, and 2026/27b (a later season) with the pass to renew
    into, both seated in the same Stalls: the plan is unchanged, so seats can be kept."""
    ids = await season_with_events(ctx)
    old = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    new = await pass_products.create_product(
        ctx,
        actor=STAFF,
        settings=product(
            ids, season_id=ids["other_season"], name="Abonnement 27/28",
            event_ids=(ids["next_year"],), price_minor=25_000,
        ),
    )  # fmt: skip
    return Seasons(ids, old, new)


async def sell_paid(
    ctx: Context, product_id: int, customer: CustomerView, *, first_name: str = "Léa"
) -> passes.SoldPass:
    sold = await passes.sell(
        ctx, actor=STAFF, product_id=product_id, customer_id=customer.id,
        answers={"first_name": first_name}, buy=True,
    )  # fmt: skip
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    return sold


async def holders_of(ctx: Context, product_id: int, n: int) -> list[passes.SoldPass]:
    """``n`` paid passes, each of its own customer (Holder 0, Holder 1, …)."""
    sold = []
    for i in range(n):
        customer = await make_customer(ctx, email=f"holder{i}@example.org", name=f"Holder {i}")
        sold.append(await sell_paid(ctx, product_id, customer, first_name=f"Prénom{i}"))
    return sold


async def set_credit(ctx: Context, pass_id: int, credit_minor: int) -> None:
    """The credit resale fills (another part of the issue): written straight for the test."""

    async def work(session: Any) -> None:
        await session.execute(
            update(Pass).where(Pass.id == pass_id).values(credit_minor=credit_minor)  # type: ignore[arg-type]
        )

    await ctx.db.write(work)


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@both
async def test_holders_list_finds_passes_by_name_code_and_email(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    sold = await holders_of(app_ctx, s.old, 3)
    await set_credit(app_ctx, sold[1].id, 1250)
    console = await console_for("organizer")

    page = await console.get("/console/passes/holders")
    assert page.status_code == 200
    for p in sold:
        assert f'href="/console/passes/{p.id}">{p.code}</a>' in page.text
    assert "CHF\xa012.50" in page.text and "Stalls · row A · seat 2" in page.text
    by_code = (await console.get("/console/passes/holders", q=sold[2].code.lower())).text
    assert sold[2].code in by_code and sold[0].code not in by_code
    by_mail = (await console.get("/console/passes/holders", q="HOLDER1@example")).text
    assert sold[1].code in by_mail and sold[2].code not in by_mail
    by_holder = (await console.get("/console/passes/holders", q="Prénom0")).text
    assert sold[0].code in by_holder and sold[1].code not in by_holder
    other = (await console.get("/console/passes/holders", product=str(s.new))).text
    assert "No pass found." in other
    season = (await console.get("/console/passes/holders", season=str(s.ids["season"]))).text
    assert all(p.code in season for p in sold)


async def test_holders_csv_is_formula_safe_and_follows_the_filter(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    sold = await holders_of(app_ctx, s.old, 2)
    hostile = await make_customer(app_ctx, email="evil@example.org", name="=HYPERLINK(1)")
    bad = await sell_paid(app_ctx, s.old, hostile, first_name="@SUM(A1)")
    await set_credit(app_ctx, sold[0].id, 500)
    console = await console_for("organizer")

    every = await console.get("/console/passes/holders.csv")
    assert every.headers["content-type"].startswith("text/csv")
    rows = csv_rows(every.content)
    assert sorted(r["pass_code"] for r in rows) == sorted(p.code for p in [*sold, bad])
    evil = next(r for r in rows if r["pass_code"] == bad.code)
    assert evil["holder"] == "'@SUM(A1)"  # the holder's answer, never a live formula
    first = next(r for r in rows if r["pass_code"] == sold[0].code)
    assert (first["credit"], first["currency"], first["status"]) == ("5.00", "CHF", "confirmed")
    assert first["seat"] == "Stalls · row A · seat 1" and first["email"] == "holder0@example.org"
    one = csv_rows((await console.get("/console/passes/holders.csv", q=sold[1].code)).content)
    assert [r["pass_code"] for r in one] == [sold[1].code]


async def test_pass_page_shows_credit_and_links_to_holders(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    (sold,) = await holders_of(app_ctx, s.old, 1)
    await set_credit(app_ctx, sold.id, 4200)
    console = await console_for("organizer")
    page = (await console.get(f"/console/passes/{sold.id}")).text
    assert '<dd id="pass-credit">CHF\xa042.00</dd>' in page
    assert 'href="/console/passes/holders"' in page and "pass-renewed-from" not in page
    product_page = (await console.get(f"/console/passes/products/{s.old}")).text
    assert f'href="/console/passes/holders?product={s.old}"' in product_page
    assert f'href="/console/passes/products/{s.old}/add-dates"' in product_page
    assert f'href="/console/passes/renewals/new?from={s.old}"' in product_page


async def test_door_and_box_office_cannot_list_holders(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    await holders_of(app_ctx, s.old, 1)
    for role in ("door", "box_office"):
        console = await console_for(role)
        assert (await console.get("/console/passes/holders")).status_code == 403
        assert (await console.get("/console/passes/holders.csv")).status_code == 403


async def test_french_holders_page_shows_no_english(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    s = await two_seasons(app_ctx)
    sold = await holders_of(app_ctx, s.old, 2)
    console = await console_for("organizer")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    pages = {
        "holders": (await console.get("/console/passes/holders")).text,
        "empty": (await console.get("/console/passes/holders", q="personne")).text,
        "pass": (await console.get(f"/console/passes/{sold[0].id}")).text,
    }
    assert "Titulaires" in pages["holders"]
    data = ("Abonnement", "Holder 0", "Holder 1", "Prénom0", "Prénom1", "2026/27", "Stalls")
    english = {k: f for k, v in pages.items() if (f := english_in(visible_text(v), data))}
    assert not english, english
