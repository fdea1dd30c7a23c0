"""Issue 11, point 8: /mybookings and the booking card show the places (how many, and the seats
briefly), the amount, and for an organization's bookings who made each one. English and
French, through the real dispatcher."""

from __future__ import annotations

import re

import pytest

from booking.rules.formatting import money
from booking.services import customers, holds
from booking.services.holds import Line
from tests.bot.conftest import Desk, linked_customer
from tests.builders import STAFF, as_customer, make_catalog
from tests.support.english import english_in

ANA, SOLO = 1001, 1002
M = {lang: {n: money(n, "CHF", lang) for n in (13000, 13500)} for lang in ("en", "fr")}
SAYS = {
    "en": {
        "seated": f"2 places · {M['en'][13000]} · held, not paid yet · pay by Mon 30 Nov",
        "standing": f"3 places · {M['en'][13500]} · held, not paid yet",
        "seats": "Stalls · row A · 1, 2",
        "by_bo": "Booked by Bo Keller",
        "by_ana": "Booked by Ana Test",
        "booked_by": "Booked by",
        "card_seats": "2 × Seated\n  · Stalls · row A · 1, 2",
        "total": f"Total: {M['en'][13500]}",
    },
    "fr": {
        "seated": f"2 places · {M['fr'][13000]} · réservée, pas encore payée · à payer avant",
        "standing": f"3 places · {M['fr'][13500]} · réservée, pas encore payée",
        "seats": "Stalls · rang A · 1, 2",
        "by_bo": "Réservée par Bo Keller",
        "by_ana": "Réservée par Ana Test",
        "booked_by": "Réservée par",
        "card_seats": "2 × Seated\n  · Stalls · rang A · 1, 2",
        "total": f"Total : {M['fr'][13500]}",
    },
}
DATA = ("Ana Test", "Bo Keller", "Solo Test", "Acme SA", "Test Concert", "Standing", "Seated")


def block(listing: str, reference: str) -> str:
    """The lines of one booking in the /mybookings list: from its reference to the next one."""
    start = listing.index(reference)
    following = re.search(r"\n\d+\. ", listing[start:])
    return listing[start : start + following.start()] if following else listing[start:]


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_mybookings_shows_places_amounts_seats_and_who_booked(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    cat = await make_catalog(desk.ctx)
    org = await customers.create_organization(desk.ctx, actor=STAFF, name="Acme SA")
    ana = await linked_customer(
        desk.ctx, ANA, language=language, organization_id=org, customer_type="b2b"
    )
    bo = await linked_customer(
        desk.ctx, 2002, email="bo@acme.example", name="Bo Keller", organization_id=org,
        customer_type="b2b",
    )  # fmt: skip
    seated = await holds.hold(
        desk.ctx, actor=as_customer(ana), customer_id=ana.id,
        performance_id=cat.performance_id, lines=[Line(cat.seat_tariff, 2)],
    )  # fmt: skip
    standing = await holds.hold(
        desk.ctx, actor=as_customer(bo), customer_id=bo.id,
        performance_id=cat.performance_id, lines=[Line(cat.ga_tariff, 3)],
    )  # fmt: skip
    chat = desk.person(ANA, language=language)

    listed = await chat.send("/mybookings")

    text = listed.text
    mine, theirs = block(text, seated.reference), block(text, standing.reference)
    assert says["seated"] in mine and says["seats"] in mine and says["booked_by"] in mine
    assert says["standing"] in theirs and says["by_bo"] in theirs
    card = await chat.press(standing.reference)
    assert says["by_bo"] in card.text and says["total"] in card.text
    own = await chat.send(seated.reference)  # a typed reference opens its card too
    assert says["card_seats"] in own.text and says["by_ana"] in own.text
    if language == "fr":
        for shown in (text, card.text, own.text):
            assert english_in(shown, DATA) == [], shown


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_booking_of_ones_own_names_nobody(desk: Desk, language: str) -> None:
    """ "Booked by" belongs to an organization's shared list; a person's own bookings are theirs."""
    cat = await make_catalog(desk.ctx)
    solo = await linked_customer(
        desk.ctx, SOLO, email="solo@example.org", name="Solo Test", language=language
    )
    booking = await holds.hold(
        desk.ctx, actor=as_customer(solo), customer_id=solo.id,
        performance_id=cat.performance_id, lines=[Line(cat.ga_tariff, 3)],
    )  # fmt: skip
    chat = desk.person(SOLO, language=language)

    listed = await chat.send("/mybookings")
    card = await chat.press(booking.reference)

    assert SAYS[language]["standing"] in listed.text
    assert SAYS[language]["booked_by"] not in listed.text + card.text
