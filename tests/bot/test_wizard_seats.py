"""Issue 11, points 10 and 11: numbered seats in the /events wizard.

Seat lists read "Stalls · row A · 5, 6", one line per row. Taken seats stay on the row,
marked "✗", and pressing one says it is taken. A seat taken between the choice and the hold
leaves the choice alone: the customer's other seats are kept, and the message names it.
English and French, through the real dispatcher.
"""

from __future__ import annotations

import pytest

from booking.services import bookings, holds, seating
from tests.bot import db
from tests.bot.conftest import Desk, Person, linked_customer
from tests.bot.wizard_setup import Seen, Show, label, make_show
from tests.builders import STAFF, make_customer, seat_rows

ANA = 1401
T = {
    "en": {
        "pick": "Choose my seats", "row": "Row {}", "rows": "« Rows", "done": "Done",
        "hold": "Hold until", "seat": "Stalls · row {} · {}",
        "taken": "Stalls · row A · 1 is taken; choose another seat.",
        "chosen": "Chosen: Stalls · row A · 5, 6; Stalls · row B · 1",
        "sorry": "Sorry, seat C10 has just been taken.",
        "kept": "Stalls · row C · 10 is no longer in your choice; your other seats are kept.",
        "kept_chosen": "Chosen: Stalls · row C · 11, 12",
        "at_most": "At most 2 places can be booked at once.",
    },
    "fr": {
        "pick": "Choisir mes places", "row": "Rang {}", "rows": "« Rangs", "done": "Terminé",
        "hold": "Réserver jusqu'au", "seat": "Stalls · rang {} · {}",
        "taken": "Stalls · rang A · 1 est déjà prise ; choisissez une autre place.",
        "chosen": "Choisies : Stalls · rang A · 5, 6; Stalls · rang B · 1",
        "sorry": "Désolé, la place C10 vient d'être prise.",
        "kept": "Stalls · rang C · 10 n'est plus dans votre choix ; vos autres places sont "
        "gardées.",
        "kept_chosen": "Choisies : Stalls · rang C · 11, 12",
        "at_most": "Au plus 2 places par réservation.",
    },
}  # fmt: skip


async def _to_rows(ana: Person, seen: Seen, show: Show, lang: str) -> None:
    seen.add(await ana.send("/events"))
    seen.add(await ana.press(label(show.starts[0], lang)))
    seen.add(await ana.press("Seated"))
    seen.add(await ana.press(T[lang]["pick"]))  # one section: straight to its rows


async def _seat_id(desk: Desk, show: Show, row: str, number: int) -> int:
    seats = await seating.seat_map(desk.ctx, performance_id=show.dates[0], tariff_id=show.seated)
    return next(s.id for s in seats if (s.row, s.number) == (row, number))


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_taken_seats_are_shown_taken_and_the_lists_are_grouped_by_row(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx)
    customer = await linked_customer(desk.ctx, ANA, language=lang)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob")
    await holds.hold(  # the best two: A1 and A2
        desk.ctx, actor=STAFF, customer_id=bob.id, performance_id=show.dates[0],
        lines=[holds.Line(show.seated, quantity=2)],
    )  # fmt: skip
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_rows(ana, seen, show, lang)
    seen.add(await ana.press(t["row"].format("A")))

    assert ana.buttons()[:4] == ["✗1", "✗2", "3", "4"]
    row_a = ana.screen
    reply = seen.add(await ana.press("✗1"))
    assert reply.alerts == [t["taken"]]
    assert not reply.of("editMessageText")  # nothing changes: the seat is Bob's
    seen.add(await ana.press("5", on=row_a))
    reply = seen.add(await ana.press("6"))
    assert ana.buttons()[4:6] == ["✓5", "✓6"]
    seen.add(await ana.press(t["rows"]))
    seen.add(await ana.press(t["row"].format("B")))
    reply = seen.add(await ana.press("1"))
    assert t["chosen"] in reply.text
    reply = seen.add(await ana.press(t["done"]))
    lines = reply.text.split("\n")
    assert "  · " + t["seat"].format("A", "5, 6") in lines
    assert "  · " + t["seat"].format("B", "1") in lines
    seen.add(await ana.press(t["hold"]))

    (booking,) = await bookings.my_bookings(desk.ctx, customer_id=customer.id)
    assert sorted((i.seat.row, i.seat.number) for i in booking.items if i.seat) == [
        ("A", 5), ("A", 6), ("B", 1),
    ]  # fmt: skip
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_seat_taken_meanwhile_leaves_the_others_chosen(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seats=seat_rows(per_row=12))
    customer = await linked_customer(desk.ctx, ANA, language=lang)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob")
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_rows(ana, seen, show, lang)
    seen.add(await ana.press(t["row"].format("C")))
    for number in ("10", "11", "12"):
        seen.add(await ana.press(number))
    seen.add(await ana.press(t["done"]))
    c10 = await _seat_id(desk, show, "C", 10)
    await holds.hold(
        desk.ctx, actor=STAFF, customer_id=bob.id, performance_id=show.dates[0],
        lines=[holds.Line(show.seated, seat_ids=(c10,))],
    )  # fmt: skip

    reply = seen.add(await ana.press(t["hold"]))

    assert reply.texts[0].startswith(t["sorry"])
    assert t["kept"] in reply.text and t["kept_chosen"] in reply.text
    assert ana.buttons()[9:12] == ["✗10", "✓11", "✓12"]  # row C, where it happened
    assert len(await db.references(desk.ctx)) == 1  # Bob's only
    reply = seen.add(await ana.press(t["done"]))
    assert "2 × Seated" in reply.text
    seen.add(await ana.press(t["hold"]))
    (booking,) = await bookings.my_bookings(desk.ctx, customer_id=customer.id)
    assert sorted(i.seat.number for i in booking.items if i.seat) == [11, 12]
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_no_more_seats_than_the_tariff_allows(sqlite_desk: Desk, lang: str) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seated_max=2)
    await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_rows(ana, seen, show, lang)
    seen.add(await ana.press(t["row"].format("A")))
    seen.add(await ana.press("1"))
    seen.add(await ana.press("2"))

    reply = seen.add(await ana.press("3"))

    assert reply.alerts == [t["at_most"]]
    assert ana.buttons()[:3] == ["✓1", "✓2", "3"]
    assert lang == "en" or seen.english() == []
