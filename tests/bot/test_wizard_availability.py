"""Issue 11, point 6: availability in the /events wizard.

"N places left" under the event's threshold, sold-out dates shown and marked (a press says
so), and a refusal for too many places that says how many are left and leads to a choice of
a smaller number. English and French, through the real dispatcher.
"""

from __future__ import annotations

import pytest

from booking.services import bookings
from tests.bot import db
from tests.bot.conftest import Desk, linked_customer
from tests.bot.wizard_setup import Seen, label, make_show, take

ANA = 1101
WORDS = {
    "en": {"sold": "sold out", "9": "9 places left", "1": "1 place left"},
    "fr": {"sold": "complet", "9": "9 places restantes", "1": "1 place restante"},
}
SOLD_OUT_ALERT = {
    "en": "This date is sold out. Please choose another one.",
    "fr": "Cette date est complète. Choisissez-en une autre.",
}


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_dates_show_what_is_left_and_sold_out_dates_are_marked(
    sqlite_desk: Desk, lang: str
) -> None:
    desk = sqlite_desk
    show = await make_show(desk.ctx, dates=4, capacity=20, seats=None, show_remaining_below=10)
    await take(desk.ctx, show.dates[0], show.standing, 20)  # sold out
    await take(desk.ctx, show.dates[1], show.standing, 11)  # 9 left: under the threshold
    await take(desk.ctx, show.dates[2], show.standing, 19)  # 1 left
    await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen, words = desk.person(ANA, language=lang), Seen(), WORDS[lang]

    seen.add(await ana.send("/events"))

    first, nine, one, full = (label(at, lang) for at in show.starts)
    assert ana.buttons() == [
        f"{first} · {words['sold']}",
        f"{nine} · {words['9']}",
        f"{one} · {words['1']}",
        full,  # 20 left, not under 10: nothing said
    ]
    reply = seen.add(await ana.press(first))
    assert reply.alerts == [SOLD_OUT_ALERT[lang]]
    assert reply.of("answerCallbackQuery")[0].params.get("show_alert") is True
    sent = [c.method for c in reply.calls if c.method != "getUpdates"]
    assert sent == ["answerCallbackQuery"]  # the card stays as it is

    reply = seen.add(await ana.press(nine))
    assert f"· {words['9']}" in reply.text  # the ticket type's line says it too
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_no_note_when_the_event_sets_no_threshold(sqlite_desk: Desk, lang: str) -> None:
    desk = sqlite_desk
    show = await make_show(desk.ctx, capacity=20, seats=None, show_remaining_below=0)
    await take(desk.ctx, show.dates[0], show.standing, 19)
    ana = desk.person(ANA, language=lang)
    await ana.send("/events")
    assert ana.buttons() == [label(show.starts[0], lang)]


LEFT = {
    "en": ("Sorry, only 3 remaining for this date.", "3 × Standing"),
    "fr": ("Désolé, il n'en reste que 3 pour cette date.", "3 × Standing"),
}


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_too_many_places_says_how_many_are_left_and_offers_a_smaller_number(
    sqlite_desk: Desk, lang: str
) -> None:
    desk = sqlite_desk
    show = await make_show(desk.ctx, capacity=20, seats=None)
    customer = await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen = desk.person(ANA, language=lang), Seen()
    seen.add(await ana.send("/events"))
    seen.add(await ana.press(label(show.starts[0], lang)))
    seen.add(await ana.press("Standing"))
    seen.add(await ana.press("5"))
    await take(desk.ctx, show.dates[0], show.standing, 17)  # meanwhile: 3 left

    reply = seen.add(await ana.press_data(ana.screen.buttons()[0][1]))  # Hold until …

    refusal, booked = LEFT[lang]
    assert refusal in reply.text
    assert ana.buttons()[:3] == ["1", "2", "3"] and "4" not in ana.buttons()
    reply = seen.add(await ana.press("3"))
    assert booked in reply.text
    seen.add(await ana.press_data(ana.screen.buttons()[0][1]))
    (booking,) = await bookings.my_bookings(desk.ctx, customer_id=customer.id)
    assert len(booking.items) == 3
    assert await db.remaining(desk.ctx, show.dates[0], await _floor(desk, show)) == 0
    assert lang == "en" or seen.english() == []


async def _floor(desk: Desk, show: object) -> int:
    from sqlalchemy import select

    from booking.tables.catalog import Area

    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.execute(select(Area.id).where(Area.name == "Floor"))).scalar_one()

    return int(await desk.ctx.db.read(work))
