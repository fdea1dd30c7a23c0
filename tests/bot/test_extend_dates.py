"""Asking for more time in the bot never shortens a deadline (issue 10, point 3): an earlier
date is refused at the date step, in the customer's language, and nothing is asked or told;
a hold already due at the performance start has no more time to give."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.services import bookings, extensions, releases
from booking.views import BookingView
from tests.bot.conftest import Desk, linked_customer
from tests.builders import STAFF, make_catalog, make_held_booking

ANA = 1001
ZURICH = ZoneInfo("Europe/Zurich")
LATER = datetime(2026, 12, 15, 23, 59, 59, tzinfo=ZURICH)


async def deadline_of(desk: Desk, booking: BookingView) -> datetime | None:
    return (await bookings.get_booking(desk.ctx, actor=STAFF, reference=booking.reference)).deadline


async def more_time_told(desk: Desk) -> list[str]:
    _report, sent = await desk.deliver()
    said = ("Good news", "moved the deadline", "Bonne nouvelle", "déplacé le délai")
    return [t for t in sent.texts if any(words in t for words in said)]


async def test_typing_a_date_before_the_current_deadline_is_refused_at_once(desk: Desk) -> None:
    cat = await make_catalog(desk.ctx)
    ana = await linked_customer(desk.ctx, ANA)
    booking = await make_held_booking(desk.ctx, cat, ana)
    await releases.bulk_extend(desk.ctx, actor=STAFF, references=[booking.reference], until=LATER)
    assert len(await more_time_told(desk)) == 1  # the organizer's; what follows tells nothing
    chat = desk.person(ANA)
    await chat.send("/mybookings")
    await chat.press(booking.reference)
    reply = await chat.press("Ask for more time")
    assert chat.buttons()[:2] == ["Until Fri 18 Dec 2026", "Until Tue 22 Dec 2026"]  # from 15 Dec
    await chat.press("Another date…")

    reply = await chat.send("03.12.2026")

    assert "That date is not later than your current deadline." in reply.text
    assert "Please type another date." in reply.text
    assert await deadline_of(desk, booking) == LATER
    assert await extensions.list_requests(desk.ctx) == []
    assert await more_time_told(desk) == []
    reply = await chat.send("18.12.2026")  # still at the date step: a later date goes on
    assert "Why do you need it?" in reply.text


async def test_a_hold_due_at_the_performance_has_no_more_time_to_give_in_french(
    desk: Desk,
) -> None:
    cat = await make_catalog(desk.ctx, starts_in=timedelta(days=5), auto_extend_days=3)
    ana = await linked_customer(desk.ctx, ANA, language="fr")
    booking = await make_held_booking(desk.ctx, cat, ana)
    assert await deadline_of(desk, booking) == cat.starts_at
    chat = desk.person(ANA, language="fr")
    await chat.send("/mybookings")
    await chat.press(booking.reference)
    assert not any("Demander un délai" in b for b in chat.buttons())  # issue 11: not offered

    reply = await chat.press_data(f"b:extend:{booking.reference}")  # a button from before

    assert "Le délai est déjà le début de la représentation" in reply.text
    assert "Une autre date…" not in chat.buttons()
    assert await extensions.list_requests(desk.ctx) == []
    assert await more_time_told(desk) == []
