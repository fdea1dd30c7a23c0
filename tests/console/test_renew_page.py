"""The renewal page ``/renew/<token>`` (SQLite and PostgreSQL): the signed link from the
invitation shows the holder's pass and the offers; choosing one renews (a hold, seat and code
kept) and redirects to the new booking's pay page; forged and expired links get a bare 404; a
cross-site form is refused (with its companion: without the Origin guard it renews); the
page in French has no English; and one journey in Chromium."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from booking import renew_links, tokens
from booking.context import Context
from booking.queries import renewals as renewal_queries
from booking.services import renewals
from console.payments.test_provider import TestProvider
from console.web import pay, renew_page
from console.web.app import build_app
from tests.builders import STAFF
from tests.console.served import served
from tests.mail.conftest import PUBLIC_URL
from tests.mail.test_renew_mail import Renewing, booking_of, new_pass, pass_count, renewing
from tests.support.english import english_in, visible_text
from tests.support.fixtures import require_service

CHROMIUM = "/usr/bin/chromium"
DATA = ["Ana", "Test", "Zoé", "Abonnement", "libre", "Saison", "Stalls", "Floor", "Guichet"]


def app_for(ctx: Context) -> Any:
    routes = pay.routes(ctx, TestProvider(PUBLIC_URL)) + renew_page.routes(ctx)
    return build_app(ctx, {}, extra_routes=routes)


@pytest.fixture
async def web(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_for(ctx))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


async def link(ctx: Context, r: Renewing) -> str:
    expires = renew_links.expiry(r.closes_at, ctx.clock.now())
    url = await renew_links.renew_url(ctx, r.renewal_id, expires=expires)
    return url.removeprefix(ctx.settings.public_url.rstrip("/"))


async def test_the_page_shows_the_pass_the_offers_and_the_close(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    r = await renewing(ctx, ga_offer=True)
    page = await web.get(await link(ctx, r))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"  # the token is in the path
    choice = await renewal_queries.renewal_choice(ctx, renewal_id=r.renewal_id)
    assert choice is not None
    text = visible_text(page.text)
    assert choice.pass_code in text and "Ana" in text
    assert "Your seat kept: Stalls · row A · seat 3" in text  # the fixed-seat offer
    assert "CHF\xa0260.00" in text and "CHF\xa0180.00" in text
    assert "Abonnement libre" in text and "General admission" in text
    assert "Renew before Sun 13 Dec 2026" in text
    assert page.text.count('name="product_id"') == 2


async def test_choosing_an_offer_renews_and_redirects_to_the_pay_page(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    r = await renewing(ctx)
    path = await link(ctx, r)

    chosen = await web.post(path, data={"product_id": str(r.offers[0])})

    assert chosen.status_code == 303
    assert chosen.headers["location"].startswith("/pay/")
    renewed = await new_pass(ctx, r.old_pass_id)
    assert renewed is not None and renewed.seat_id is not None
    booking = await booking_of(ctx, renewed.booking_id)
    assert booking.status == "held"
    pay_page = await web.get(chosen.headers["location"])
    assert pay_page.status_code == 200
    assert booking.reference in pay_page.text and "Pay CHF\xa0260.00" in pay_page.text
    # Paid at once is then the pay page: the test provider confirms the renewal.
    checkout = await web.post(f"{chosen.headers['location']}/checkout")
    paid = await web.post(checkout.headers["location"])
    assert "is paid" in paid.text
    assert (await booking_of(ctx, renewed.booking_id)).status == "confirmed"


async def test_a_second_submit_renews_once_and_shows_the_renewal(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    r = await renewing(ctx)
    path = await link(ctx, r)
    await web.post(path, data={"product_id": str(r.offers[0])})

    again = await web.post(path, data={"product_id": str(r.offers[0])})

    assert again.status_code == 409
    assert await pass_count(ctx) == 2
    renewed = await new_pass(ctx, r.old_pass_id)
    assert renewed is not None
    reference = (await booking_of(ctx, renewed.booking_id)).reference
    assert f"is renewed: booking {reference}" in again.text
    assert 'href="/pay/' in again.text  # still to pay: the way there
    shown = await web.get(path)
    assert "Go to payment" in shown.text and 'name="product_id"' not in shown.text


async def test_an_offer_the_campaign_does_not_make_is_refused(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    r = await renewing(ctx)
    path = await link(ctx, r)
    for value in ("999999", "x", ""):
        refused = await web.post(path, data={"product_id": value})
        assert refused.status_code == 400
        assert "does not offer this pass" in refused.text
    assert await new_pass(ctx, r.old_pass_id) is None


async def test_after_the_window_the_page_says_closed_and_renews_nothing(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    r = await renewing(ctx, closes_in=None)  # no close date: the link lasts 90 days
    path = await link(ctx, r)
    await renewals.close(ctx, actor=STAFF, campaign_id=r.campaign_id)
    page = await web.get(path)
    assert page.status_code == 200 and "renewal window is closed" in page.text
    assert 'name="product_id"' not in page.text
    refused = await web.post(path, data={"product_id": str(r.offers[0])})
    assert refused.status_code == 409 and "closed" in refused.text
    assert await new_pass(ctx, r.old_pass_id) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # MAC changed
        lambda t: "X" + t[1:],  # payload changed
        lambda t: "nonsense",
        lambda t: t + "'\"<script>",
    ],
)
async def test_a_forged_link_gets_a_bare_404(
    ctx: Context, web: httpx.AsyncClient, mangle: Any
) -> None:
    r = await renewing(ctx)
    token = (await link(ctx, r)).rsplit("/", 1)[1]
    for method in ("GET", "POST"):
        page = await web.request(method, f"/renew/{mangle(token)}", data={"product_id": "1"})
        assert page.status_code == 404
        assert "not valid" in page.text
        assert "Ana" not in page.text and "<script>" not in page.text
        assert "Abonnement" not in page.text
    assert await new_pass(ctx, r.old_pass_id) is None


async def forged_link(ctx: Context, r: Renewing) -> str:
    """A well-formed link for that renewal, signed with a key that is not the instance's."""
    expires = ctx.clock.now() + timedelta(days=5)
    token = tokens.sign("not-the-secret-key", renew_links.PURPOSE, str(r.renewal_id), expires)
    return f"/renew/{token}"


