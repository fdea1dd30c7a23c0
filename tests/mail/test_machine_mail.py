"""Issue 9, item 2: machine mail is recorded and never answered, end to end.

Each sample of tests/mail/samples/machine is addressed to a held booking's plus-addressed
reply address (To and Delivered-To carry its genuine reply token), from the booking's
customer where the format allows it (read receipts, challenges), and goes through
``mail.inbound.process``: no row at all may appear in the outbox (no answer, no "someone
else wrote about your booking" notice), the booking is untouched, and the inbound record
has the sample's kind. The companion runs the same message with classification removed and
shows that it then does get an answer, so the first test can fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

import mail.inbound
from booking.context import Context
from booking.services import bookings
from booking.settings_store import secret_key
from booking.tables.channels import InboundMail
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView
from mail import classify as classifier
from mail.classify import Kind
from mail.inbound import process
from mail.parse import parse_message
from mail.settings import MailSettings
from mail.tokens import make_reply_token, reply_address
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.test_classify import CUSTOMER, MACHINE, MACHINE_KINDS

DESK = "desk@venue.example"
PLACEHOLDER = re.compile(rb"desk\+[a-z2-7]+@venue\.example")
SAMPLES = sorted(MACHINE_KINDS.items())


def settings() -> MailSettings:
    return MailSettings(
        _env_file=None,
        smtp_host="127.0.0.1",
        mail_from=f"Salle Test <{DESK}>",
        public_url="https://tickets.venue.example",
        mail_max_bytes=200_000,
    )


async def held_booking(ctx: Context) -> tuple[BookingView, str, bytes]:
    """Claire's held booking, its reply address and the reply-token key."""
    cat = await make_catalog(ctx)
    customer = await make_customer(ctx, email=CUSTOMER, name="Claire Morel", language="fr")
    booking = await make_held_booking(ctx, cat, customer)
    secret = (await secret_key(ctx)).encode()
    token = make_reply_token(secret, booking.reference, customer.id)
    return booking, reply_address(DESK, token), secret


def addressed(name: str, address: str) -> bytes:
    """The sample with every desk+…@venue.example (To, Delivered-To, returned headers)
    replaced by the booking's reply address."""
    raw = (MACHINE / name).read_bytes()
    assert PLACEHOLDER.search(raw), f"{name} is not addressed to a reply address"
    addressed_raw = PLACEHOLDER.sub(address.encode(), raw)
    token = address.partition("+")[2].partition("@")[0]
    parsed = parse_message(addressed_raw, max_bytes=1_000_000)
    assert token in parsed.reply_token_candidates, f"{name}: no token in To / Delivered-To"
    return addressed_raw


async def outbox_rows(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count(col(OutboxMessage.id))))).scalar_one())

    return await ctx.db.read(work)


async def recorded_kind(ctx: Context, raw: bytes) -> str | None:
    message_id = parse_message(raw, max_bytes=1_000_000).message_id

    async def work(session: AsyncSession) -> str | None:
        query = select(col(InboundMail.kind)).where(col(InboundMail.message_id) == message_id)
        return (await session.execute(query)).scalar_one_or_none()

    return await ctx.db.read(work)


async def status_of(ctx: Context, booking: BookingView) -> str:
    return (await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)).status


@pytest.mark.parametrize(("name", "kind"), SAMPLES)
async def test_machine_mail_on_a_bookings_reply_address_gets_no_answer(
    ctx: Context, name: str, kind: Kind
) -> None:
    booking, address, secret = await held_booking(ctx)
    raw = addressed(name, address)
    before = await outbox_rows(ctx)  # the "held" notice of the booking itself

    outcome = await process(ctx, raw, settings=settings(), secret=secret)

    assert outcome.status == "ignored", outcome
    assert await outbox_rows(ctx) == before  # no answer, no notice to the owner
    assert await recorded_kind(ctx, raw) == kind.value
    assert await status_of(ctx, booking) == "held"
    again = await process(ctx, raw, settings=settings(), secret=secret)
    assert again.status == "duplicate"
    assert await outbox_rows(ctx) == before


def unclassified(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the guard: every message reads as a person's."""

    def human(msg: Any, **kwargs: Any) -> Kind:
        return Kind.HUMAN

    monkeypatch.setattr(classifier, "classify", human)
    # In case inbound.py binds the function itself rather than the module.
    direct: Callable[..., Kind] | None = getattr(mail.inbound, "classify", None)
    if callable(direct):
        monkeypatch.setattr(mail.inbound, "classify", human)


@pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("name", "kind"), SAMPLES)
async def test_without_classification_the_same_mail_gets_an_answer(
    ctx: Context, name: str, kind: Kind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Companion: the very same message, classification removed, is answered (help or a
    refusal to the customer, or the "someone else wrote" notice to the owner)."""
    _booking, address, secret = await held_booking(ctx)
    raw = addressed(name, address)
    before = await outbox_rows(ctx)
    unclassified(monkeypatch)

    outcome = await process(ctx, raw, settings=settings(), secret=secret)

    assert outcome.status != "ignored", outcome
    assert await outbox_rows(ctx) > before
    assert await recorded_kind(ctx, raw) == Kind.HUMAN.value
