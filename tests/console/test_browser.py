"""The key journeys in a real browser (Debian's Chromium driven by Playwright), against the app
served by uvicorn on loopback. Each key page is saved to artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import search
from booking.rules.deadlines import end_of_local_day
from booking.services import extensions, reminders
from tests.builders import as_customer, make_catalog, make_customer, make_held_booking
from tests.console.conftest import PASSWORD, email_of, overdue_holds
from tests.support.fixtures import require_service

ZURICH = ZoneInfo("Europe/Zurich")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
pytestmark = pytest.mark.slow


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # pytest keeps its own signal handlers


@pytest.fixture
async def base_url(app: Any) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    require_service(os.access(CHROMIUM, os.X_OK), f"Chromium is not installed at {CHROMIUM}")
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


async def signed_in(browser: Any, base_url: str, role: str, *, width: int = 1280) -> Any:
    page = await browser.new_page(viewport={"width": width, "height": 900})
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(f"{base_url}/console/")  # no session yet: sent to the sign-in page
    assert "/console/login" in page.url
    await page.fill("#email", email_of(role))
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/console/")
    return page


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_organizer_extends_three_overdue_holds_by_seven_days_from_the_release_screen(
    app_ctx: Context, clock: FrozenClock, browser: Any, base_url: str
) -> None:
    cat, late = await overdue_holds(app_ctx, clock, 3)
    await make_held_booking(  # due soon, not selected: must stay as it is
        app_ctx, cat, await make_customer(app_ctx, email="soon@example.org", name="Soon Due")
    )
    login = await browser.new_page(viewport={"width": 1280, "height": 900})
    await login.goto(f"{base_url}/console/login")
    await shot(login, "01-login")
    await login.close()
    page = await signed_in(browser, base_url, "organizer")
    assert "3" in await page.inner_text(".card.attention .number")
    await shot(page, "02-dashboard")
    await page.click("text=Releases")
    await page.wait_for_selector("table.list")
    await shot(page, "03-release-screen")
    for booking in late:
        await page.check(f"input[name=ref][value='{booking.reference}']")
    await page.fill("input[name=days]", "7")
    await page.click("button[value=extend]")
    await page.wait_for_selector("text=Extended: 3.")
    await shot(page, "04-release-screen-after-extending")
    # seven days on, to the end of that day at the venue (like every other deadline)
    new_deadline = end_of_local_day(
        (clock.now() + timedelta(days=7)).astimezone(ZURICH).date(), ZURICH
    )
    for booking in late:
        detail = await search.booking_detail(app_ctx, reference=booking.reference)
        assert detail.booking.status == "held"
        assert detail.booking.deadline == new_deadline
    clock.set(new_deadline - timedelta(days=3) + timedelta(minutes=1))  # 3 days before them
    assert await reminders.plan_reminders(app_ctx) == 3  # re-armed: one each, on the new date
    for booking in late:
        detail = await search.booking_detail(app_ctx, reference=booking.reference)
        assert [n.kind for n in detail.notices].count("reminder") == 1
    phone = await signed_in(browser, base_url, "organizer", width=390)
    await phone.goto(f"{base_url}/console/releases")
    await shot(phone, "05-release-screen-phone")
    await phone.click("button:has-text('Français')")  # the account now works in French
    await phone.wait_for_selector("text=Écran de libération")
    desk = await signed_in(browser, base_url, "organizer")
    await desk.goto(f"{base_url}/console/releases")
    await shot(desk, "12-release-screen-fr")


async def test_organizer_approves_a_request_for_more_time_and_the_customer_is_told(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    cat = await make_catalog(app_ctx, starts_in=timedelta(days=30))
    customer = await make_customer(app_ctx, email="asks@example.org", name="Asks Politely")
    booking = await make_held_booking(app_ctx, cat, customer, channel="email")
    request = await extensions.request_extension(
        app_ctx,
        actor=as_customer(customer, "email"),
        reference=booking.reference,
        reason="My salary comes on the 25th",
    )
    page = await signed_in(browser, base_url, "organizer")
    await page.click("text=Extensions")
    await page.wait_for_selector(f"#request-{request.id}")
    await shot(page, "06-extensions-inbox")
    prefilled = await page.input_value(f"#r{request.id}-until")
    assert prefilled == request.proposed_until.date().isoformat()
    await page.click(f"#request-{request.id} button:has-text('Approve')")
    await page.wait_for_selector("text=No request is waiting.")
    await shot(page, "07-extensions-after-approval")
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.deadline == request.proposed_until
    told = [n for n in detail.notices if n.kind == "extension_approved"]
    assert [(n.channel, n.status) for n in told] == [("email", "pending")]


async def test_box_office_takes_a_payment_and_the_tickets_are_issued(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    cat = await make_catalog(app_ctx)
    customer = await make_customer(app_ctx, email="walkin@example.org", name="Marie Dupont")
    booking = await make_held_booking(app_ctx, cat, customer, quantity=2, channel="email")
    page = await signed_in(browser, base_url, "box_office")
    await page.fill("#q", "dupont")
    await page.click("button:has-text('Find a booking')")
    await page.wait_for_selector(f"text={booking.reference}")
    await shot(page, "08-booking-search")
    await page.click(f"a:has-text('{booking.reference}')")
    await page.wait_for_selector("#pay")
    await shot(page, "09-booking-before-payment")
    await page.select_option("#pay-method", "card")
    await page.click("#pay button[type=submit]")
    await page.wait_for_selector("text=the tickets are issued")
    await shot(page, "10-booking-paid")
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.status == "confirmed"
    assert len(detail.tickets) == 2 and detail.payments[0].method == "card"
    assert any(n.kind == "payment_confirmed" for n in detail.notices)
    assert "Ticket" in await page.inner_text("main")
    await page.goto(f"{base_url}/console/bookings/new?performance={cat.performance_id}")
    await shot(page, "11-new-booking")
