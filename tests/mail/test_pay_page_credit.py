"""The pay page from an email with pass credit (issue 12 item 7), over HTTP (httpx ASGI) on
SQLite and PostgreSQL with the test provider: "use my pass credit" is offered before paying; in
full it pays the booking (no provider); in part the page then shows what is left, and the
provider is asked for that amount only; no offer without credit; a forged pass id is refused
with a clear message and nothing taken; the page in French."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from booking.context import Context
from booking.services import bookings, checkouts
from console.payments.test_provider import TestProvider
from tests.booking.test_pass_credit import balance, holder_with_credit, pass_product, tickets_of
from tests.builders import STAFF
from tests.mail.conftest import PUBLIC_URL
from tests.mail.test_pay_page import client_for, link


@pytest.fixture
async def web(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(ctx, TestProvider(PUBLIC_URL)) as client:
        yield client


async def test_credit_covering_the_total_pays_from_the_page(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    ana = await holder_with_credit(ctx, 10_000)
    held = await tickets_of(ctx, ana)
    url = await link(ctx, held)

    page = await web.get(url)
    assert page.status_code == 200
    assert f"Your season pass {ana.code} has CHF\u00a0100.00 of credit." in page.text
    assert "Pay with my pass credit (CHF\u00a090.00)" in page.text
    assert "Pay CHF\u00a090.00 without pass credit" in page.text

    paid = await web.post(f"{url}/credit", data={"pass_id": str(ana.pass_id)})

    assert paid.status_code == 200 and f"Booking {held.reference} is paid" in paid.text
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "confirmed"
    assert await balance(ctx, ana.pass_id) == 1000
    again = await web.post(f"{url}/credit", data={"pass_id": str(ana.pass_id)})
    assert again.status_code == 200 and "already paid" in again.text  # a double click
    assert await balance(ctx, ana.pass_id) == 1000


async def test_part_credit_then_the_provider_is_asked_for_the_rest(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    ana = await holder_with_credit(ctx, 2500)
    held = await tickets_of(ctx, ana)
    url = await link(ctx, held)

    applied = await web.post(f"{url}/credit", data={"pass_id": str(ana.pass_id)})
    assert applied.status_code == 303 and applied.headers["location"] == url
    page = await web.get(url)
    assert "Paid with pass credit" in page.text and "−CHF\u00a025.00" in page.text
    assert "Left to pay" in page.text and "Pay CHF\u00a065.00" in page.text
    assert "Use my pass credit" not in page.text  # used once

    started = await web.post(f"{url}/checkout")
    checkout = await checkouts.find_checkout(
        ctx, provider="test", session_id=started.headers["location"].rsplit("/", 1)[1]
    )
    assert checkout is not None and checkout.amount_minor == 6500
    done = await web.post(started.headers["location"])

    assert "is paid" in done.text
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert (booking.status, booking.refund_due) == ("confirmed", False)


async def test_no_credit_no_offer_and_a_forged_pass_is_refused(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    product_id = await pass_product(ctx)
    ana = await holder_with_credit(ctx, 0, product_id=product_id)
    held = await tickets_of(ctx, ana)
    url = await link(ctx, held)
    ben = await holder_with_credit(
        ctx, 5000, product_id=product_id, email="ben@example.org", name="Ben Test"
    )

    page = await web.get(url)
    assert "pass credit" not in page.text and "Pay CHF\u00a090.00" in page.text

    for forged in (str(ben.pass_id), "nonsense", ""):
        refused = await web.post(f"{url}/credit", data={"pass_id": forged})
        assert refused.status_code == 409 and 'role="alert"' in refused.text
        assert "Traceback" not in refused.text
    assert await balance(ctx, ben.pass_id) == 5000
    assert (
        "Only the holder of pass"
        in (await web.post(f"{url}/credit", data={"pass_id": str(ben.pass_id)})).text
    )


async def test_the_credit_choice_in_french(ctx: Context, web: httpx.AsyncClient) -> None:
    ana = await holder_with_credit(ctx, 2500, language="fr")
    held = await tickets_of(ctx, ana)
    url = await link(ctx, held)

    page = await web.get(url)
    assert f"Votre abonnement {ana.code} a 25,00\u00a0CHF de crédit." in page.text
    assert "Utiliser le crédit de mon abonnement (25,00\u00a0CHF), puis payer 65,00\u00a0CHF" in (
        page.text
    )
    await web.post(f"{url}/credit", data={"pass_id": str(ana.pass_id)})
    page = await web.get(url)
    assert "Reste à payer" in page.text and "Payer 65,00\u00a0CHF" in page.text


async def test_a_pass_bookings_pay_page_is_named_for_the_pass(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    ana = await holder_with_credit(ctx, 0, paid=False)
    (held,) = await bookings.my_bookings(ctx, customer_id=ana.customer.id)

    page = await web.get(await link(ctx, held))

    assert page.status_code == 200
    assert "<p>Abonnement<br>" in page.text  # the pass, not its first date's event
    assert held.event_title not in page.text
