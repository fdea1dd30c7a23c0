"""The desk form (a booking made for a customer at the desk or on the phone): one booking per
form however often it is posted, phone-only customers, and a typed email that belongs to a
customer already.

Decision: an email belongs to one customer (``customer.email_key`` is unique). A typed email
that is already on file can therefore never make a second customer: the form shows the match
(name and email) and asks to file the booking under that customer, or to go back and change
the email (or clear it: then the typed name and phone make a new, phone-only customer). The
typed name is never dropped without the staff member seeing it beside the one on file.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.queries import search
from booking.services import booking_admin, customers, holds
from booking.tables.bookings import Booking
from booking.tables.catalog import Gauge
from booking.tables.customers import Customer
from booking.views import BookingView
from tests.builders import STAFF, Catalog, make_catalog, make_customer
from tests.console.conftest import Console, ConsoleFactory, both
from tests.console.test_browser import base_url, browser, shot, signed_in

__all__ = ["base_url", "browser"]  # the real-browser fixtures, shared with test_browser

FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
NEW = "/console/bookings/new"


async def desk_form(console: Console, cat: Catalog) -> str:
    """Open the desk form for the catalogue's date; returns the form's one-time key."""
    page = await console.get(NEW, performance=str(cat.performance_id))
    assert page.status_code == 200, page.text
    found = FORM_KEY.search(page.text)
    assert found, "the desk form carries no one-time key"
    return found.group(1)


def walk_in(cat: Catalog, key: str, **fields: str) -> dict[str, str]:
    return {
        "form_key": key,
        "performance": str(cat.performance_id),
        f"qty_{cat.ga_tariff}": "2",
        "email": "walkin@example.org",
        "name": "Walk In",
        "phone": "",
        "language": "en",
        "payment": "hold",
        **fields,
    }


async def count(ctx: Context, query: Any) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())

    return await ctx.db.read(work)


def bookings_of(cat: Catalog) -> Any:
    return select(func.count()).select_from(Booking).where(col(Booking.event_id) == cat.event_id)


async def floor_left(ctx: Context, cat: Catalog) -> int:
    query = select(col(Gauge.remaining)).where(
        col(Gauge.performance_id) == cat.performance_id, col(Gauge.area_id) == cat.ga_area
    )
    return await count(ctx, query)


# --- one booking per form --------------------------------------------------------------------


async def test_a_repeated_create_post_shows_the_booking_already_made(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    first = await console.post(NEW, walk_in(cat, key))
    assert first.status_code == 303, first.text
    again = await console.post(NEW, walk_in(cat, key))  # a double click, a reload, a retry
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    page = await console.get(again.headers["location"])
    assert "This form was already sent: here is the booking it made." in page.text
    assert await count(app_ctx, bookings_of(cat)) == 1
    assert await floor_left(app_ctx, cat) == 98


async def test_a_new_form_makes_a_new_booking(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    first = await console.post(NEW, walk_in(cat, await desk_form(console, cat)))
    other = {"email": "other@example.org", "name": "Other Walk In"}
    second = await console.post(NEW, walk_in(cat, await desk_form(console, cat), **other))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] != second.headers["location"]
    assert await count(app_ctx, bookings_of(cat)) == 2


@both
async def test_two_concurrent_create_posts_make_one_booking(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    posts = [console.post(NEW, walk_in(cat, key)) for _ in range(4)]
    answers = await asyncio.gather(*posts)
    assert [a.status_code for a in answers] == [303] * 4, [a.text[:300] for a in answers]
    assert len({a.headers["location"] for a in answers}) == 1
    assert await count(app_ctx, bookings_of(cat)) == 1
    assert await floor_left(app_ctx, cat) == 98


async def naive_desk_booking(ctx: Context, cat: Catalog, key: str, customer_id: int) -> bool:
    """The unguarded step: look the key up in one transaction, make the booking in another."""
    if await booking_admin.booking_of_form_key(ctx, form_key=key) is not None:
        return False
    await asyncio.sleep(0)  # the other post looks the key up meanwhile
    await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=customer_id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=2)],
    )
    return True


@both
async def test_check_then_create_without_the_key_claim_makes_two_bookings(
    app_ctx: Context,
) -> None:
    """The companion: without the key claimed in the booking's own transaction, two posts of
    one form both find the key unused and both book."""
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx)
    key = booking_admin.new_form_key()
    made = await asyncio.gather(*(naive_desk_booking(app_ctx, cat, key, ana.id) for _ in range(2)))
    assert made == [True, True]
    assert await count(app_ctx, bookings_of(cat)) == 2, "no race was observed"


async def test_a_post_without_a_form_key_books_nothing_and_keeps_the_typing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    for key in ("", "not a key!"):
        stale = await console.post(NEW, walk_in(cat, key))
        assert stale.status_code == 400
        assert "This form is out of date" in stale.text and 'value="Walk In"' in stale.text
        fresh = FORM_KEY.search(stale.text)
        assert fresh and fresh.group(1) != key
    assert await count(app_ctx, bookings_of(cat)) == 0


async def test_a_refused_post_can_be_sent_again_with_the_same_key(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """A refusal writes nothing, the key included: the corrected form goes through."""
    cat = await make_catalog(app_ctx, capacity=2)
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    too_many = await console.post(NEW, walk_in(cat, key, **{f"qty_{cat.ga_tariff}": "3"}))
    assert too_many.status_code == 400 and f'value="{key}"' in too_many.text
    fixed = await console.post(NEW, walk_in(cat, key))
    assert fixed.status_code == 303
    assert await count(app_ctx, bookings_of(cat)) == 1


# --- phone-only customers --------------------------------------------------------------------


async def test_a_phone_only_customer_is_booked_at_the_desk(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    form = await console.get(NEW, performance=str(cat.performance_id))
    assert "Email (optional)" in form.text
    key = FORM_KEY.search(form.text).group(1)  # type: ignore[union-attr]
    made = await console.post(
        NEW, walk_in(cat, key, email="", name="Jeanne Téléphone", phone="+41 79 123 45 67")
    )
    assert made.status_code == 303, made.text
    detail = await search.booking_detail(app_ctx, reference=made.headers["location"][-7:])
    assert detail.row.customer_name == "Jeanne Téléphone" and detail.row.customer_email is None
    assert detail.customer_phone == "+41 79 123 45 67" and detail.booking.status == "held"
    page = await console.get(made.headers["location"])
    assert "+41 79 123 45 67" in page.text


async def test_two_phone_only_customers_stay_two(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    for name in ("Marc Dubois", "Léa Roux"):
        key = await desk_form(console, cat)
        made = await console.post(NEW, walk_in(cat, key, email="", name=name, phone="079 1"))
        assert made.status_code == 303
    phone_only = select(func.count()).select_from(Customer).where(col(Customer.email).is_(None))
    assert await count(app_ctx, phone_only) == 2


async def test_a_customer_needs_a_name_and_an_email_or_a_phone(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    nothing = await console.post(NEW, walk_in(cat, key, email="", name="", phone=""))
    assert nothing.status_code == 400
    assert "Required." in nothing.text and "Give an email or a phone number." in nothing.text
    assert await count(app_ctx, bookings_of(cat)) == 0


# --- a typed email that is on file -----------------------------------------------------------


async def test_a_typed_existing_email_shows_the_match_and_asks(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx, email="ana.lopez@example.org", name="Ana López")
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    typed = walk_in(cat, key, email=" Ana.Lopez@Example.org", name="Anna Lopes", phone="079 5")
    asked = await console.post(NEW, typed)
    assert asked.status_code == 409, asked.text
    assert "This email belongs to a customer already" in asked.text
    assert "Ana López" in asked.text and "ana.lopez@example.org" in asked.text
    assert "File under this customer" in asked.text and "Go back and change" in asked.text
    assert 'value="Anna Lopes"' in asked.text  # the typing is all still there
    assert f'name="file_under" value="{ana.id}"' in asked.text
    assert await count(app_ctx, bookings_of(cat)) == 0

    filed = await console.post(NEW, {**typed, "file_under": str(ana.id)})
    assert filed.status_code == 303, filed.text
    detail = await search.booking_detail(app_ctx, reference=filed.headers["location"][-7:])
    assert detail.booking.customer_id == ana.id
    customers_now = select(func.count()).select_from(Customer)
    assert await count(app_ctx, customers_now) == 1


async def test_going_back_keeps_the_typed_name_for_a_new_customer(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx, email="ana.lopez@example.org", name="Ana López")
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    typed = walk_in(cat, key, email="ana.lopez@example.org", name="Anna Lopes")
    asked = await console.post(NEW, typed)
    assert asked.status_code == 409
    back = await console.post(NEW, {**typed, "back": "1"})
    assert back.status_code == 200 and 'value="Anna Lopes"' in back.text
    assert "File under this customer" not in back.text
    changed = await console.post(NEW, {**typed, "email": "anna.lopes@example.org"})
    assert changed.status_code == 303, changed.text
    detail = await search.booking_detail(app_ctx, reference=changed.headers["location"][-7:])
    assert detail.booking.customer_id != ana.id
    assert detail.row.customer_name == "Anna Lopes"
    assert detail.row.customer_email == "anna.lopes@example.org"
    kept = await customers.get_customer(app_ctx, customer_id=ana.id)
    assert kept.name == "Ana López"  # the customer on file is not renamed either


async def test_filing_under_a_customer_the_email_no_longer_names_asks_again(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """``file_under`` is a reference, never an authority: it must still be the customer the
    typed email names, or the form asks again."""
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx, email="ana@example.org", name="Ana Test")
    bob = await make_customer(app_ctx, email="bob@example.org", name="Bob Test")
    console = await console_for("box_office")
    key = await desk_form(console, cat)
    forged = await console.post(
        NEW, walk_in(cat, key, email="ana@example.org", file_under=str(bob.id))
    )
    assert forged.status_code == 409
    assert f'name="file_under" value="{ana.id}"' in forged.text
    assert await count(app_ctx, bookings_of(cat)) == 0


async def test_the_service_answers_a_known_email_with_the_match(app_ctx: Context) -> None:
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx, email="ana@example.org", name="Ana Test")
    outcome = await booking_admin.create_desk_booking(
        app_ctx,
        actor=STAFF,
        form_key=booking_admin.new_form_key(),
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=1)],
        new_customer=booking_admin.NewCustomer(name="Someone Else", email="ANA@example.org"),
    )
    assert outcome.booking is None and outcome.match is not None and outcome.match.id == ana.id
    assert await count(app_ctx, bookings_of(cat)) == 0


def _made(outcome: booking_admin.DeskOutcome) -> BookingView:
    assert outcome.booking is not None
    return outcome.booking


async def test_the_service_makes_one_booking_per_key(app_ctx: Context) -> None:
    cat = await make_catalog(app_ctx)
    key = booking_admin.new_form_key()

    async def post() -> booking_admin.DeskOutcome:
        return await booking_admin.create_desk_booking(
            app_ctx,
            actor=STAFF,
            form_key=key,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.ga_tariff, quantity=1)],
            new_customer=booking_admin.NewCustomer(name="Phone Only", phone="079 2"),
        )

    first, second = await post(), await post()
    assert first.created and not second.created
    assert _made(first).reference == _made(second).reference
    assert await booking_admin.booking_of_form_key(app_ctx, form_key=key) == _made(first).reference
    phone_only = select(func.count()).select_from(Customer).where(col(Customer.email).is_(None))
    assert await count(app_ctx, phone_only) == 1  # the repeat made no second customer either


@pytest.mark.slow
async def test_in_a_browser_a_known_email_asks_then_a_phone_only_customer_is_booked(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    cat = await make_catalog(app_ctx)
    await make_customer(app_ctx, email="ana@example.org", name="Ana López")
    page = await signed_in(browser, base_url, "box_office")
    await page.goto(f"{base_url}{NEW}?performance={cat.performance_id}")
    await page.fill(f"#qty_{cat.ga_tariff}", "2")
    await page.fill("#name", "Anna Lopes")
    await page.fill("#email", "ana@example.org")
    await page.click("text=Create the booking")
    await page.wait_for_selector("#match")
    await shot(page, "15-desk-email-on-file")
    assert "Ana López" in await page.inner_text("#match")
    await page.click("text=Go back and change")
    await page.wait_for_selector("#name")
    assert await page.input_value("#name") == "Anna Lopes"
    await page.fill("#email", "")
    await page.fill("#phone", "+41 79 555 00 11")
    await page.click("text=Create the booking")
    await page.wait_for_selector("#pay-link")
    assert await count(app_ctx, bookings_of(cat)) == 1
    detail = await search.booking_detail(app_ctx, reference=page.url[-7:])
    assert detail.row.customer_name == "Anna Lopes" and detail.row.customer_email is None
