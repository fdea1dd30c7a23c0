"""An SMTP outage is said, once, and shows in /healthz until mail goes out again (issue 10,
point 5); a resend is a new message in the booking's thread, so no client drops it as a
duplicate."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import booking_admin
from console.web.app import build_app
from mail.channel import EmailChannel
from mail.smtp import SmtpSender
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import deliver, settings_for
from tests.support.mailservers import SmtpRecorder

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
PASSWORD = "pw-never-in-a-log-9f2"
ROLES = {"web": "running", "worker": "running", "mail": "running"}


async def use_server(ctx: Context, smtp: SmtpRecorder) -> SmtpSender:
    """Point the email channel at ``smtp`` (logging in), as the runtime does at start."""
    sender = SmtpSender(settings_for(smtp, smtp_user="desk", smtp_password=PASSWORD))
    ctx.channels["email"] = EmailChannel(ctx, sender.settings, sender)
    return sender


async def health(ctx: Context) -> dict[str, object]:
    app = build_app(ctx, ROLES)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200  # the web still serves: a channel down is not a 503
    body: dict[str, object] = response.json()
    return body


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Ours only: aiosmtpd logs its own (deprecation) warnings on "mail.log"."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != "mail.log"]


@pytest.fixture
async def two_emails(ctx: Context) -> AsyncIterator[None]:
    cat = await make_catalog(ctx)
    for i in range(2):
        customer = await make_customer(ctx, email=f"c{i}@example.org", name=f"Customer {i}")
        await make_held_booking(ctx, cat, customer, channel="email")
    yield


async def test_an_smtp_outage_is_one_warning_and_degraded_health_until_mail_goes_out(
    ctx: Context, clock: FrozenClock, caplog: pytest.LogCaptureFixture, two_emails: None
) -> None:
    down = SmtpRecorder(auth=("desk", PASSWORD))
    down.start()
    sender = await use_server(ctx, down)
    down.stop()  # the server goes away: connections are refused
    caplog.set_level(logging.INFO)
    for _ in range(3):  # three delivery runs, two messages each: still one episode
        report = await deliver(ctx)
        assert (report.sent, report.retried) == (0, 2)
        clock.advance(dt.timedelta(minutes=5))
    [warning] = warnings_of(caplog)
    said = warning.getMessage()
    assert "email" in said and "SMTP server unavailable" in said
    assert PASSWORD not in caplog.text
    body = await health(ctx)
    assert body["status"] == "degraded"
    roles = body["roles"]
    assert isinstance(roles, dict) and roles["mail"].startswith("degraded: SMTP server unavailable")
    assert PASSWORD not in str(body)
    await sender.close()

    async with SmtpRecorder(auth=("desk", PASSWORD)) as back:  # the server is back
        sender = await use_server(ctx, back)
        assert (await deliver(ctx)).sent == 2
        assert len(await back.wait_for_count(2)) == 2
        await sender.close()
    body = await health(ctx)
    assert body["status"] == "ok" and body["roles"] == ROLES
    assert len(warnings_of(caplog)) == 1  # recovery is news, not a warning
    assert any("email" in r.getMessage() and "back" in r.getMessage() for r in caplog.records)


async def test_a_server_refusing_with_421_is_an_outage_too(
    ctx: Context, smtp_server: SmtpRecorder, caplog: pytest.LogCaptureFixture, two_emails: None
) -> None:
    sender = SmtpSender(settings_for(smtp_server))
    ctx.channels["email"] = EmailChannel(ctx, sender.settings, sender)
    smtp_server.refuse_next(2, 421)
    caplog.set_level(logging.WARNING)
    assert (await deliver(ctx)).retried == 2
    assert len(warnings_of(caplog)) == 1
    assert (await health(ctx))["status"] == "degraded"
    await sender.close()


async def test_one_deferred_recipient_is_not_an_outage(
    ctx: Context, smtp_server: SmtpRecorder, caplog: pytest.LogCaptureFixture, two_emails: None
) -> None:
    """Greylisting one address (451 on RCPT) says nothing about the server: no warning."""
    sender = SmtpSender(settings_for(smtp_server))
    ctx.channels["email"] = EmailChannel(ctx, sender.settings, sender)
    smtp_server.refuse_next(1, 451, stage="RCPT")
    caplog.set_level(logging.WARNING)
    report = await deliver(ctx)
    assert (report.sent, report.retried) == (1, 1)
    assert warnings_of(caplog) == []
    assert (await health(ctx))["status"] == "ok"
    await sender.close()


async def test_a_resend_is_a_new_message_in_the_booking_thread(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    cat = await make_catalog(ctx)
    held = await make_held_booking(ctx, cat, await make_customer(ctx), channel="email")
    assert (await deliver(ctx)).sent == 1
    await booking_admin.resend(
        ctx, actor=STAFF, reference=held.reference, what="booking", nonce="resend-nonce-1"
    )
    assert (await deliver(ctx)).sent == 1
    first, again = (m.message for m in await smtp_server.wait_for_count(2))
    original = first["Message-ID"]
    assert original == f"<booking.{held.reference}@venue.example>"
    assert again["Message-ID"] != original  # the same id: Gmail drops it as a duplicate
    assert again["In-Reply-To"] == original and again["References"] == original
    assert again["Subject"] == first["Subject"]
