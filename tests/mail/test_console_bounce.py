"""The console's customer page shows the undeliverable flag and the latest bounce."""

from __future__ import annotations

from booking.context import Context
from mail.inbound import process
from mail.settings import MailSettings
from mail.tokens import make_bounce_token, reply_address
from tests.builders import make_customer
from tests.console.conftest import (  # noqa: F401  (fixtures)
    ConsoleFactory,
    app,
    app_ctx,
    console_for,
    console_template,
)
from tests.mail.conftest import DESK, bounced, sample


async def test_the_customer_page_shows_the_flag_and_the_latest_bounce(
    app_ctx: Context,  # noqa: F811
    console_for: ConsoleFactory,  # noqa: F811
) -> None:
    ana = await make_customer(app_ctx, email="old.address@example.net", name="Ana Lima")
    envelope = reply_address(DESK, make_bounce_token(b"test-secret", ana.id, ana.email or ""))
    settings = MailSettings(_env_file=None, mail_from=f"Salle <{DESK}>")  # type: ignore[call-arg]
    raw = bounced(sample("dsn_bounce.eml"), envelope)
    assert (await process(app_ctx, raw, settings=settings)).status == "ignored"
    console = await console_for("box_office")
    page = (await console.get(f"/console/customers/{ana.id}")).text
    assert "bounces" in page and "Latest bounce" in page
    assert "address marked undeliverable" in page
