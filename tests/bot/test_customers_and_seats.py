"""A first-time customer, linking by email and code, and choosing numbered seats (SQLite)."""

from __future__ import annotations

import pytest

from booking.context import Context
from booking.services import bookings, customers, holds, seating
from booking.services.holds import Line
from tests.bot import db
from tests.bot.conftest import Desk, Recorder, linked_customer
from tests.builders import STAFF, make_catalog, make_customer


@pytest.fixture
def sqlite_ctx(sqlite_ctx: Context) -> Context:
    """Email is configured here, so codes can be mailed (tests/bot/test_email_off.py: not)."""
    sqlite_ctx.channels["email"] = Recorder()
    return sqlite_ctx


ANA = 1001


async def mailed_code(desk: Desk) -> str:
    return await db.mailed_code(desk.ctx)


async def test_a_new_customer_gives_a_name_and_an_email_when_holding_for_the_first_time(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    ada = desk.person(ANA, first_name="Ada")
    await ada.send("/events")
    await ada.press("Wed 23 Dec")
    await ada.press("Standing")
    await ada.press("1")

    reply = await ada.press("Hold until")
    assert "what name should I use?" in reply.text
    reply = await ada.press("Use “Ada”")
    assert "And your email address?" in reply.text
    reply = await ada.send("not an email")
    assert reply.texts == ["Please give a valid email address."]
    reply = await ada.send("ada@example.org")
    assert "I sent a 6-digit code to ada@example.org." in reply.text
    assert await db.code_mails(desk.ctx) == [("email", "ada@example.org")]
    reply = await ada.send(await mailed_code(desk))

    assert "Done! Your places are held until" in reply.text
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ANA)
    assert customer is not None
    assert (customer.name, customer.email) == ("Ada", "ada@example.org")
    (booking,) = await bookings.my_bookings(desk.ctx, customer_id=customer.id)
    assert booking.status == "held"


async def test_an_address_already_known_is_proved_with_a_mailed_code_and_the_booking_goes_on(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    known = await make_customer(desk.ctx, email="ana@example.org", name="Ana Known")
    earlier = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=known.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 1)],
    )
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Standing")
    await ana.press("2")
    await ana.press("Hold until")
    await ana.send("Ana")

    reply = await ana.send("ANA@example.org")
    assert "I sent a 6-digit code to ANA@example.org." in reply.text
    reply = await ana.send("000000" if await mailed_code(desk) != "000000" else "111111")
    assert "That code is not right or has expired" in reply.text
    reply = await ana.send(await mailed_code(desk))

    assert "Done! Your places are held until" in reply.text
    mine = await bookings.my_bookings(desk.ctx, customer_id=known.id)
    assert {b.reference for b in mine} >= {earlier.reference}
    assert len(mine) == 2  # the new hold is the known customer's, next to the box-office one


async def test_start_then_email_and_code_links_the_chat(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    known = await make_customer(desk.ctx, email="ana@example.org", name="Ana Known")
    phone = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=known.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, 2)],
    )
    ana = desk.person(ANA)

    reply = await ana.send("/start")
    assert "Welcome to Guichet!" in reply.text
    reply = await ana.press("Link my bookings")
    assert "Which email address did you book with?" in reply.text
    reply = await ana.send("ana@example.org")
    assert "I sent a 6-digit code to ana@example.org." in reply.text
    reply = await ana.send(await mailed_code(desk))

    assert "this chat is linked to Ana Known (ana@example.org)" in reply.text
    assert phone.reference in reply.text
    reply = await ana.send("/start")
    assert "Welcome back, Ana Known!" in reply.text


async def test_a_bad_deep_link_is_refused_kindly(sqlite_desk: Desk) -> None:
    reply = await sqlite_desk.person(ANA).send("/start Zm9vfDEyMzQ1Njc4OQAAAAAAAAAAAAAAAAAA")
    assert reply.texts[0] == ("This link is not valid or has expired; ask for a new booking email.")


async def test_choosing_seats_section_row_seat_then_holding_exactly_those(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob")
    await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=bob.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.seat_tariff, quantity=2)],
    )
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    reply = await ana.press("Seated")
    assert "Choose my seats" in ana.buttons()

    reply = await ana.press("Choose my seats")  # one section: straight to its rows
    assert "Stalls: choose a row." in reply.text
    reply = await ana.press("Row A")
    assert ana.buttons()[:3] == ["✗1", "✗2", "3"]  # A1 and A2 are Bob's: shown taken
    await ana.press("5")
    reply = await ana.press("6")
    assert "Chosen: Stalls · row A · 5, 6" in reply.text
    reply = await ana.press("« Rows")
    await ana.press("Row B")
    await ana.press("1")
    reply = await ana.press("Done")
    assert "3 × Seated (Stalls)" in reply.text and "Total: CHF\u00a0195.00" in reply.text

    reply = await ana.press("Hold until")

    assert "Stalls · row A · 5, 6" in reply.text and "Stalls · row B · 1" in reply.text


async def test_a_seat_taken_while_choosing_brings_the_customer_back_to_the_seat_map(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    cat = await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob")
    ana = desk.person(ANA)
    await ana.send("/events")
    await ana.press("Wed 23 Dec")
    await ana.press("Seated")
    await ana.press("Choose my seats")
    await ana.press("Row C")
    await ana.press("10")
    await ana.press("Done")
    seats = await seating.seat_map(
        desk.ctx, performance_id=cat.performance_id, tariff_id=cat.seat_tariff
    )
    c10 = next(s.id for s in seats if (s.row, s.number) == ("C", 10))
    await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=bob.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.seat_tariff, seat_ids=(c10,))],
    )

    reply = await ana.press("Hold until")

    assert reply.texts[0].startswith("Sorry, seat C10 has just been taken.")
    assert "Stalls, row C: tap the seats you want." in reply.text  # the row where it happened
    assert len(await db.references(desk.ctx)) == 1
    assert "✗10" in ana.buttons() and "9" in ana.buttons()


async def test_help_language_and_the_command_menus(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    menus = [c for c in desk.fake.calls if c.method == "setMyCommands"]
    assert [m.params.get("language_code") for m in menus] == [None, "fr"]
    assert [c["command"] for c in menus[0].params["commands"]] == [
        "start",
        "events",
        "mybookings",
        "tickets",
        "passes",
        "renew",
        "language",
        "help",
    ]
    assert menus[1].params["commands"][2]["description"] == "Vos réservations et leurs délais"

    ana = desk.person(ANA)
    reply = await ana.send("/help")
    assert "/mybookings – your bookings" in reply.text
    await ana.send("/language")
    reply = await ana.press("Français")
    assert reply.texts == ["Désormais, je vous écrirai en français."]
    reply = await ana.send("/help")
    assert "Voici ce que je peux faire" in reply.text
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ANA)
    assert customer is not None and customer.language == "fr"
    reply = await ana.send("/passes")
    assert "abonnement" in reply.text  # /passes answers in French
