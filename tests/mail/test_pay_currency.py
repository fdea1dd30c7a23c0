"""The pay page and Stripe in the booking's currency: yen have no decimals (issue 10).

Before, every amount was shown divided by 100 ("¥90" for ¥9,000) while Stripe was sent the raw
number; now both follow the currency's minor unit. Stripe's API is faked at our boundary only.
"""

from __future__ import annotations

import json

import httpx

from booking.context import Context
from booking.services import bookings
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.test_pay_page import FakeStripe, client_for, link, signed, stripe_for


async def test_a_yen_booking_is_shown_and_charged_in_whole_yen(ctx: Context) -> None:
    cat = await make_catalog(ctx, currency="JPY")  # Standing: 4500, that is ¥4,500
    customer = await make_customer(ctx, language="en")
    held = await make_held_booking(ctx, cat, customer, quantity=2)
    assert (held.total_minor, held.currency) == (9000, "JPY")
    fake = FakeStripe()
    async with await client_for(ctx, stripe_for(fake)) as web:
        url = await link(ctx, held)
        page = await web.get(url)
        assert page.status_code == 200
        assert "¥9,000" in page.text and "¥4,500" in page.text
        assert "¥90" not in page.text.replace("¥9,000", "")
        french = await web.get(url, params={"lang": "fr"})
        assert "9\u202f000\u00a0JPY" in french.text

        started = await web.post(f"{url}/checkout")
        assert started.status_code == 303
        [request] = fake.requests
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["line_items[0][price_data][currency]"] == "jpy"
        assert form["line_items[0][price_data][unit_amount]"] == "9000"  # Stripe: zero-decimal

        payload = json.dumps(
            {
                "id": "evt_jpy",
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": "cs_test_a1b2c3",
                        "amount_total": 9000,
                        "currency": "jpy",
                        "payment_status": "paid",
                    }
                },
            }
        ).encode()
        done = await web.post("/pay/webhook/stripe", content=payload, headers=signed(payload))
        assert done.json()["status"] == "confirmed"
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "confirmed"


async def test_a_chf_booking_reads_chf_in_english_and_the_french_way_in_french(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx)
    customer = await make_customer(ctx, language="en")
    held = await make_held_booking(ctx, cat, customer, quantity=2)
    async with await client_for(ctx, stripe_for(FakeStripe())) as web:
        url = await link(ctx, held)
        assert "CHF\u00a090.00" in (await web.get(url)).text
        assert "90,00\u00a0CHF" in (await web.get(url, params={"lang": "fr"})).text
