"""The door page over HTTP and in headless Chromium, and the public ticket page /t/<secret>."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from booking.context import Context
from booking.services import payments, tickets
from console import serving
from console.web import ticket_page
from console.web.app import build_app
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import PASSWORD, ConsoleFactory, email_of
from tests.console.served import Browser, served
from tests.console.test_booking_page import secrets_of
from tests.console.test_browser import base_url, browser, shot, signed_in
from tests.support.english import english_in, visible_text

__all__ = ["base_url", "browser"]
DATA = ("Test Concert", "Salle Test", "Salle Lune", "Standing", "Ana Test", "Door Test", "Guichet")


@pytest.fixture
def app(app_ctx: Context) -> Any:
    return build_app(app_ctx, {"web": "running"}, extra_routes=ticket_page.routes(app_ctx))


async def paid(ctx: Context, quantity: int = 2, language: str = "en") -> tuple[int, list[str]]:
    cat = await make_catalog(ctx, starts_in=timedelta(hours=9))
    customer = await make_customer(ctx, language=language)
    booking = await make_held_booking(ctx, cat, customer, quantity=quantity)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    return cat.performance_id, await secrets_of(ctx, booking.reference)


def outcome(text: str) -> str:
    found = re.search(r'data-outcome="([a-z_]+)"', text)
    return found.group(1) if found else ""


async def test_a_scanned_url_admits_once_and_the_counts_follow(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    console = await console_for("door")
    page = await console.get("/console/door")
    assert page.status_code == 200 and "Checked in: 0 of 2 expected" in page.text
    url = tickets.ticket_url("https://tickets.example", secret)
    first = await console.post("/console/door", {"code": f"  {url} ", "performance": performance})
    assert outcome(first.text) == "admitted" and "Checked in: 1 of 2 expected" in first.text
    again = await console.post("/console/door", {"code": secret, "performance": performance})
    assert outcome(again.text) == "already_used"
    assert "Checked in: 1 of 2 expected" in again.text


async def test_the_ticket_page_link_shows_the_answer_and_one_tap_admits(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    console = await console_for("organizer")
    checked = await console.get("/console/door", code=secret)
    assert outcome(checked.text) == "admissible" and 'id="door-admit"' in checked.text
    tapped = await console.post("/console/door", {"code": secret, "performance": performance})
    assert outcome(tapped.text) == "admitted"


async def test_the_door_refuses_without_a_role_or_a_csrf_token(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    desk = await console_for("box_office")
    assert (await desk.get("/console/door")).status_code == 403
    door = await console_for("door")
    assert (await door.get("/console/bookings")).status_code == 403  # the door only
    forged = await door.post("/console/door", {"code": secret, "performance": performance},
                             csrf="forged")  # fmt: skip
    assert forged.status_code == 403
    await door.get("/console/door")  # the refusal page has no form: take the token again
    again = await door.post("/console/door", {"code": secret, "performance": performance})
    assert outcome(again.text) == "admitted"  # the forged one admitted nothing


async def test_anyone_sees_the_ticket_and_an_unknown_code_is_a_404(
    app_ctx: Context, app: Any
) -> None:
    _performance, (secret, _) = await paid(app_ctx, language="fr")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
        page = await web.get(f"/t/{secret}")
        assert page.status_code == 200
        assert "Test Concert" in page.text and "Ana Test" in page.text
        assert "ana@example.org" not in page.text  # no personal data beyond the name
        assert english_in(visible_text(page.text), DATA) == []
        unknown = await web.get("/t/not-a-ticket", headers={"accept-language": "en"})
        assert unknown.status_code == 404 and "Unknown ticket" in unknown.text


@pytest.mark.slow
async def test_a_usb_scanner_typing_the_url_is_admitted_then_already_used(
    app_ctx: Context, browser: Any, base_url: str
) -> None:
    _performance, (secret, _) = await paid(app_ctx)
    page = await signed_in(browser, base_url, "organizer")
    await page.goto(f"{base_url}/console/door")
    url = tickets.ticket_url(base_url, secret)
    await page.keyboard.type(url)  # the field has the focus: a scanner types into it
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#door-answer")
    assert await page.get_attribute("#door-answer", "data-outcome") == "admitted"
    assert "1 of 2" in await page.inner_text("#door-counts")
    await shot(page, "door-admitted")
    await page.keyboard.type(url)
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#door-answer[data-outcome=already_used]")
    assert "1 of 2" in await page.inner_text("#door-counts")
    await shot(page, "door-already-used")


async def test_the_door_page_in_french_has_no_english_in_any_answer(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (first, second) = await paid(app_ctx)
    later = await make_catalog(app_ctx, starts_in=timedelta(days=9), name="Salle Lune")
    customer = await make_customer(app_ctx, email="other@example.org")
    booking = await make_held_booking(app_ctx, later, customer, quantity=1)
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    (elsewhere,) = await secrets_of(app_ctx, booking.reference)
    door = await console_for("door")
    await door.get("/console/door")  # its landing page carries the CSRF token (not /console/)
    switched = await door.post("/console/language", {"language": "fr", "back": "/console/door"})
    assert switched.status_code == 303
    at = {"performance": performance, "door": "Nord"}
    pages = {
        "empty": await door.get("/console/door"),
        "admissible": await door.get("/console/door", code=first),
        "admitted": await door.post("/console/door", {**at, "code": first}),
        "already_used": await door.post("/console/door", {**at, "code": first}),
        "wrong_date": await door.post("/console/door", {**at, "code": elsewhere}),
        "not_valid": await door.post("/console/door", {**at, "code": "not-a-ticket"}),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        if name != "empty":
            assert outcome(page.text) == name
        assert 'lang="fr"' in page.text
        assert english_in(visible_text(page.text), (*DATA, "Nord")) == [], name
    assert "Contrôle à l'entrée" in visible_text(pages["empty"].text)
    assert second  # the booking's other ticket: expected, not come in yet
    assert "Entrés : 1 sur 2 attendus" in visible_text(pages["already_used"].text)


class Records(logging.Handler):
    """Every record of the server's side, formatted as the operator's log would show it; the
    test's own browser (httpx, httpcore) logs the addresses it asks for, and is no server."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("httpx", "httpcore")):
            self.lines.append(self.format(record))


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[Records]:
    """What reaches the root logger at INFO, the level ``guichet serve`` logs at, and uvicorn's
    access log (which does not propagate): attached by ``door_visit`` once the server has
    configured its loggers."""
    caplog.set_level(logging.INFO)
    handler = Records()
    yield handler
    for name in ("", serving.ACCESS_LOGGER, "uvicorn.error"):
        logging.getLogger(name).removeHandler(handler)


