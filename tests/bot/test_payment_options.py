"""Without a Telegram payment provider: the pay link of the booking email, or a plain "off"."""

from __future__ import annotations

from booking.context import Context
from booking.services import checkouts
from tests.bot.conftest import Desk, bot_settings, linked_customer, running
from tests.bot.test_flows import hold_two
from tests.builders import make_catalog
from tests.support.fake_bot_api import FakeBotAPI

ANA = 1001


async def test_without_telegram_payments_the_bot_gives_the_signed_pay_link(
    fake_bot_api: FakeBotAPI, sqlite_ctx: Context
) -> None:
    await make_catalog(sqlite_ctx)
    await linked_customer(sqlite_ctx, ANA)
    settings = bot_settings(
        fake_bot_api, payments=False, pay_provider="test", public_url="https://tickets.example.org"
    )
    async with running(Desk(fake_bot_api, sqlite_ctx, settings)) as desk:
        ana = desk.person(ANA)
        reference = await hold_two(ana)
        reply = await ana.press("Pay")

    assert reply.of("sendInvoice") == []
    text = reply.texts[-1]
    assert text.startswith(f"Pay booking {reference} online on this secure page:\n")
    link = text.split("\n")[1]
    assert link.startswith("https://tickets.example.org/pay/")
    booking = await checkouts.booking_for_pay_token(sqlite_ctx, token=link.rsplit("/", 1)[1])
    assert booking.reference == reference


async def test_without_any_online_payment_the_bot_says_so_and_offers_no_pay_now(
    fake_bot_api: FakeBotAPI, sqlite_ctx: Context
) -> None:
    await make_catalog(sqlite_ctx)
    await linked_customer(sqlite_ctx, ANA)
    async with running(
        Desk(fake_bot_api, sqlite_ctx, bot_settings(fake_bot_api, payments=False))
    ) as desk:
        ana = desk.person(ANA)
        await ana.send("/events")
        await ana.press("Wed 23 Dec")
        await ana.press("Standing")
        await ana.press("1")
        assert not any(label.startswith("Pay now") for label in ana.buttons())
        await ana.press("Hold until")
        reply = await ana.press("Pay")

    assert reply.texts[-1].startswith("Online payment is not available. Please pay at the box")