async def test_a_link_signed_with_another_key_renews_nothing(
    ctx: Context, web: httpx.AsyncClient
) -> None:
    r = await renewing(ctx)
    forged = await web.post(await forged_link(ctx, r), data={"product_id": str(r.offers[0])})
    assert forged.status_code == 404
    assert await new_pass(ctx, r.old_pass_id) is None


async def test_companion_without_the_signature_check_a_forged_link_renews(
    ctx: Context, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack the signature stops: anyone who guesses renewal ids renews other people's
    passes (and sees their names)."""

    def unsigned(secret: str, purpose: str, token: str, *, now: Any) -> str:
        payload = base64.urlsafe_b64decode(token[: -tokens.MAC_CHARS] + "==")
        return payload.decode().rsplit("|", 1)[0]

    monkeypatch.setattr(renew_links.tokens, "verify", unsigned)
    r = await renewing(ctx)
    forged = await web.post(await forged_link(ctx, r), data={"product_id": str(r.offers[0])})
    assert forged.status_code == 303
    assert await new_pass(ctx, r.old_pass_id) is not None


async def test_an_expired_link_gets_the_same_404(ctx: Context, web: httpx.AsyncClient) -> None:
    r = await renewing(ctx)
    path = await link(ctx, r)
    assert r.closes_at is not None
    ctx.clock.set(r.closes_at + timedelta(seconds=1))  # type: ignore[attr-defined]
    page = await web.post(path, data={"product_id": str(r.offers[0])})
    assert page.status_code == 404 and "not valid" in page.text
    assert await new_pass(ctx, r.old_pass_id) is None


async def test_a_cross_site_form_is_refused(ctx: Context, web: httpx.AsyncClient) -> None:
    r = await renewing(ctx)
    path = await link(ctx, r)
    for origin in ("https://evil.example", "null", "https://tickets.venue.example.evil.example"):
        refused = await web.post(
            path, data={"product_id": str(r.offers[0])}, headers={"origin": origin}
        )
        assert refused.status_code == 403
        assert "another site" in refused.text
    assert await new_pass(ctx, r.old_pass_id) is None
    own = await web.post(
        path, data={"product_id": str(r.offers[0])}, headers={"origin": PUBLIC_URL}
    )
    assert own.status_code == 303


async def test_companion_without_the_origin_guard_a_cross_site_form_renews(
    ctx: Context, web: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack the guard stops: a page elsewhere posts the form for a holder who opened
    the link before (the token leaked: a forwarded email, a shared screen)."""
    monkeypatch.setattr(renew_page, "same_origin", lambda request, public_url: True)
    r = await renewing(ctx)
    path = await link(ctx, r)
    attack = {"origin": "https://evil.example"}
    done = await web.post(path, data={"product_id": str(r.offers[0])}, headers=attack)
    assert done.status_code == 303
    assert await new_pass(ctx, r.old_pass_id) is not None


async def test_the_page_in_french_has_no_english(ctx: Context, web: httpx.AsyncClient) -> None:
    r = await renewing(ctx, language="fr", name="Zoé Test", ga_offer=True)
    path = await link(ctx, r)
    page = await web.get(path)
    text = visible_text(page.text)
    assert "Renouveler votre abonnement" in text and "Votre place gardée" in text
    assert "Placement libre" in text
    assert not english_in(text, DATA), english_in(text, DATA)
    refused = await web.post(path, data={"product_id": "0"})
    assert "ne propose pas" in refused.text or refused.status_code == 400
    assert not english_in(visible_text(refused.text), DATA)
    forged = await web.get("/renew/nonsense", headers={"accept-language": "fr-CH"})
    assert forged.status_code == 404 and "pas valable" in forged.text
    assert not english_in(visible_text(forged.text), DATA)
    await web.post(path, data={"product_id": str(r.offers[0])})
    done = await web.get(path)
    assert "est renouvelé" in done.text
    assert not english_in(visible_text(done.text), DATA), english_in(visible_text(done.text), DATA)


@pytest.mark.slow
async def test_in_chromium_the_holder_renews_and_lands_on_the_pay_page(ctx: Context) -> None:
    require_service(os.access(CHROMIUM, os.X_OK), f"Chromium is not installed at {CHROMIUM}")
    from playwright.async_api import async_playwright

    from tests.console.test_browser import ARGS, SHOTS

    r = await renewing(ctx, ga_offer=True)
    path = await link(ctx, r)
    async with served(app_for(ctx)) as base, async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await chromium.new_page(viewport={"width": 420, "height": 900})
            await page.goto(f"{base}{path}")
            SHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SHOTS / "renew-page.png"), full_page=True)
            await page.get_by_label("Abonnement libre").check()
            await page.get_by_role("button", name="Renew my pass").click()
            await page.wait_for_url("**/pay/**")
            assert "Pay CHF\xa0180.00" in await page.inner_text("body")
            await page.screenshot(path=str(SHOTS / "renew-pay.png"), full_page=True)
        finally:
            await chromium.close()
    renewed = await new_pass(ctx, r.old_pass_id)
    assert renewed is not None and renewed.seat_id is None  # general admission chosen