async def door_visit(ctx: Context, records: Records) -> str:
    """A door staff member over real HTTP: the ticket page, its staff link, the admission by a
    typed URL, and an unknown code; returns the ticket's secret. The door account exists
    (``console_for("door")`` makes it)."""
    performance, (secret, _) = await paid(ctx)
    app = build_app(ctx, {"web": "running"}, extra_routes=ticket_page.routes(ctx))
    async with served(app, log_level="info") as base_url, Browser(base_url) as browser:
        for name in ("", serving.ACCESS_LOGGER, "uvicorn.error"):
            logging.getLogger(name).addHandler(records)
        assert (await browser.get(f"/t/{secret}")).status_code == 200
        signed_in = await browser.sign_in(email_of("door"), PASSWORD)
        assert signed_in.headers["location"] == "/console/door"
        checked = await browser.get(f"/console/door?code={secret}&performance={performance}")
        assert outcome(checked.text) == "admissible"
        url = tickets.ticket_url(base_url, secret)
        admitted = await browser.post(
            "/console/door", {"code": url, "performance": str(performance)}
        )
        assert outcome(admitted.text) == "admitted"
        assert (await browser.get(f"/t/{secret[::-1]}")).status_code == 404
    return secret


async def test_a_ticket_secret_never_reaches_the_logs_at_the_door(
    app_ctx: Context, console_for: ConsoleFactory, records: Records
) -> None:
    await console_for("door")
    secret = await door_visit(app_ctx, records)
    access = [line for line in records.lines if line.startswith(serving.ACCESS_LOGGER)]
    assert len(access) >= 6, records.lines  # the log was listened to: the lines are there
    assert any('"GET /t/… HTTP/1.1" 200' in line for line in access)
    assert any('"GET /console/door?code=…&performance=… HTTP/1.1" 200' in line for line in access)
    for hidden in (secret, secret[::-1]):
        assert [line for line in records.lines if hidden in line] == []


async def test_unguarded_the_access_log_shows_the_ticket_secret(
    app_ctx: Context, console_for: ConsoleFactory, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    await console_for("door")
    logger = logging.getLogger(serving.ACCESS_LOGGER)
    monkeypatch.setattr(logger, "filters", [])
    monkeypatch.setattr(serving, "redact_access_log", lambda: None)
    secret = await door_visit(app_ctx, records)
    leaked = [line for line in records.lines if secret in line]
    assert any(f"/t/{secret}" in line for line in leaked)
    assert any(f"code={secret}" in line for line in leaked)
