"""One tap to admit in a real browser (headless Chromium): door staff sign in on their phone,
open a ticket's QR address and press Admit (SPEC §9 "The door", issue 12 item 3)."""

from __future__ import annotations

from typing import Any

import pytest

from booking.context import Context
from tests.console.conftest import PASSWORD, ConsoleFactory, email_of
from tests.console.test_browser import base_url, browser, shot
from tests.console.test_door_tap import app, checked_in, paid

__all__ = ["app", "base_url", "browser"]
pytestmark = pytest.mark.slow


async def test_door_staff_on_a_phone_open_the_qr_address_and_tap_admit(
    app_ctx: Context, console_for: ConsoleFactory, browser: Any, base_url: str
) -> None:
    await console_for("door")  # the account
    _performance, (secret, _) = await paid(app_ctx)
    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    await phone.goto(f"{base_url}/t/{secret}")  # not signed in: the ticket, no button
    assert await phone.locator("#door-admit").count() == 0
    assert await phone.inner_text("#ticket-status") == "Valid ticket"
    await phone.goto(f"{base_url}/console/login")
    await phone.fill("#email", email_of("door"))
    await phone.fill("#password", PASSWORD)
    await phone.click("button[type=submit]")
    await phone.wait_for_url(f"{base_url}/console/door")
    await phone.goto(f"{base_url}/t/{secret}")  # what the camera opens from the QR code
    assert await phone.get_attribute("#door-answer", "data-outcome") == "admissible"
    await shot(phone, "door-tap-admissible")
    await phone.fill("#door", "Nord")
    await phone.click("#door-admit")
    await phone.wait_for_selector("#door-answer[data-outcome=admitted]")
    assert await phone.locator("#door-admit").count() == 0
    await shot(phone, "door-tap-admitted")
    assert await checked_in(app_ctx) == 1
    await phone.goto(f"{base_url}/t/{secret}")  # the same code again
    await phone.wait_for_selector("#door-answer[data-outcome=already_used]")
    assert "Nord" in await phone.inner_text("#door-answer")
    await shot(phone, "door-tap-already-used")
