"""Telegram's season-pass notices (issue 12): a paid pass booking is followed by the pass card
(one photo: the QR of PUBLIC_URL/t/<secret>, read back with zxing-cpp, and a caption with the
product, season, holder, seat and code) instead of tickets; a renewed pass shows the same QR;
the reminder carries the Renew button, the release is plain. Delivered through the real
Telegram channel to the fake Bot API (and, for a renewal paid in the chat, by the bot's own
payment answer), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta

import zxingcpp
from PIL import Image

from booking.services import payments, renewals, tickets
from tests.bot.conftest import Desk
from tests.bot.test_renew import (
    ANA,
    NEW_NAME,
    OLD_NAME,
    ORGANIZER,
    WINDOW,
    holder,
    launched,
    passes_of,
    renewal_id,
    seasons,
)
from tests.builders import STAFF
from tests.support.fake_bot_api import Call


def decoded(photo: Call) -> str:
    image = Image.open(io.BytesIO(photo.files["photo"])).convert("L")
    (found,) = zxingcpp.read_barcodes(image)
    return found.text


async def test_a_paid_pass_is_followed_by_its_card_with_the_qr_of_its_secret(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    _, sold = await holder(desk.ctx, found, ANA)  # paid at the box office: told in Telegram

    _, sent = await desk.deliver()  # the pass held, then paid

    assert f"Booking {sold.reference} is paid: your season pass" in sent.text
    # The booking belongs to the pass's first date: the notices name the pass, not that event.
    assert f"Your season pass {OLD_NAME} (" in sent.text and "is held for you" in sent.text
    assert f"for the season pass {OLD_NAME} is paid" in sent.text
    assert "Your pass follows" in sent.text and "Your tickets follow" not in sent.text
    (card,) = sent.of("sendPhoto")  # one card, not a ticket per included date
    assert card.params["chat_id"] == ANA
    assert decoded(card) == tickets.ticket_url(desk.ctx.settings.public_url, sold.secret)
    assert sold.seat is not None and card.text is not None
    lines = card.text.splitlines()
    assert lines[0] == f"{OLD_NAME} · 2026/27"
    for line in ("Holder: Ana", f"Seat: {sold.seat.label('en')}", f"Pass code: {sold.code}"):
        assert line in lines
    assert [label for label, _ in card.buttons()] == ["« My passes"]


async def test_a_renewed_pass_paid_elsewhere_gets_the_same_qr_under_the_new_season(
    desk: Desk,
) -> None:
    found = await seasons(desk.ctx)
    ana, old = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    renewed = await renewals.renew(
        desk.ctx,
        actor=STAFF,
        renewal_id=await renewal_id(desk.ctx, ana),
        product_id=found.new_product,
    )
    await desk.deliver()  # the earlier notices
    await payments.record_box_office_payment(
        desk.ctx, actor=STAFF, reference=renewed.reference, method="card"
    )

    _, sent = await desk.deliver()

    (card,) = sent.of("sendPhoto")
    assert decoded(card) == tickets.ticket_url(desk.ctx.settings.public_url, old.secret)
    assert card.text is not None and card.text.startswith(f"{NEW_NAME} · 2026/27b\n")
    assert f"Pass code: {old.code}" in card.text
    assert old.seat is not None and old.seat.label("en") in card.text
    assert {p.code for p in await passes_of(desk.ctx, ana)} == {old.code}


async def test_the_reminder_offers_renewal_and_the_release_is_plain(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    await desk.deliver()  # the payment and the invitation

    desk.ctx.clock.advance(WINDOW - timedelta(days=6))  # type: ignore[attr-defined]
    assert await renewals.remind_due(desk.ctx) == 1
    _, sent = await desk.deliver()
    (reminder,) = sent.of("sendMessage")
    assert [label for label, _ in reminder.buttons()] == ["Renew my pass"]

    assert await renewals.close(desk.ctx, actor=ORGANIZER, campaign_id=found.campaign) == 1
    _, sent = await desk.deliver()
    (released,) = sent.of("sendMessage")
    assert released.buttons() == [] and released.text


async def test_a_renewal_paid_in_the_bot_is_followed_by_the_pass_card(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    _, old = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    chat = desk.person(ANA)
    await chat.send("/renew")
    await chat.press(NEW_NAME)
    reply = await chat.press("Pay now")
    (invoice,) = reply.of("sendInvoice")
    payload, amount = invoice.params["payload"], 24000
    await desk.handle(chat, desk.fake.pre_checkout(ANA, payload, amount, "CHF", enqueue=False))

    paid = desk.fake.successful_payment(ANA, payload, amount, "CHF", enqueue=False)
    reply = await desk.handle(chat, paid)

    assert "Your season pass card follows" in reply.text
    (card,) = reply.of("sendPhoto")  # bot/routers/payments.py, the owner's own payment
    assert decoded(card) == tickets.ticket_url(desk.ctx.settings.public_url, old.secret)
