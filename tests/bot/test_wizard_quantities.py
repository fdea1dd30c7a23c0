"""Issue 11, point 7: how many places, in the /events wizard.

The number buttons start at the tariff's minimum and never offer a number that cannot be
held (above its maximum or what is left); "Other number…" opens a typed prompt, with Back and
Cancel, that takes any possible number and refuses the others at that step, saying why.
English and French, through the real dispatcher.
"""

from __future__ import annotations

import pytest

from booking.services import bookings
from tests.bot.conftest import Desk, Person, linked_customer
from tests.bot.wizard_setup import Seen, label, make_show

ANA = 1201
T = {
    "en": {
        "other": "Other number…",
        "back": "« Back",
        "cancel": "Cancel",
        "ask": "Please type a number of places from 10 to 20.",
        "below": "This ticket type is booked from 10 places. "
        "Please type a number of places from 10 to 20.",
        "above": "At most 20 places can be booked at once. "
        "Please type a number of places from 10 to 20.",
        "left": "Only 3 places are left. Please type a number of places from 1 to 3.",
        "hold": "Hold until",
        "done": "Done! Your places are held until",
        "quit": "Nothing was changed.",
    },
    "fr": {
        "other": "Autre nombre…",
        "back": "« Retour",
        "cancel": "Annuler",
        "ask": "Tapez un nombre de places de 10 à 20.",
        "below": "Ce tarif se réserve à partir de 10 places. Tapez un nombre de places de 10 à 20.",
        "above": "Au plus 20 places par réservation. Tapez un nombre de places de 10 à 20.",
        "left": "Il ne reste que 3 places. Tapez un nombre de places de 1 à 3.",
        "hold": "Réserver jusqu'au",
        "done": "C'est fait ! Vos places sont réservées jusqu'au",
        "quit": "Rien n'a été modifié.",
    },
}


async def _to_tariff(ana: Person, seen: Seen, day: str, tariff: str) -> None:
    seen.add(await ana.send("/events"))
    seen.add(await ana.press(day))
    seen.add(await ana.press(tariff))


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_group_tariff_from_10_refuses_9_and_takes_10_and_14_typed(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seats=None, capacity=50, max_per_order=20, group_min=10)
    customer = await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen, day = desk.person(ANA, language=lang), Seen(), label(show.starts[0], lang)
    await _to_tariff(ana, seen, day, "Groupe")

    assert ana.buttons()[:7] == ["10", "11", "12", "13", "14", "15", t["other"]]
    assert "Groupe" in ana.screen.text and "Nuit Test" in ana.screen.text  # event kept
    reply = seen.add(await ana.press(t["other"]))
    assert t["ask"] in reply.text
    assert ana.buttons() == [t["back"], t["cancel"]]

    reply = seen.add(await ana.send("9"))
    assert reply.texts == [t["below"]]
    assert ana.buttons() == [t["back"], t["cancel"]]  # still at this step
    reply = seen.add(await ana.send("21"))
    assert reply.texts == [t["above"]]
    reply = seen.add(await ana.send("ten"))
    assert reply.texts == [t["ask"]]
    reply = seen.add(await ana.send("10"))
    assert "10 × Groupe" in reply.text
    reply = seen.add(await ana.press(t["hold"]))
    assert t["done"] in reply.text

    await _to_tariff(ana, seen, day, "Groupe")
    seen.add(await ana.press(t["other"]))
    reply = seen.add(await ana.send("14"))
    assert "14 × Groupe" in reply.text
    reply = seen.add(await ana.press(t["hold"]))
    assert t["done"] in reply.text

    found = await bookings.my_bookings(desk.ctx, customer_id=customer.id)
    assert sorted(len(b.items) for b in found) == [10, 14]
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_buttons_stop_at_what_is_left_and_a_typed_number_above_it_says_so(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seats=None, capacity=3)
    await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_tariff(ana, seen, label(show.starts[0], lang), "Standing")

    numbers = [b for b in ana.buttons() if b.isdigit()]
    assert numbers == ["1", "2", "3"]
    assert t["other"] not in ana.buttons()  # every possible number has its button
    # A typed prompt reached anyway (an older screen): the number above what is left.
    seen.add(await ana.press_data("w:typeqty:0"))
    reply = seen.add(await ana.send("4"))
    assert reply.texts == [t["left"]]
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_tariff_maximum_caps_the_buttons(sqlite_desk: Desk, lang: str) -> None:
    desk = sqlite_desk
    show = await make_show(desk.ctx, capacity=50, seated_max=2)
    await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_tariff(ana, seen, label(show.starts[0], lang), "Seated")
    assert [b for b in ana.buttons() if b.isdigit()] == ["1", "2"]


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_back_and_cancel_under_the_typed_number(sqlite_desk: Desk, lang: str) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seats=None, capacity=50, group_min=10)
    await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_tariff(ana, seen, label(show.starts[0], lang), "Groupe")
    seen.add(await ana.press(t["other"]))

    seen.add(await ana.press(t["back"]))
    assert ana.buttons()[0] == "10"  # the number buttons again
    seen.add(await ana.press(t["other"]))
    reply = seen.add(await ana.press(t["cancel"]))
    assert t["quit"] in reply.text
    reply = seen.add(await ana.send("12"))  # no longer a number of places
    assert "12 × Groupe" not in reply.text
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_forged_or_old_number_button_below_the_minimum_goes_back_to_the_choice(
    sqlite_desk: Desk, lang: str
) -> None:
    desk = sqlite_desk
    show = await make_show(desk.ctx, seats=None, capacity=50, group_min=10)
    await linked_customer(desk.ctx, ANA, language=lang)
    ana, seen = desk.person(ANA, language=lang), Seen()
    await _to_tariff(ana, seen, label(show.starts[0], lang), "Groupe")

    reply = seen.add(await ana.press_data("w:qty:2"))

    assert "2 × Groupe" not in reply.text
    assert ana.buttons()[0] == "10"
    assert lang == "en" or seen.english() == []
