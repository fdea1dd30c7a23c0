"""EXTEND by email never shortens a deadline (issue 10, point 3): an earlier date is refused
in the customer's language, nothing is asked or granted; and when the hold is already due at
the performance start, an EXTEND is refused instead of "approved" with nothing granted."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.context import Context
from booking.services import bookings, extensions
from booking.views import BookingView
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, reply_to, text_of

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
FIRST_DEADLINE = datetime(2026, 11, 30, 23, 59, 59, tzinfo=ZoneInfo("Europe/Zurich"))


async def deadline_of(ctx: Context, booking: BookingView) -> datetime | None:
    return (await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)).deadline


@pytest.mark.parametrize(
    ("language", "body", "expected"),
    [
        ("en", "EXTEND 27/11 please", "That date is not later than your current deadline."),
        ("fr", "PROLONGER 27/11 svp", "Cette date n'est pas après votre délai actuel."),
    ],
)
async def test_extend_to_a_date_before_the_deadline_is_refused(
    ctx: Context, desk: Desk, language: str, body: str, expected: str
) -> None:
    cat = await make_catalog(ctx, auto_extend_days=10)  # even where approval would be automatic
    ana = await make_customer(ctx, language=language)
    booking = await make_held_booking(ctx, cat, ana)
    [held] = await desk.send_out()

    assert dict((await desk.receive(reply_to(held, body))).outcomes) == {"answered": 1}

    [refusal] = await desk.send_out()
    assert expected in text_of(refusal)
    assert await deadline_of(ctx, booking) == FIRST_DEADLINE
    assert await extensions.list_requests(ctx) == []
    assert await extensions.list_requests(ctx, status="approved") == []


async def test_extend_when_the_deadline_is_the_performance_is_refused_not_granted(
    ctx: Context, desk: Desk
) -> None:
    cat = await make_catalog(ctx, starts_in=timedelta(days=5), auto_extend_days=3)
    booking = await make_held_booking(ctx, cat, await make_customer(ctx))
    [held] = await desk.send_out()
    assert await deadline_of(ctx, booking) == cat.starts_at

    assert dict((await desk.receive(reply_to(held, "EXTEND"))).outcomes) == {"answered": 1}

    [answer] = await desk.send_out()  # one answer, and no "more time granted" notice
    assert "The deadline is already the start of the performance" in text_of(answer)
    assert "Good news" not in text_of(answer)
    assert await extensions.list_requests(ctx, status="approved") == []
    assert await deadline_of(ctx, booking) == cat.starts_at
