"""Bounces (issue 9, item 2): only a bounce on the VERP token of a message we sent to that
address marks a customer undeliverable; a reply or a positive delivery report clears it; the
console shows the flag and the latest bounce."""

from __future__ import annotations

import pytest

from booking.context import Context
from booking.queries import directory
from booking.services import customers
from booking.views import CustomerView
from mail import inbound
from mail.classify import failed_recipients
from mail.inbound import BounceTarget
from mail.parse import ParsedMessage
from tests.builders import make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, bounced, reply_to, sample
from tests.support.mailservers import ReceivedMessage

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
DSN = sample("dsn_bounce.eml")  # names old.address@example.net


def naming(raw: bytes, *addresses: str) -> bytes:
    """The DSN sample about other addresses: its DSN body and an X-Failed-Recipients."""
    raw = raw.replace(b"old.address@example.net", addresses[0].encode())
    raw = raw.replace(b"Old.Address@example.net", addresses[0].encode())
    return f"X-Failed-Recipients: {', '.join(addresses)}\r\n".encode() + raw


async def undeliverable(ctx: Context, customer: CustomerView) -> bool:
    return (await directory.customer_detail(ctx, customer_id=customer.id)).email_undeliverable


async def booked(ctx: Context, desk: Desk, email: str) -> tuple[CustomerView, ReceivedMessage]:
    cat = await make_catalog(ctx, name=f"Salle {email}")
    customer = await make_customer(ctx, email=email, name="Ana Test")
    await make_held_booking(ctx, cat, customer)
    [held_mail] = await desk.send_out()
    return customer, held_mail


async def test_a_forged_bounce_naming_other_addresses_marks_nobody(
    ctx: Context, desk: Desk
) -> None:
    victims = [await make_customer(ctx, email=f"victim{n}@example.org") for n in range(2)]
    forged = naming(DSN, "victim0@example.org", "victim1@example.org")  # no token: desk@
    report = await desk.receive(forged)
    assert dict(report.outcomes) == {"ignored": 1} and report.flagged == 1
    assert [await undeliverable(ctx, v) for v in victims] == [False, False]
    assert await desk.send_out() == []


async def test_a_bounce_on_one_customers_token_naming_others_marks_only_that_customer(
    ctx: Context, desk: Desk
) -> None:
    ana, held_mail = await booked(ctx, desk, "ana@example.org")
    victim = await make_customer(ctx, email="victim@example.org")
    await desk.receive(bounced(naming(DSN, "victim@example.org"), held_mail.mail_from))
    assert await undeliverable(ctx, ana) and not await undeliverable(ctx, victim)


async def test_companion_a_forged_bounce_marks_the_victims_when_named_addresses_count(
    ctx: Context, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = await make_customer(ctx, email="victim0@example.org")

    async def by_named_address(
        ctx: Context, parsed: ParsedMessage, secret: bytes
    ) -> BounceTarget | None:  # the unguarded twin: the addresses the bounce names
        found = await customers.find_by_email(ctx, email=failed_recipients(parsed)[0])
        return BounceTarget(found.id, lambda address: True) if found else None

    monkeypatch.setattr(inbound, "bounce_target", by_named_address)
    await desk.receive(naming(DSN, "victim0@example.org"))
    assert await undeliverable(ctx, victim)


async def test_a_genuine_verp_bounce_marks_the_customer_and_a_reply_clears_it(
    ctx: Context, desk: Desk
) -> None:
    ana, held_mail = await booked(ctx, desk, "old.address@example.net")
    report = await desk.receive(bounced(DSN, held_mail.mail_from))
    assert dict(report.outcomes) == {"ignored": 1}
    assert await undeliverable(ctx, ana)
    detail = await directory.customer_detail(ctx, customer_id=ana.id)
    assert detail.last_bounce is not None and detail.last_bounce.outcome == "undeliverable"
    assert await desk.send_out() == []  # never answered

    reply = reply_to(held_mail, "HELP", sender="old.address@example.net")
    assert dict((await desk.receive(reply)).outcomes) == {"answered": 1}
    assert not await undeliverable(ctx, ana)


async def test_a_reply_from_another_address_does_not_clear_the_flag(
    ctx: Context, desk: Desk
) -> None:
    ana, held_mail = await booked(ctx, desk, "old.address@example.net")
    await desk.receive(bounced(DSN, held_mail.mail_from))
    await make_customer(ctx, email="someone@example.org")
    await desk.receive(reply_to(held_mail, "HELP", sender="someone@example.org"))
    assert await undeliverable(ctx, ana)


async def test_a_positive_delivery_report_on_the_token_clears_the_flag(
    ctx: Context, desk: Desk
) -> None:
    ana, held_mail = await booked(ctx, desk, "old.address@example.net")
    await desk.receive(bounced(DSN, held_mail.mail_from))
    delivered = (
        DSN.replace(b"Action: failed", b"Action: delivered")
        .replace(b"Status: 5.1.1", b"Status: 2.0.0")
        .replace(b"Message-Id: <20261123090231", b"Message-Id: <20261123090232")
    )
    await desk.receive(bounced(delivered, held_mail.mail_from))
    assert not await undeliverable(ctx, ana)
    detail = await directory.customer_detail(ctx, customer_id=ana.id)
    assert detail.last_bounce is not None and detail.last_bounce.outcome == "delivered"


async def test_a_bounce_about_an_address_the_customer_no_longer_has_marks_nobody(
    ctx: Context, desk: Desk
) -> None:
    ana, held_mail = await booked(ctx, desk, "old.address@example.net")
    await _change_email(ctx, ana, "new.address@example.net")
    await desk.receive(bounced(DSN, held_mail.mail_from))
    assert not await undeliverable(ctx, ana)
    detail = await directory.customer_detail(ctx, customer_id=ana.id)
    assert detail.last_bounce is not None and detail.last_bounce.outcome == "stale_address"


async def _change_email(ctx: Context, customer: CustomerView, email: str) -> None:
    from sqlalchemy import update

    from booking.tables.customers import Customer

    async def work(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(Customer).where(Customer.id == customer.id).values(email=email, email_key=email)  # type: ignore[arg-type]
        )

    await ctx.db.write(work)
