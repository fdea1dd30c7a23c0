"""The pay page: signed links, the test provider, Stripe Checkout and its signed webhook."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest

from booking import outbox
from booking.clock import FrozenClock
from booking.context import Context
from booking.payment_providers import PaymentProvider
from booking.services import bookings, checkouts, customers
from booking.views import BookingView
from console.payments.stripe import StripeCheckout, sign
from console.payments.test_provider import TestProvider
from console.web import pay
from console.web.app import build_app
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import PUBLIC_URL

WEBHOOK_SECRET = "whsec_test_secret"


async def client_for(ctx: Context, provider: PaymentProvider | None) -> httpx.AsyncClient:
    app = build_app(ctx, {}, extra_routes=pay.routes(ctx, provider))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)


@pytest.fixture
async def held(ctx: Context) -> BookingView:
    cat = await make_catalog(ctx)
    customer = await make_customer(ctx, language="fr")
    return await make_held_booking(ctx, cat, customer)


@pytest.fixture
async def web(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(ctx, TestProvider(PUBLIC_URL)) as client:
        yield client


async def link(ctx: Context, booking: BookingView) -> str:
    return f"/pay/{await checkouts.pay_link_token(ctx, booking=booking)}"


async def test_pay_link_shows_the_booking_its_deadline_total_and_a_pay_button(
    ctx: Context, held: BookingView, web: httpx.AsyncClient
) -> None:
    page = await web.get(await link(ctx, held))
    assert page.status_code == 200
    assert held.reference in page.text
    assert "90,00" in page.text  # total, in the customer's language (French)
    assert "30 nov. 2026" in page.text  # the deadline at the venue
    assert "Payer 90,00" in page.text
    assert "MODE TEST" in page.text  # the test provider is labelled on every page
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # MAC changed
        lambda t: "X" + t[1:],  # payload changed
        lambda t: "nonsense",
        lambda t: t + "'\"<script>",
    ],
)
async def test_forged_pay_link_gets_a_clear_page_never_a_stack_trace(
    ctx: Context, held: BookingView, web: httpx.AsyncClient, mangle: Callable[[str], str]
) -> None:
    token = (await link(ctx, held)).rsplit("/", 1)[1]
    page = await web.get(f"/pay/{mangle(token)}", headers={"accept-language": "fr-CH"})
    assert page.status_code == 404
    assert "pas valable" in page.text
    assert "Traceback" not in page.text and "<script>" not in page.text
    posted = await web.post(f"/pay/{mangle(token)}/checkout")
    assert posted.status_code == 404


async def test_expired_pay_link_gets_the_same_clear_page(
    ctx: Context, held: BookingView, web: httpx.AsyncClient, clock: FrozenClock
) -> None:
    url = await link(ctx, held)
    clock.advance(timedelta(days=31))  # past the performance: the link has expired
    page = await web.get(url, headers={"accept-language": "en"})
    assert page.status_code == 404
    assert "not valid or has expired" in page.text


async def test_test_provider_pays_once_and_queues_the_tickets(
    ctx: Context, held: BookingView, web: httpx.AsyncClient
) -> None:
    url = await link(ctx, held)
    started = await web.post(f"{url}/checkout")
    assert started.status_code == 303
    checkout_url = started.headers["location"]
    assert checkout_url.startswith(f"{PUBLIC_URL}/pay/test/test_")
    page = await web.get(checkout_url)
    assert "Payer (test)" not in page.text or "MODE TEST" in page.text
    assert "simul" in page.text
    paid = await web.post(checkout_url)
    again = await web.post(checkout_url)  # a double click
    assert paid.status_code == again.status_code == 200
    assert "est payée" in paid.text
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "confirmed"
    assert await _notices(ctx, "payment_confirmed") == 1
    after = await web.get(url)
    assert after.status_code == 200 and "déjà payée" in after.text


async def test_paying_from_the_link_sends_tickets_by_email_and_to_telegram_when_linked(
    ctx: Context, held: BookingView, web: httpx.AsyncClient
) -> None:
    await customers.link_telegram(ctx, actor=STAFF, customer_id=held.customer_id,
                                  telegram_user_id=4242, chat_id=4242)  # fmt: skip
    url = await link(ctx, held)
    checkout = await web.post(f"{url}/checkout")
    await web.post(checkout.headers["location"])
    await web.post(checkout.headers["location"])
    assert await _count_outbox(ctx, "payment_confirmed", "email") == 1
    assert await _count_outbox(ctx, "payment_confirmed", "telegram") == 1


async def test_unknown_test_session_is_refused(ctx: Context, web: httpx.AsyncClient) -> None:
    page = await web.post("/pay/test/test_not-a-session")
    assert page.status_code == 404
    assert (await web.get("/pay/test/test_not-a-session")).status_code == 404


async def test_without_a_provider_the_page_says_to_contact_the_organizer(
    ctx: Context, held: BookingView
) -> None:
    async with await client_for(ctx, None) as web:
        url = await link(ctx, held)
        page = await web.get(url)
        assert "contacter l'organisateur" in page.text
        assert (await web.post(f"{url}/checkout")).status_code == 503
        assert (await web.post("/pay/test/anything")).status_code in (404, 405)


# -- Stripe ----------------------------------------------------------------------------------


class FakeStripe:
    """Stripe's API at our boundary: records what it was asked, answers like Stripe."""

    def __init__(self, *, down: bool = False) -> None:
        self.requests: list[httpx.Request] = []
        self.down = down

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path != "/v1/checkout/sessions":
            return httpx.Response(404, json={"error": {"type": "invalid_request_error"}})
        return httpx.Response(
            200,
            json={
                "id": "cs_test_a1b2c3",
                "url": "https://checkout.stripe.test/c/pay/cs_test_a1b2c3",
            },
        )


