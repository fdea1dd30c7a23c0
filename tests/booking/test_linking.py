"""Linking Telegram to a customer: signed deep links and one-time codes by email."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking import tokens
from booking.context import Context
from booking.errors import BookingError
from booking.services import bookings, linking
from booking.tables.outbox import OutboxMessage
from tests.builders import make_catalog, make_customer, make_held_booking


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
    linked = await linking.link_by_payload(ctx, payload=payload, telegram_user_id=77, chat_id=77)
    assert linked.telegram_user_id == 77
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
    linked = await linking.confirm_link_code(
        ctx, telegram_user_id=5, chat_id=5, code=await mailed_code(ctx)
    )
    assert linked.id == ana.id and linked.telegram_user_id == 5
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
