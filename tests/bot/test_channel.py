"""The outbox's Telegram channel: pacing, Telegram's errors, long texts, tickets after payment."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from booking.services import extensions, holds, payments
from booking.services.holds import Line
from bot.channel import RateLimiter, split_text, utf16_len
from tests.bot import db
from tests.bot.conftest import Desk, linked_customer
from tests.builders import STAFF, make_catalog

ANA = 1001


def test_short_texts_go_whole_and_long_ones_are_cut_at_paragraphs() -> None:
    assert split_text("Hello") == ["Hello"]
    text = "A" * 3000 + "\n\n" + "B" * 3000
    assert split_text(text) == ["A" * 3000, "B" * 3000]


def test_texts_beyond_three_messages_are_trimmed_and_emoji_count_twice() -> None:
    parts = split_text(("word " * 1000 + "\n\n") * 4)
    assert len(parts) == 3 and parts[-1].endswith(" …")
    assert all(utf16_len(p) <= 4096 for p in parts)
    emoji = "🎟" * 3000  # 2 UTF-16 units each: 6000 units
    assert [utf16_len(p) for p in split_text(emoji)] == [4096, 1904]


async def test_the_rate_limiter_spaces_one_chat_by_a_second_and_all_chats_by_a_thirtieth() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    limiter = RateLimiter(per_chat=1.0, overall=30.0, clock=lambda: now[0], sleep=sleep)
    for chat in (1, 1, 1, 2, 3):
        await limiter.wait(chat)
    assert slept == [1.0, 1.0, 0.033, 0.033]  # chat 1 at 0, 1, 2 s; chats 2, 3 right after


async def test_concurrent_sends_to_one_chat_take_distinct_turns() -> None:
    wakes: list[float] = []

    async def sleep(seconds: float) -> None:  # time stands still: each waiter wakes at its turn
        wakes.append(round(seconds, 3))

    limiter = RateLimiter(per_chat=1.0, overall=30.0, clock=lambda: 50.0, sleep=sleep)
    await asyncio.gather(*(limiter.wait(9) for _ in range(3)))
    assert sorted(wakes) == [0.033, 0.067, 1.0, 2.0]  # turns at 0, 1 and 2 s


async def test_a_429_is_retried_after_telegrams_retry_after(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    await hold_via_service(desk)
    desk.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", retry_after=30)

    report, _ = await desk.deliver()
    assert (report.sent, report.retried) == (0, 1)
    report, _ = await desk.deliver()
    assert report.sent == 0  # not before 30 seconds
    desk.ctx.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    report, sent = await desk.deliver()
    assert report.sent == 1 and len(sent.of("sendMessage")) == 1


async def hold_via_service(desk: Desk) -> holds.BookingView:
    """A hold made at the desk for the linked customer: it queues a Telegram notice."""
    from booking.services import customers

    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ANA)
    assert customer is not None
    return await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=customer.id,
        performance_id=1,
        lines=[Line(1, quantity=2)],
    )


@pytest.mark.parametrize(
    "status, description",
    [
        (403, "Forbidden: bot was blocked by the user"),
        (400, "Bad Request: chat not found"),
    ],
)
async def test_a_chat_gone_for_good_is_unreachable(
    sqlite_desk: Desk, status: int, description: str
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    customer = await linked_customer(desk.ctx, ANA)
    await hold_via_service(desk)
    desk.fake.fail_next("sendMessage", status, description)

    report, _ = await desk.deliver()

    assert report.dead == 1 and await db.telegram_unreachable(desk.ctx, customer.id)
    assert [(k, c) for k, c, _, _ in await db.outbox(desk.ctx)] == [
        ("booking_held", "telegram"),
        ("booking_held", "email"),
    ]


async def test_a_long_notice_is_split_with_the_subject_in_bold_and_buttons_on_the_last_part(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    booking = await hold_via_service(desk)
    await desk.deliver()
    request = await extensions.request_extension(desk.ctx, actor=STAFF, reference=booking.reference)
    await extensions.deny_extension(
        desk.ctx, actor=STAFF, request_id=request.id, message="We are sorry. " * 400
    )

    report, sent = await desk.deliver()

    first, second = sent.of("sendMessage")
    assert report.sent == 1
    assert first.text is not None and first.text.startswith(
        f"Booking {booking.reference}: your request for more time"
    )
    subject = first.text.split("\n\n")[0]
    assert first.params["entities"] == [{"type": "bold", "offset": 0, "length": len(subject)}]
    assert "entities" not in second.params
    assert first.buttons() == [] and second.buttons()[0][0].startswith("Pay")


async def test_a_payment_at_the_box_office_sends_the_tickets_to_the_chat(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, ANA)
    booking = await hold_via_service(desk)
    await desk.deliver()
    await payments.record_box_office_payment(
        desk.ctx, actor=STAFF, reference=booking.reference, method="card"
    )

    report, sent = await desk.deliver()

    assert report.sent == 1
    (message,) = sent.of("sendMessage")
    assert message.text is not None and "is paid" in message.text
    assert message.buttons() == []  # nothing left to do on a paid booking
    photos = sent.of("sendPhoto")
    assert len(photos) == 2 and all(p.files["photo"].startswith(b"\x89PNG") for p in photos)
