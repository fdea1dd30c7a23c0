"""Small pieces of the bot on their own: keyboards, typed dates, what is remembered and when."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from booking.context import Context
from booking.services import holds
from booking.services.holds import Line
from bot.buttons import Keyboard
from bot.callbacks import WizardCb, pressed
from bot.dates import parse_day
from bot.listings import Listings
from bot.middlewares import KnownCustomers
from tests.builders import STAFF, make_catalog, make_customer

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("24.12.2026", date(2026, 12, 24)),
        ("24/12/26", date(2026, 12, 24)),
        ("2026-12-24", date(2026, 12, 24)),
        (" 24.12 ", date(2026, 12, 24)),
        ("5.1", date(2027, 1, 5)),  # no year: the next 5 January
        ("23.11", date(2026, 11, 23)),  # today is not in the past
        ("31.02.2027", None),
        ("soon", None),
        ("12", None),
    ],
)
def test_typed_dates_are_read_day_first(typed: str, meant: date | None) -> None:
    assert parse_day(typed, today=TODAY) == meant


def test_keyboards_fill_rows_of_the_given_sizes_and_attach_rows_below() -> None:
    kb = Keyboard()
    for n in range(1, 8):
        kb.button(text=str(n), callback_data=WizardCb(action="qty", id=n))
    kb.adjust(3, 2)
    nav = Keyboard()
    nav.button(text="«", callback_data="w:page:0")
    nav.button(text="»", callback_data="w:page:5")
    kb.attach(nav)
    rows = [[b.text for b in row] for row in kb.as_markup().inline_keyboard]
    assert rows == [["1", "2", "3"], ["4", "5"], ["6", "7"], ["«", "»"]]
    assert kb.as_markup().inline_keyboard[0][0].callback_data == "w:qty:1"


async def test_a_press_filter_reads_only_its_own_actions() -> None:
    from aiogram.types import CallbackQuery, User

    def query(data: str) -> CallbackQuery:
        user = User(id=1, is_bot=False, first_name="A")
        return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)

    check = pressed(WizardCb, "qty", "hold")
    assert await check(query("w:qty:3")) == {"callback_data": WizardCb(action="qty", id=3)}
    assert await check(query("w:date:3")) is False
    assert await check(query("b:qty:3")) is False
    assert await check(query("w:qty:three")) is False  # a forged payload


def test_known_customers_are_forgotten_after_a_while_or_when_told() -> None:
    now = [0.0]
    known = KnownCustomers(keep=30, clock=lambda: now[0])
    assert known.get(7) == (False, None)
    known.put(7, None)
    assert known.get(7) == (True, None)
    now[0] = 29.9
    assert known.get(7)[0] is True
    now[0] = 30.0
    assert known.get(7)[0] is False
    known.put(7, None)
    known.forget(7)
    assert known.get(7)[0] is False


async def test_listings_are_kept_a_second_and_read_again_when_forgotten_or_the_clock_moves(
    sqlite_ctx: Context,
) -> None:
    ctx = sqlite_ctx
    cat = await make_catalog(ctx, capacity=10)
    listings = Listings(ctx, keep=60)
    (before,) = await listings.performances(cat.event_id)
    customer = await make_customer(ctx)
    await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=customer.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 4)],
    )

    assert (await listings.performances(cat.event_id))[0].remaining == before.remaining
    listings.forget()
    assert (await listings.performances(cat.event_id))[0].remaining == before.remaining - 4
    await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=customer.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 1)],
    )
    ctx.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    assert (await listings.performances(cat.event_id))[0].remaining == before.remaining - 5
