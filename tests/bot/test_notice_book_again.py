"""Issue 11, point 8: the expiry notice offers to book again, in Telegram a button that opens
the event's dates in the /events wizard, only while the event still has a date on sale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.services import catalog_admin, releases
from tests.bot.conftest import Desk, Recorder, linked_customer
from tests.builders import STAFF, Catalog, make_catalog, make_held_booking
from tests.support.english import english_in

ANA = 3001
SAYS = {
    "en": {"expired": "Booking {ref} has expired", "again": "Book again", "date": "Wed 23 Dec"},
    "fr": {
        "expired": "La réservation {ref} a expiré",
        "again": "Réserver à nouveau",
        "date": "mer. 23 déc.",
    },
}


async def expire(desk: Desk, cat: Catalog, language: str, *, off_sale: bool = False) -> str:
    """Ana's hold passes its deadline; ``off_sale``: the organizer took the date off sale."""
    desk.ctx.channels["email"] = Recorder()  # the email channel is the mail tests' business
    ana = await linked_customer(desk.ctx, ANA, language=language)
    held = await make_held_booking(desk.ctx, cat, ana)
    await desk.deliver()
    if off_sale:
        await catalog_admin.update_performance(
            desk.ctx, actor=STAFF, event_id=cat.event_id, performance_id=cat.performance_id,
            policy=None, on_sale=False,
        )  # fmt: skip
    desk.ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]  # the deadline passed
    assert (await releases.release_due(desk.ctx)).expired == 1
    return held.reference


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_expiry_notice_opens_the_events_dates_to_book_again(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    cat = await make_catalog(desk.ctx)
    reference = await expire(desk, cat, language)

    _, delivered = await desk.deliver()

    (notice,) = delivered.of("sendMessage")
    assert says["expired"].format(ref=reference) in (notice.text or "")
    assert [label for label, _ in notice.buttons()] == [says["again"]]
    ana = desk.person(ANA, language=language)
    reply = await ana.press(says["again"], on=notice)
    assert any(
        says["date"] in label for label, _ in (reply.screen.buttons() if reply.screen else [])
    )
    if language == "fr":
        for text in (*delivered.texts, *reply.texts, *ana.buttons()):
            assert english_in(text, ("Test Concert", "Salle Test", "Ana Test")) == []


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_no_book_again_when_the_event_has_no_date_on_sale(desk: Desk, language: str) -> None:
    says = SAYS[language]
    reference = await expire(desk, await make_catalog(desk.ctx), language, off_sale=True)

    _, delivered = await desk.deliver()

    (notice,) = delivered.of("sendMessage")
    assert says["expired"].format(ref=reference) in (notice.text or "")
    assert notice.buttons() == []
