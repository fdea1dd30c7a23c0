"""A newline in a customer's name (or in what goes into a subject) never breaks the headers
of the emails sent to them: names are cleaned at input, and again before a header."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from booking.context import Context
from booking.queries import directory
from booking.services import customers
from booking.tables.customers import Customer
from booking.views import CustomerView
from mail import channel as channel_module
from mail.channel import EmailChannel
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import deliver
from tests.support.mailservers import SmtpRecorder

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
INJECTED = "Ana\r\nBcc: victim@evil.example\nX-Evil: 1"


async def test_names_are_cleaned_at_input(ctx: Context) -> None:
    ana, _ = await customers.find_or_create_customer(
        ctx,
        actor=STAFF,
        email="ana@example.org",
        name=INJECTED + "\u2028\u202e",
        company="Acme\x00\r\nInc",
    )
    assert ana.name == "Ana Bcc: victim@evil.example X-Evil: 1"
    org = await customers.create_organization(ctx, actor=STAFF, name="Leroy\nEvents")
    assert await directory.organization_named(ctx, name="Leroy Events") == org


async def _stored_with_a_newline(ctx: Context, customer: CustomerView) -> None:
    """A row written before names were cleaned (or by an import that forgot to)."""

    async def work(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(Customer).where(Customer.id == customer.id).values(name=INJECTED)  # type: ignore[arg-type]
        )

    await ctx.db.write(work)


async def test_a_newline_in_a_stored_name_leaves_the_sent_headers_intact(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder
) -> None:
    cat = await make_catalog(ctx, name="Salle\r\nBcc: other@evil.example")
    ana = await make_customer(ctx)
    await _stored_with_a_newline(ctx, ana)
    await make_held_booking(ctx, cat, ana)
    report = await deliver(ctx)
    assert report.sent == 1 and not report.errors
    [mail] = await smtp_server.wait_for_count(1)
    assert mail.rcpt_tos == ["ana@example.org"]
    headers = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\nX-Evil:" not in headers
    assert mail.message["Bcc"] is None and mail.message["X-Evil"] is None
    assert str(mail.message["To"]).endswith("<ana@example.org>")
    assert "\n" not in str(mail.message["Subject"])


async def test_companion_without_cleaning_before_the_header_the_email_breaks(
    ctx: Context, channel: EmailChannel, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_module, "single_line", lambda text, limit=200: text)
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await _stored_with_a_newline(ctx, ana)
    await make_held_booking(ctx, cat, ana)
    report = await deliver(ctx)
    # The stdlib refuses to write the injected header: the notice can never be sent.
    assert report.sent == 0 and any("embedded header" in e for e in report.errors)
    assert smtp_server.messages == []
