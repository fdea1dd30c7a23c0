"""The booking page at the desk: the pay link to read out or send by hand (a customer without
working email can still pay online), and each ticket's QR to show or print."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.services import cancellations, payments, tickets
from booking.tables.bookings import Booking, Ticket
from console.payments.test_provider import TestProvider
from console.web import pay
from console.web.app import build_app
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory
from tests.console.test_browser import base_url, browser, shot, signed_in

__all__ = ["base_url", "browser"]  # the real-browser fixtures, shared with test_browser

PAY_LINK = re.compile(r'id="pay-link"[^>]*value="(http[^"]+)"')
QR = re.compile(r'<img class="qr" src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def app(app_ctx: Context) -> Any:
    """The console with the pay page beside it, as ``guichet serve`` mounts them."""
    provider = TestProvider(app_ctx.settings.public_url)
    return build_app(
        app_ctx,
        {"web": "running", "worker": "running"},
        extra_routes=pay.routes(app_ctx, provider),
    )


async def secrets_of(ctx: Context, reference: str) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        query = (
            select(col(Ticket.secret))
            .join(Booking, col(Booking.id) == Ticket.booking_id)
            .where(col(Booking.reference) == reference, col(Ticket.voided_at).is_(None))
            .order_by(col(Ticket.id))
        )
        return list((await session.execute(query)).scalars())

    return await ctx.db.read(work)


def decoded(page: str) -> list[str]:
    """What each QR image of the page reads as, decoded by a real barcode reader."""
    found = []
    for data in QR.findall(page):
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        barcode = zxingcpp.read_barcode(image)
        assert barcode is not None, "a QR image that no reader can decode"
        found.append(barcode.text)
    return found


# --- the pay link ----------------------------------------------------------------------------


async def test_the_booking_page_shows_a_pay_link_that_opens_the_pay_page(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    console = await console_for("box_office")
    page = await console.get(f"/console/bookings/{booking.reference}")
    link = PAY_LINK.search(page.text)
    assert link, "no pay link on the page of a held booking"
    assert 'data-copy="pay-link"' in page.text and "Copy the link" in page.text
    assert link.group(1).startswith(app_ctx.settings.public_url.rstrip("/") + "/pay/")
    path = "/pay/" + link.group(1).split("/pay/", 1)[1]
    pay = await console.client.get(path)  # the link as the customer opens it, no session
    assert pay.status_code == 200, pay.text
    assert booking.reference in pay.text and "90.00" in pay.text


async def test_no_pay_link_once_the_booking_cannot_be_paid(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    paid = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=paid.reference, method="cash"
    )
    gone = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    await cancellations.cancel(app_ctx, actor=STAFF, reference=gone.reference, reason="mistake")
    console = await console_for("organizer")
    for reference in (paid.reference, gone.reference):
        page = await console.get(f"/console/bookings/{reference}")
        assert page.status_code == 200
        assert "/pay/" not in page.text and 'data-copy="pay-link"' not in page.text


async def test_the_pay_link_is_in_french_for_a_french_desk(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    console = await console_for("box_office")
    await console.post("/console/language", {"language": "fr"})
    page = await console.get(f"/console/bookings/{booking.reference}")
    assert "Lien de paiement" in page.text and "Copier le lien" in page.text


# --- the tickets' QR codes -------------------------------------------------------------------


async def test_the_booking_page_shows_each_ticket_qr_decoding_to_its_secret(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), quantity=3)
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=booking.reference, method="card"
    )
    console = await console_for("box_office")
    page = await console.get(f"/console/bookings/{booking.reference}")
    secrets = await secrets_of(app_ctx, booking.reference)
    assert len(secrets) == 3
    base = app_ctx.settings.public_url
    assert decoded(page.text) == [tickets.ticket_url(base, s) for s in secrets]  # PUBLIC_URL/t/…
    assert f'href="/console/bookings/{booking.reference}/tickets"' in page.text
    # Only inside the images: no link or path carries a secret, so no access log sees one.
    assert not [secret for secret in secrets if secret in page.text]


async def test_voided_tickets_show_no_qr(app_ctx: Context, console_for: ConsoleFactory) -> None:
    cat = await make_catalog(app_ctx, cancellation_allowed=True)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    await cancellations.cancel(app_ctx, actor=STAFF, reference=booking.reference, reason="mistake")
    console = await console_for("organizer")
    page = await console.get(f"/console/bookings/{booking.reference}")
    assert "voided" in page.text and QR.search(page.text) is None
    printable = await console.get(f"/console/bookings/{booking.reference}/tickets")
    assert printable.status_code == 200 and QR.search(printable.text) is None
    assert "No valid tickets to print." in printable.text


async def test_the_printable_tickets_page_renders_one_block_per_ticket(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), quantity=2)
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    console = await console_for("box_office")
    printable = await console.get(f"/console/bookings/{booking.reference}/tickets")
    assert printable.status_code == 200
    assert printable.text.count('<section class="ticket-print">') == 2
    assert decoded(printable.text) == [
        tickets.ticket_url(app_ctx.settings.public_url, s)
        for s in await secrets_of(app_ctx, booking.reference)
    ]
    assert "Test Concert" in printable.text and "Standing" in printable.text
    assert 'media="print"' in printable.text or "@media print" in _css(printable.text)
    assert printable.headers["cache-control"] == "no-store"


async def test_the_printable_page_of_an_unknown_booking_is_a_clear_404(
    console_for: ConsoleFactory,
) -> None:
    console = await console_for("box_office")
    missing = await console.get("/console/bookings/K7M-4QX/tickets")
    assert missing.status_code == 404 and "There is no booking K7M-4QX." in missing.text


def _css(page: str) -> str:
    """The console stylesheet the page links (print rules live there: the CSP allows no inline
    style)."""
    from pathlib import Path

    assert 'href="/console/static/console.css"' in page
    root = Path(__file__).resolve().parents[2]
    return (root / "console" / "web" / "static" / "console.css").read_text()


# --- in a real browser -----------------------------------------------------------------------


@pytest.mark.slow
async def test_the_copy_button_puts_the_pay_link_on_the_clipboard(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    """Headless Chromium under the console's CSP (scripts from 'self' only): the button
    shows, copies the link, says so, and the page logs no CSP violation."""
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    page = await signed_in(browser, base_url, "box_office")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text))
    await page.goto(f"{base_url}/console/bookings/{booking.reference}")
    button = page.locator("button[data-copy=pay-link]")
    await button.click()
    await page.wait_for_selector("button[data-copy=pay-link]:has-text('Copied')")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == await page.input_value("#pay-link") and "/pay/" in copied
    await shot(page, "12-pay-link-copied")
    assert not [c for c in complaints if "Content Security Policy" in c], complaints


@pytest.mark.slow
async def test_the_printable_tickets_print_without_the_console_around_them(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    page = await signed_in(browser, base_url, "box_office")
    await page.goto(f"{base_url}/console/bookings/{booking.reference}")
    await shot(page, "13-tickets-on-the-booking-page")
    await page.click("text=Print the tickets")
    await page.wait_for_selector("button[data-print]:visible")
    await page.emulate_media(media="print")
    assert not await page.locator("header.top").is_visible()
    assert await page.locator("section.ticket-print").count() == 2
    await shot(page, "14-tickets-printed")
