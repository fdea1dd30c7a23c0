"""Who a chat may act for (SPEC §12), through the real dispatcher and the fake Bot API.

Each attack comes with a companion that removes its guard (monkeypatching the small named
function in ``booking.services.linking`` or ``bot.channel``) and shows the same attack succeed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.context import Context
from booking.outbox import Unreachable, deliver_due
from booking.services import customers, holds, linking
from booking.services.holds import Line
from booking.views import BookingView, CustomerView, OutboxView
from bot import channel as telegram_channel
from tests.bot import db
from tests.bot.conftest import Desk, Person, Recorder, deep_link, linked_customer
from tests.builders import STAFF, make_catalog, make_customer

VICTIM, EVE, ZED = 1001, 6660, 6661
NOT_VALID = "This link is not valid or has expired; ask for a new booking email."
MOVE_PROMPT = "These bookings are linked to another Telegram account."
MOVED_NOTICE = "Your bookings were linked to another Telegram account"
NO_BOOKINGS = "You have no bookings yet."


@pytest.fixture
def ctx(ctx: Context) -> Context:
    """Email is configured here, so codes can be mailed (tests/bot/test_email_off.py: not)."""
    ctx.channels["email"] = Recorder()
    return ctx


@pytest.fixture
def sqlite_ctx(sqlite_ctx: Context) -> Context:
    sqlite_ctx.channels["email"] = Recorder()
    return sqlite_ctx


async def box_office_customer(ctx: Context) -> tuple[CustomerView, BookingView]:
    """Ana, who booked at the box office and never used the bot."""
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, email="ana@example.org", name="Ana Test")
    booking = await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=2)],
    )
    return ana, booking


async def type_address(person: Person, address: str) -> str:
    await person.send("/link")
    reply = await person.send(address)
    return reply.text.replace(address, "<address>")


async def never(*args: object) -> bool:
    return False


async def always(*args: object) -> bool:
    return True


# -- an address typed in the bot --------------------------------------------------------------


async def test_a_typed_address_of_a_customer_shows_none_of_it_and_reads_like_an_unknown_one(
    desk: Desk,
) -> None:
    _, booking = await box_office_customer(desk.ctx)
    eve, zed = desk.person(EVE), desk.person(ZED)

    known = await type_address(eve, "ana@example.org")
    unknown = await type_address(zed, "zed@example.org")

    assert known == unknown
    assert known.startswith("I sent a 6-digit code to <address>.")
    assert await db.code_mails(desk.ctx) == [
        ("email", "ana@example.org"),  # a code goes to the address itself, known or not
        ("email", "zed@example.org"),
    ]
    reply = await eve.send("/mybookings")
    assert NO_BOOKINGS in reply.text and booking.reference not in reply.text
    assert "Welcome to Guichet!" in (await eve.send("/start")).text  # not linked to Ana


async def test_without_the_typed_address_guard_a_stranger_sees_the_box_office_booking(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, booking = await box_office_customer(desk.ctx)
    monkeypatch.setattr(linking, "typed_address_needs_code", lambda chat, key: False)
    eve = desk.person(EVE)

    await type_address(eve, "ana@example.org")

    assert booking.reference in (await eve.send("/mybookings")).text


async def hold_and_give_address(person: Person, address: str) -> str:
    """The first booking of a new chat: /events → … → Hold → name → the address."""
    await person.send("/events")
    await person.press("Wed 23 Dec")
    await person.press("Standing")
    await person.press("1")
    await person.press("Hold until")
    await person.press("Use “")
    reply = await person.send(address)
    return reply.text.replace(address, "<address>")


async def test_the_checkout_email_step_answers_alike_and_attaches_nothing(desk: Desk) -> None:
    _, booking = await box_office_customer(desk.ctx)
    eve, zed = desk.person(EVE, first_name="Eve"), desk.person(ZED, first_name="Eve")

    known = await hold_and_give_address(eve, "ana@example.org")
    unknown = await hold_and_give_address(zed, "zed@example.org")

    assert known == unknown
    assert "I sent a 6-digit code to <address>." in known
    assert booking.reference not in (await eve.send("/mybookings")).text
    # No hold was made for Ana either: the booking waits for the code.
    assert await db.references(desk.ctx) == [booking.reference]


# -- deep links -------------------------------------------------------------------------------


async def test_a_deep_link_is_refused_the_second_time(desk: Desk) -> None:
    ana, _ = await box_office_customer(desk.ctx)
    payload = await deep_link(desk.ctx, ana)
    reply = await desk.person(VICTIM).send(f"/start {payload}")
    assert "this chat is linked to Ana Test" in reply.text

    replay = await desk.person(EVE).send(f"/start {payload}")

    assert replay.texts == [NOT_VALID]
    assert await db.code_mails(desk.ctx) == []


async def test_without_the_replay_guard_a_used_deep_link_is_accepted_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, _ = await box_office_customer(desk.ctx)
    payload = await deep_link(desk.ctx, ana)
    await desk.person(VICTIM).send(f"/start {payload}")
    monkeypatch.setattr(linking, "claim_link_once", always)

    replay = await desk.person(EVE).send(f"/start {payload}")

    assert NOT_VALID not in replay.text and MOVE_PROMPT in replay.text


async def test_a_deep_link_older_than_seven_days_is_refused(desk: Desk) -> None:
    ana, _ = await box_office_customer(desk.ctx)
    payload = await deep_link(desk.ctx, ana)
    desk.ctx.clock.advance(timedelta(days=7, minutes=1))  # type: ignore[attr-defined]

    reply = await desk.person(VICTIM).send(f"/start {payload}")

    assert reply.texts == [NOT_VALID]


async def test_with_the_old_thirty_day_lifetime_an_eight_day_old_link_links(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linking, "LINK_TTL", timedelta(days=30))
    ana, _ = await box_office_customer(desk.ctx)
    payload = await deep_link(desk.ctx, ana)
    desk.ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]

    reply = await desk.person(VICTIM).send(f"/start {payload}")

    assert "this chat is linked to Ana Test" in reply.text


# -- taking over a linked customer ------------------------------------------------------------


async def test_a_linked_customer_moves_to_another_account_only_with_the_mailed_code(
    desk: Desk,
) -> None:
    cat = await make_catalog(desk.ctx)
    ana = await linked_customer(desk.ctx, VICTIM)
    booking = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=1)],
    )
    victim, eve = desk.person(VICTIM), desk.person(EVE)

    reply = await eve.send(f"/start {await deep_link(desk.ctx, ana)}")

    assert MOVE_PROMPT in reply.text and "ana@example.org" not in reply.text
    assert await db.code_mails(desk.ctx) == [("email", "ana@example.org")]
    eve_record = await customers.find_by_telegram(desk.ctx, telegram_user_id=EVE)
    assert eve_record is not None and eve_record.id != ana.id  # her own, Telegram-only
    reply = await eve.send("000000" if await db.mailed_code(desk.ctx) != "000000" else "1")
    assert "That code is not right or has expired" in reply.text
    assert booking.reference in (await victim.send("/mybookings")).text

    reply = await eve.send(await db.mailed_code(desk.ctx))

    assert "this chat is linked to Ana Test (ana@example.org)" in reply.text
    assert booking.reference in reply.text
    _, sent = await desk.deliver()
    told = [c for c in sent.of("sendMessage") if c.params["chat_id"] == VICTIM]
    assert len(told) == 1 and (told[0].text or "").startswith(MOVED_NOTICE)
    assert NO_BOOKINGS in (await victim.send("/mybookings")).text


async def test_without_the_takeover_guard_a_fresh_deep_link_moves_the_customer_without_a_code(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = await make_catalog(desk.ctx)
    ana = await linked_customer(desk.ctx, VICTIM)
    booking = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=1)],
    )
    monkeypatch.setattr(linking, "needs_mailed_code", lambda customer, user: False)

    reply = await desk.person(EVE).send(f"/start {await deep_link(desk.ctx, ana)}")

    assert "this chat is linked to Ana Test" in reply.text and booking.reference in reply.text
    assert await db.code_mails(desk.ctx) == []  # no proof asked of the new account
    assert NO_BOOKINGS in (await desk.person(VICTIM).send("/mybookings")).text


# -- code attempts per address ----------------------------------------------------------------


async def test_codes_for_one_address_are_limited_across_telegram_accounts(desk: Desk) -> None:
    await box_office_customer(desk.ctx)
    answers = [
        await type_address(desk.person(EVE + n), "ana@example.org")
        for n in range(linking.MAX_CODES_PER_ADDRESS + 1)
    ]

    assert all(a.startswith("I sent a 6-digit code") for a in answers[:-1])
    assert answers[-1] == "Too many codes were asked for; please wait an hour and try again."
    assert len(await db.code_mails(desk.ctx)) == linking.MAX_CODES_PER_ADDRESS


async def test_without_the_address_guard_each_new_account_mails_another_code(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await box_office_customer(desk.ctx)
    monkeypatch.setattr(linking, "codes_limited_for_address", never)
    answers = [
        await type_address(desk.person(EVE + n), "ana@example.org")
        for n in range(linking.MAX_CODES_PER_ADDRESS + 3)
    ]

    assert all(a.startswith("I sent a 6-digit code") for a in answers)


async def test_wrong_tries_for_one_address_are_limited_across_telegram_accounts(
    desk: Desk,
) -> None:
    _, booking = await box_office_customer(desk.ctx)
    for n in range(2):  # two accounts spend the address's tries of this hour
        guesser = desk.person(EVE + n)
        await type_address(guesser, "ana@example.org")
        for _ in range(linking.MAX_ATTEMPTS):
            await guesser.send("999999x")
    third = desk.person(EVE + 2)
    await type_address(third, "ana@example.org")

    reply = await third.send(await db.mailed_code(desk.ctx))  # even the right code

    assert "That code is not right or has expired" in reply.text
    assert booking.reference not in (await third.send("/mybookings")).text


async def test_without_the_tries_guard_a_third_account_may_go_on_guessing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, booking = await box_office_customer(desk.ctx)
    monkeypatch.setattr(linking, "tries_exhausted_for_address", never)
    for n in range(2):
        guesser = desk.person(EVE + n)
        await type_address(guesser, "ana@example.org")
        for _ in range(linking.MAX_ATTEMPTS):
            await guesser.send("999999x")
    third = desk.person(EVE + 2)
    await type_address(third, "ana@example.org")

    reply = await third.send(await db.mailed_code(desk.ctx))

    assert "this chat is linked to Ana Test" in reply.text and booking.reference in reply.text


# -- a code never shows in a chat -------------------------------------------------------------


class Bouncing:
    """An email channel whose every address is unreachable."""

    async def deliver(self, message: OutboxView) -> None:
        raise Unreachable("550 no such user")


async def code_mail_bounces_back_to_telegram(desk: Desk) -> str:
    """Eve types an address; its code mail is unreachable, so the outbox falls back to the
    other channel of the record it was queued for: Eve's chat. Returns the code."""
    await make_catalog(desk.ctx)
    await type_address(desk.person(EVE), "nobody@example.org")
    desk.ctx.channels["email"] = Bouncing()
    await deliver_due(desk.ctx)
    del desk.ctx.channels["email"]
    fallback = [(k, c) for k, c, s, _ in await db.outbox(desk.ctx) if s == "pending"]
    assert fallback == [("link_code", "telegram")]
    return await db.mailed_code(desk.ctx)


async def test_a_code_mail_that_falls_back_to_telegram_is_never_shown_in_the_chat(
    sqlite_desk: Desk,
) -> None:
    code = await code_mail_bounces_back_to_telegram(sqlite_desk)

    _, sent = await sqlite_desk.deliver()

    assert not any(code in (c.text or "") for c in sent.calls)


async def test_without_the_email_only_rule_the_code_would_reach_the_chat(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_channel, "EMAIL_ONLY", frozenset())
    code = await code_mail_bounces_back_to_telegram(sqlite_desk)

    _, sent = await sqlite_desk.deliver()

    assert any(code in (c.text or "") for c in sent.of("sendMessage"))