def stripe_for(fake: FakeStripe) -> StripeCheckout:
    return StripeCheckout(
        secret_key="sk_test_123",
        webhook_secret=WEBHOOK_SECRET,
        api_url="https://api.stripe.test",
        transport=httpx.MockTransport(fake.handler),
    )


def event(session_id: str, amount: int, *, kind: str = "checkout.session.completed") -> bytes:
    body = {
        "id": "evt_1",
        "type": kind,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_total": amount,
                "currency": "chf",
                "payment_status": "paid",
            }
        },
    }
    return json.dumps(body).encode()


def signed(
    payload: bytes, *, at: int | None = None, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {"stripe-signature": f"t={stamp},v1={sign(payload, secret, stamp)}"}


async def test_stripe_checkout_then_signed_webhook_confirms_once(
    ctx: Context, held: BookingView
) -> None:
    fake = FakeStripe()
    async with await client_for(ctx, stripe_for(fake)) as web:
        url = await link(ctx, held)
        started = await web.post(f"{url}/checkout")
        assert started.status_code == 303
        assert started.headers["location"].startswith("https://checkout.stripe.test/")
        [request] = fake.requests
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["line_items[0][price_data][unit_amount]"] == "9000"
        assert form["line_items[0][price_data][currency]"] == "chf"
        assert form["metadata[reference]"] == held.reference
        assert form["success_url"].endswith(f"{url}/done")
        assert request.headers["idempotency-key"]
        assert request.headers["authorization"].startswith("Basic ")

        payload = event("cs_test_a1b2c3", 9000)
        first = await web.post("/pay/webhook/stripe", content=payload, headers=signed(payload))
        replay = await web.post("/pay/webhook/stripe", content=payload, headers=signed(payload))
        assert first.json()["status"] == "confirmed"
        assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "confirmed"
    assert await _notices(ctx, "payment_confirmed") == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"stripe-signature": "garbage"},
        {"stripe-signature": "t=notanumber,v1=00"},
        "wrong-secret",
        "too-old",
    ],
)
async def test_stripe_webhook_without_a_valid_recent_signature_is_refused(
    ctx: Context, held: BookingView, headers: object
) -> None:
    fake = FakeStripe()
    async with await client_for(ctx, stripe_for(fake)) as web:
        await web.post(f"{await link(ctx, held)}/checkout")
        payload = event("cs_test_a1b2c3", 9000)
        if headers == "wrong-secret":
            headers = signed(payload, secret="whsec_someone_else")
        elif headers == "too-old":  # a captured call replayed an hour later
            headers = signed(payload, at=int(time.time()) - 3600)
        refused = await web.post("/pay/webhook/stripe", content=payload, headers=headers)  # type: ignore[arg-type]
        assert refused.status_code == 400
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "held"


async def test_stripe_events_that_report_no_payment_change_nothing(
    ctx: Context, held: BookingView
) -> None:
    async with await client_for(ctx, stripe_for(FakeStripe())) as web:
        await web.post(f"{await link(ctx, held)}/checkout")
        for payload in (
            event("cs_test_a1b2c3", 9000, kind="checkout.session.expired"),
            event("cs_someone_elses", 9000),
        ):
            answer = await web.post("/pay/webhook/stripe", content=payload, headers=signed(payload))
            assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    booking = await bookings.get_booking(ctx, actor=STAFF, reference=held.reference)
    assert booking.status == "held"


async def test_stripe_down_gets_a_retry_page(ctx: Context, held: BookingView) -> None:
    async with await client_for(ctx, stripe_for(FakeStripe(down=True))) as web:
        page = await web.post(f"{await link(ctx, held)}/checkout")
        assert page.status_code == 502
        assert "réessayer" in page.text


async def _notices(ctx: Context, kind: str) -> int:
    report = await outbox.deliver_due(ctx)  # no channels registered: nothing is delivered
    assert report.sent == 0
    return await _count_outbox(ctx, kind)


async def _count_outbox(ctx: Context, kind: str, channel: str | None = None) -> int:
    from sqlalchemy import func, select

    from booking.tables.outbox import OutboxMessage

    async def work(session):  # type: ignore[no-untyped-def]
        query = select(func.count()).where(OutboxMessage.kind == kind)
        if channel is not None:
            query = query.where(OutboxMessage.channel == channel)
        return int((await session.execute(query)).scalar_one())

    return int(await ctx.db.read(work))
