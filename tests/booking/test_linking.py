"""Linking Telegram to a customer: single-use deep links and one-time codes by email.

The attacks of SPEC §12 each come with a companion that removes the guard (monkeypatching the
small named function in ``booking.services.linking``) and shows the same attack succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import tokens
from booking.context import Context
from booking.errors import BookingError
from booking.services import bookings, customers, linking
from booking.tables.identity import DeepLink
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView, CustomerView
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking


async def mailed_code(ctx: Context) -> str:
    async def work(session):  # type: ignore[no-untyped-def]
        query = select(OutboxMessage).where(OutboxMessage.kind == "link_code")
        rows = (await session.execute(query.order_by(OutboxMessage.id))).scalars().all()
        assert rows and all(r.channel == "email" for r in rows)
        return json.loads(rows[-1].payload)["code"]

    return str(await ctx.db.read(work))


async def test_deep_link_links_the_chat_and_shows_box_office_bookings(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    made_at_desk = await make_held_booking(ctx, cat, ana, channel="console")
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)
    assert len(payload) <= 64 and all(c.isalnum() or c in "-_" for c in payload)
    linked = (
        await linking.link_by_payload(ctx, payload=payload, telegram_user_id=77, chat_id=77)
    ).customer
    assert linked is not None and linked.telegram_user_id == 77
    mine = await bookings.my_bookings(ctx, customer_id=linked.id)
    assert [b.reference for b in mine] == [made_at_desk.reference]


async def test_tampered_or_expired_deep_links_are_refused(ctx: Context) -> None:
    ana = await make_customer(ctx)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    for bad in (forged, "hello", ""):
        with pytest.raises(BookingError) as refused:
            await linking.link_by_payload(ctx, payload=bad, telegram_user_id=1, chat_id=1)
        assert refused.value.code == "link_invalid"
    ctx.clock.advance(linking.LINK_TTL + timedelta(seconds=1))  # type: ignore[attr-defined]
    with pytest.raises(BookingError):
        await linking.link_by_payload(ctx, payload=payload, telegram_user_id=1, chat_id=1)


def test_a_token_for_one_purpose_is_refused_for_another() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = tokens.sign("k" * 32, "tg-link", "42", now + timedelta(days=1))
    assert tokens.verify("k" * 32, "tg-link", token, now=now) == "42"
    assert tokens.verify("k" * 32, "pay", token, now=now) is None
    assert tokens.verify("other-key" * 4, "tg-link", token, now=now) is None


async def test_email_code_links_and_merges_the_telegram_only_record(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, email="ana@example.org")
    desk = await make_held_booking(ctx, cat, ana, channel="console")
    first_contact = await linking.register_telegram_customer(
        ctx, telegram_user_id=5, chat_id=5, name="Ana", language="fr"
    )
    in_bot = await make_held_booking(ctx, cat, first_contact, channel="telegram")
    await linking.send_link_code(
        ctx, email="ANA@example.org ", telegram_user_id=5, chat_id=5, name="Ana", language="fr"
    )
    with pytest.raises(BookingError) as wrong:
        await linking.confirm_link_code(ctx, telegram_user_id=5, chat_id=5, code="000000x")
    assert wrong.value.code == "link_code_invalid"
    linked = (
        await linking.confirm_link_code(
            ctx, telegram_user_id=5, chat_id=5, code=await mailed_code(ctx)
        )
    ).customer
    assert linked is not None and linked.id == ana.id and linked.telegram_user_id == 5
    refs = {b.reference for b in await bookings.my_bookings(ctx, customer_id=ana.id)}
    assert refs == {desk.reference, in_bot.reference}


async def test_codes_stop_after_five_wrong_tries_and_three_per_hour(ctx: Context) -> None:
    await make_customer(ctx, email="ana@example.org")
    await linking.send_link_code(
        ctx, email="ana@example.org", telegram_user_id=9, chat_id=9, name="", language="en"
    )
    code = await mailed_code(ctx)
    for _ in range(linking.MAX_ATTEMPTS):
        with pytest.raises(BookingError):
            await linking.confirm_link_code(ctx, telegram_user_id=9, chat_id=9, code="999999x")
    with pytest.raises(BookingError):  # the right code no longer works
        await linking.confirm_link_code(ctx, telegram_user_id=9, chat_id=9, code=code)
    for _ in range(2):
        await linking.send_link_code(
            ctx, email="ana@example.org", telegram_user_id=9, chat_id=9, name="", language="en"
        )
    with pytest.raises(BookingError) as limited:
        await linking.send_link_code(
            ctx, email="ana@example.org", telegram_user_id=9, chat_id=9, name="", language="en"
        )
    assert limited.value.code == "too_many_codes"


# -- SPEC §12: attacks, each with a companion showing it succeed without its guard -------------

ATTACKER, VICTIM_CHAT = 666, 111


async def outbox_rows(ctx: Context, kind: str) -> list[tuple[str, int, dict[str, object]]]:
    """(channel, customer id, payload) of the outbox rows of ``kind``, oldest first."""

    async def work(session):  # type: ignore[no-untyped-def]
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        rows = (await session.execute(query.order_by(OutboxMessage.id))).scalars().all()
        return [(r.channel, r.customer_id, json.loads(r.payload)) for r in rows]

    return list(await ctx.db.read(work))


async def chat_bookings(ctx: Context, telegram_user_id: int) -> set[str]:
    """What the chat of this Telegram account sees in /mybookings (nothing if not linked)."""
    found = await customers.find_by_telegram(ctx, telegram_user_id=telegram_user_id)
    if found is None:
        return set()
    return {b.reference for b in await bookings.my_bookings(ctx, customer_id=found.id)}


async def typed(ctx: Context, user: int, email: str) -> None:
    await linking.send_link_code(
        ctx, email=email, telegram_user_id=user, chat_id=user, name="Eve", language="en"
    )


async def test_a_typed_address_of_a_customer_attaches_nothing_until_its_code(
    ctx: Context,
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, email="ana@example.org")
    box_office = await make_held_booking(ctx, cat, ana, channel="console")

    await typed(ctx, ATTACKER, "ana@example.org")

    assert await chat_bookings(ctx, ATTACKER) == set()
    assert (await customers.get_customer(ctx, customer_id=ana.id)).telegram_user_id is None
    ((channel, _, payload),) = await outbox_rows(ctx, "link_code")
    assert (channel, payload["to"]) == ("email", "ana@example.org")  # the code goes to Ana
    with pytest.raises(BookingError):  # a guess at the code is no proof either
        await linking.confirm_link_code(
            ctx, telegram_user_id=ATTACKER, chat_id=ATTACKER, code="wrong"
        )
    assert await chat_bookings(ctx, ATTACKER) == set()
    assert box_office.reference in {
        b.reference for b in await bookings.my_bookings(ctx, customer_id=ana.id)
    }


async def test_without_the_typed_address_guard_a_stranger_gets_the_customers_bookings(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, email="ana@example.org")
    box_office = await make_held_booking(ctx, cat, ana, channel="console")
    monkeypatch.setattr(linking, "typed_address_needs_code", lambda chat, key: False)

    await typed(ctx, ATTACKER, "ana@example.org")

    assert await chat_bookings(ctx, ATTACKER) == {box_office.reference}


async def test_bookings_made_later_for_a_typed_address_stay_off_the_chat(ctx: Context) -> None:
    cat = await make_catalog(ctx)
    await typed(ctx, ATTACKER, "new@example.org")

    # The box office (or an import) books for that address afterwards.
    owner, created = await customers.find_or_create_customer(
        ctx, actor=STAFF, email="new@example.org", name="New"
    )
    later = await make_held_booking(ctx, cat, owner, channel="console")

    assert created and owner.telegram_user_id is None
    assert later.reference not in await chat_bookings(ctx, ATTACKER)
    attacker = await customers.find_by_telegram(ctx, telegram_user_id=ATTACKER)
    assert attacker is not None and attacker.email is None


async def test_without_the_guard_bookings_made_later_for_the_address_reach_the_stranger(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = await make_catalog(ctx)
    monkeypatch.setattr(linking, "typed_address_needs_code", lambda chat, key: False)
    await typed(ctx, ATTACKER, "new@example.org")

    owner, created = await customers.find_or_create_customer(
        ctx, actor=STAFF, email="new@example.org", name="New"
    )
    later = await make_held_booking(ctx, cat, owner, channel="console")

    assert not created  # the box office found the stranger's record by the address
    assert later.reference in await chat_bookings(ctx, ATTACKER)


async def test_a_confirmed_code_for_an_unknown_address_makes_it_the_chats_email(
    ctx: Context,
) -> None:
    await typed(ctx, 5, "Zed@Example.org")
    linked = await linking.confirm_link_code(
        ctx, telegram_user_id=5, chat_id=5, code=await mailed_code(ctx)
    )
    assert linked.customer is not None and linked.customer.email == "Zed@Example.org"
    found = await customers.find_by_email(ctx, email="zed@example.org")
    assert found is not None and found.telegram_user_id == 5


async def test_a_deep_link_is_used_once(ctx: Context) -> None:
    ana = await make_customer(ctx)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)
    first = await linking.link_by_payload(
        ctx, payload=payload, telegram_user_id=VICTIM_CHAT, chat_id=VICTIM_CHAT
    )
    assert first.customer is not None and first.customer.id == ana.id

    for user in (VICTIM_CHAT, ATTACKER):  # a replay, by anyone
        with pytest.raises(BookingError) as refused:
            await linking.link_by_payload(ctx, payload=payload, telegram_user_id=user, chat_id=user)
        assert refused.value.code == "link_invalid"
    assert await outbox_rows(ctx, "link_code") == []  # the replay did not even mail a code
    # Each email carries its own link: a fresh one still works.
    again = await linking.deep_link_payload(ctx, customer_id=ana.id)
    assert again != payload
    assert (
        await linking.link_by_payload(
            ctx, payload=again, telegram_user_id=VICTIM_CHAT, chat_id=VICTIM_CHAT
        )
    ).customer is not None


async def test_without_the_replay_guard_a_used_deep_link_acts_again(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = await make_customer(ctx)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)
    await linking.link_by_payload(
        ctx, payload=payload, telegram_user_id=VICTIM_CHAT, chat_id=VICTIM_CHAT
    )

    async def every_time(session: object, link_id: int, now: object) -> bool:
        return True

    monkeypatch.setattr(linking, "claim_link_once", every_time)
    replayed = await linking.link_by_payload(
        ctx, payload=payload, telegram_user_id=ATTACKER, chat_id=ATTACKER
    )
    assert replayed.customer is None  # accepted again: it went on to the takeover step
    assert len(await outbox_rows(ctx, "link_code")) == 1


async def test_a_deep_link_older_than_seven_days_is_refused(ctx: Context) -> None:
    ana = await make_customer(ctx)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)
    ctx.clock.advance(timedelta(days=7, seconds=1))  # type: ignore[attr-defined]
    with pytest.raises(BookingError) as refused:
        await linking.link_by_payload(ctx, payload=payload, telegram_user_id=5, chat_id=5)
    assert refused.value.code == "link_invalid"


async def test_with_the_old_thirty_day_lifetime_an_eight_day_old_link_still_links(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linking, "LINK_TTL", timedelta(days=30))
    ana = await make_customer(ctx)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)
    ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    linked = await linking.link_by_payload(ctx, payload=payload, telegram_user_id=5, chat_id=5)
    assert linked.customer is not None and linked.customer.id == ana.id


async def test_making_links_purges_the_expired_ones(ctx: Context) -> None:
    ana = await make_customer(ctx)
    for _ in range(3):
        await linking.deep_link_payload(ctx, customer_id=ana.id)
    ctx.clock.advance(linking.LINK_TTL + timedelta(seconds=1))  # type: ignore[attr-defined]
    await linking.deep_link_payload(ctx, customer_id=ana.id)

    async def count(session):  # type: ignore[no-untyped-def]
        return len((await session.execute(select(DeepLink))).scalars().all())

    assert await ctx.db.read(count) == 1


async def linked_elsewhere(ctx: Context) -> tuple[CustomerView, BookingView]:
    """Ana, with a box-office booking, linked to her own Telegram account VICTIM_CHAT."""
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx, email="ana@example.org")
    booking = await make_held_booking(ctx, cat, ana, channel="console")
    await customers.link_telegram(
        ctx, actor=STAFF, customer_id=ana.id, telegram_user_id=VICTIM_CHAT, chat_id=VICTIM_CHAT
    )
    return ana, booking


async def test_a_fresh_deep_link_moves_a_linked_customer_only_with_the_mailed_code(
    ctx: Context,
) -> None:
    ana, booking = await linked_elsewhere(ctx)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)

    asked = await linking.link_by_payload(
        ctx, payload=payload, telegram_user_id=ATTACKER, chat_id=ATTACKER
    )

    assert asked.customer is None
    assert await chat_bookings(ctx, ATTACKER) == set()
    assert await chat_bookings(ctx, VICTIM_CHAT) == {booking.reference}
    ((channel, customer_id, payload_sent),) = await outbox_rows(ctx, "link_code")
    assert (channel, customer_id, payload_sent["to"]) == ("email", ana.id, "ana@example.org")
    with pytest.raises(BookingError):  # a guess is no proof
        await linking.confirm_link_code(
            ctx, telegram_user_id=ATTACKER, chat_id=ATTACKER, code="not-it"
        )
    assert await chat_bookings(ctx, VICTIM_CHAT) == {booking.reference}

    moved = await linking.confirm_link_code(
        ctx, telegram_user_id=ATTACKER, chat_id=ATTACKER, code=str(payload_sent["code"])
    )

    assert moved.customer is not None and moved.customer.id == ana.id
    assert moved.moved_from == VICTIM_CHAT
    assert await chat_bookings(ctx, ATTACKER) == {booking.reference}
    assert await chat_bookings(ctx, VICTIM_CHAT) == set()
    told = await outbox_rows(ctx, "telegram_moved")
    assert [(c, p.get("chat_id")) for c, _, p in told] == [
        ("telegram", VICTIM_CHAT),
        ("email", VICTIM_CHAT),
    ]


async def test_without_the_takeover_guard_a_deep_link_moves_the_customer_without_a_code(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, booking = await linked_elsewhere(ctx)
    monkeypatch.setattr(linking, "needs_mailed_code", lambda customer, user: False)
    payload = await linking.deep_link_payload(ctx, customer_id=ana.id)

    taken = await linking.link_by_payload(
        ctx, payload=payload, telegram_user_id=ATTACKER, chat_id=ATTACKER
    )

    assert taken.customer is not None and taken.customer.id == ana.id
    assert await chat_bookings(ctx, ATTACKER) == {booking.reference}
    assert await outbox_rows(ctx, "link_code") == []  # no code was needed


async def test_codes_for_one_address_are_limited_across_telegram_accounts(ctx: Context) -> None:
    await make_customer(ctx, email="ana@example.org")
    for user in (1, 2, 3):
        await typed(ctx, user, "ana@example.org")
    with pytest.raises(BookingError) as limited:
        await typed(ctx, 4, "ana@example.org")  # a fresh account, under its own limit
    assert limited.value.code == "too_many_codes"
    await typed(ctx, 4, "other@example.org")  # the account itself may still ask
    ctx.clock.advance(linking.WINDOW)  # type: ignore[attr-defined]
    await typed(ctx, 5, "ana@example.org")


async def test_without_the_address_guard_every_new_account_gets_a_code(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(session: object, key: str, now: object) -> bool:
        return False

    monkeypatch.setattr(linking, "codes_limited_for_address", never)
    for user in range(1, 11):
        await typed(ctx, user, "ana@example.org")
    assert len(await outbox_rows(ctx, "link_code")) == 10


async def spend_wrong_tries(ctx: Context, users: tuple[int, ...]) -> None:
    for user in users:
        await typed(ctx, user, "ana@example.org")
        for _ in range(linking.MAX_ATTEMPTS):
            with pytest.raises(BookingError):
                await linking.confirm_link_code(
                    ctx, telegram_user_id=user, chat_id=user, code="wrong"
                )


async def test_wrong_tries_for_one_address_are_limited_across_accounts_and_codes(
    ctx: Context,
) -> None:
    ana = await make_customer(ctx, email="ana@example.org")
    await spend_wrong_tries(ctx, (1, 2))  # 10 tries: the address's hour is spent
    await typed(ctx, 3, "ana@example.org")

    with pytest.raises(BookingError) as refused:  # even the right code, from a third account
        await linking.confirm_link_code(
            ctx, telegram_user_id=3, chat_id=3, code=await mailed_code(ctx)
        )

    assert refused.value.code == "link_code_invalid"
    assert (await customers.get_customer(ctx, customer_id=ana.id)).telegram_user_id is None


async def test_without_the_tries_guard_a_third_account_keeps_guessing(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(session: object, key: str, now: object) -> bool:
        return False

    monkeypatch.setattr(linking, "tries_exhausted_for_address", never)
    ana = await make_customer(ctx, email="ana@example.org")
    await spend_wrong_tries(ctx, (1, 2))
    await typed(ctx, 3, "ana@example.org")

    linked = await linking.confirm_link_code(
        ctx, telegram_user_id=3, chat_id=3, code=await mailed_code(ctx)
    )
    assert linked.customer is not None and linked.customer.id == ana.id


async def concurrent_requests(ctx: Context, users: range) -> int:
    """Many accounts ask for a code for the same address at the same moment; returns how many
    codes went out."""
    outcomes = await asyncio.gather(
        *(typed(ctx, user, "ana@example.org") for user in users), return_exceptions=True
    )
    assert all(o is None or isinstance(o, BookingError) for o in outcomes), outcomes
    return len(await outbox_rows(ctx, "link_code"))


async def test_concurrent_requests_for_one_address_mail_at_most_the_limit(ctx: Context) -> None:
    assert await concurrent_requests(ctx, range(1, 13)) == linking.MAX_CODES_PER_ADDRESS


async def test_without_waiting_for_each_other_concurrent_requests_pass_the_limit_on_postgres(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the requests count the same rows at once and all pass; on SQLite the
    write lock serializes them even without the advisory lock."""

    users = range(1, 13)
    arrived: list[object] = []
    everyone = asyncio.Event()

    async def not_waiting(session: object, space: int, value: str) -> None:
        # Each request waits for the others to reach this point (or for a while, should the
        # pool hold fewer connections) instead of for their commits: they then all count the
        # same rows, however busy the machine.
        if ctx.db.sqlite:  # one writer at a time: the others wait for this one's commit
            return
        arrived.append(session)
        if len(arrived) == len(users):
            everyone.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everyone.wait(), timeout=2)

    monkeypatch.setattr(linking, "_one_at_a_time", not_waiting)
    sent = await concurrent_requests(ctx, users)
    if ctx.db.sqlite:
        assert sent == linking.MAX_CODES_PER_ADDRESS
    else:
        assert sent > linking.MAX_CODES_PER_ADDRESS
