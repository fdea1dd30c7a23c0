"""Issue 11, points 1, 9 and 13 on the booking card: "Cancel booking" only where a customer may
cancel (the rule the service applies, booking.rules.cancelling), with what can be done instead;
the typed "other" reason has Back and Cancel, and a reason over REASON_MAX is refused at its
step with its length, never cut. English and French, through the real dispatcher."""

from __future__ import annotations

import pytest

from booking.errors import BookingError
from booking.rules import states
from booking.rules.cancelling import customer_may_cancel
from booking.rules.limits import REASON_MAX
from booking.services import bookings, cancellations, customers, payments
from tests.bot.conftest import Desk, Person, linked_customer
from tests.builders import STAFF, as_customer, make_catalog, make_held_booking
from tests.support.english import english_in

ANA = 1001
SAYS = {
    "en": {
        "cancel": "Cancel booking",
        "tickets": "Show tickets",
        "no_cancel": "Paid tickets for this event cannot be cancelled.",
        "changed": "has changed in the meantime",
        "other": "Other reason",
        "few_words": "Tell me in a few words",
        "back": "« Back",
        "quit": "Cancel",
        "too_long": f"That is {REASON_MAX + 1} characters; please keep it under {REASON_MAX}.",
        "shorter": "Please type a shorter reason.",
        "why": "Why do you want to cancel booking",
        "nothing": "Nothing was changed.",
        "yes": "Yes, cancel it",
        "done": "is cancelled.",
    },
    "fr": {
        "cancel": "Annuler la réservation",
        "tickets": "Voir les billets",
        "no_cancel": "Les billets payés de cet événement ne peuvent pas être annulés.",
        "changed": "a changé entre-temps",
        "other": "Autre raison",
        "few_words": "en quelques mots",
        "back": "« Retour",
        "quit": "Annuler",
        "too_long": f"Cela fait {REASON_MAX + 1} caractères ; merci de rester sous {REASON_MAX}.",
        "shorter": "Merci de taper un motif plus court.",
        "why": "Pourquoi voulez-vous annuler la réservation",
        "nothing": "Rien n'a été modifié.",
        "yes": "Oui, annuler",
        "done": "est annulée",
    },
}
DATA = ("Ana Test", "Test Concert", "Standing", "Salle Test")


def no_english(language: str, *texts: str) -> None:
    if language == "fr":
        for text in texts:
            assert english_in(text, DATA) == [], text


async def paid_booking(desk: Desk, language: str, *, allowed: bool) -> tuple[str, Person]:
    cat = await make_catalog(desk.ctx, cancellation_allowed=allowed)
    ana = await linked_customer(desk.ctx, ANA, language=language)
    booking = await make_held_booking(desk.ctx, cat, ana)
    await payments.record_box_office_payment(
        desk.ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    chat = desk.person(ANA, language=language)
    await chat.send("/mybookings")
    return booking.reference, chat


def labels(chat: Person) -> str:
    return " | ".join(chat.buttons())


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_paid_booking_of_an_event_that_forbids_cancelling_offers_no_cancel(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    reference, chat = await paid_booking(desk, language, allowed=False)

    card = await chat.press(reference)

    assert says["cancel"] not in labels(chat)
    assert says["tickets"] in labels(chat)  # what can be done: the tickets stay valid
    assert says["no_cancel"] in card.text
    # A "Cancel booking" button from an older message: the card as it is, nothing "changed".
    old = await chat.press_data(f"b:cancel:{reference}")
    (shown,) = old.of("editMessageText")  # the same card again ("not modified" on this one)
    assert says["no_cancel"] in str(shown.params["text"])
    assert says["changed"] not in str(shown.params["text"]) and not any(old.alerts)
    assert says["cancel"] not in labels(chat)
    view = await bookings.get_booking(desk.ctx, actor=STAFF, reference=reference)
    assert view.status == states.CONFIRMED and not view.customer_may_cancel
    no_english(language, card.text, labels(chat), str(shown.params["text"]))


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_paid_booking_of_an_event_that_allows_cancelling_can_be_cancelled(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    reference, chat = await paid_booking(desk, language, allowed=True)

    card = await chat.press(reference)
    assert says["no_cancel"] not in card.text
    await chat.press(says["cancel"])
    await chat.press("Illness" if language == "en" else "Maladie")
    done = await chat.press(says["yes"])

    assert says["done"] in done.text
    no_english(language, card.text, done.text)


async def test_the_card_and_the_service_read_the_same_rule(desk: Desk) -> None:
    """What the card hides, the service refuses a customer (and staff may still do)."""
    reference, _chat = await paid_booking(desk, "en", allowed=False)
    view = await bookings.get_booking(desk.ctx, actor=STAFF, reference=reference)
    owner = as_customer(await customers.get_customer(desk.ctx, customer_id=view.customer_id))
    with pytest.raises(BookingError) as refused:
        await cancellations.cancel(desk.ctx, actor=owner, reference=reference, reason="illness")
    assert refused.value.code == "cancellation_not_allowed"
    assert customer_may_cancel(states.HELD, cancellation_allowed=False)
    assert customer_may_cancel(states.CONFIRMED, cancellation_allowed=True)
    assert not customer_may_cancel(states.CANCELLED, cancellation_allowed=True)
    done = await cancellations.cancel(desk.ctx, actor=STAFF, reference=reference, reason="illness")
    assert done.status == states.CANCELLED


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_other_reason_has_back_and_cancel_and_is_capped_at_its_step(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    cat = await make_catalog(desk.ctx)
    ana = await linked_customer(desk.ctx, ANA, language=language)
    booking = await make_held_booking(desk.ctx, cat, ana)
    chat = desk.person(ANA, language=language)
    await chat.send("/mybookings")
    await chat.press(booking.reference)
    await chat.press(says["cancel"])
    prompt = await chat.press(says["other"])
    assert says["few_words"] in prompt.text
    assert chat.buttons() == [says["back"], says["quit"]]

    back = await chat.press(says["back"])  # back to the list of reasons
    assert says["why"] in back.text
    await chat.press(says["other"])
    too_long = await chat.send("x" * (REASON_MAX + 1))
    assert says["too_long"] in too_long.text and says["shorter"] in too_long.text
    assert chat.buttons() == [says["back"], says["quit"]]
    confirm = await chat.send("Ma sœur se marie" if language == "fr" else "My sister marries")
    assert "(Ma sœur se marie)" in confirm.text or "(My sister marries)" in confirm.text

    await chat.send("/mybookings")
    await chat.press(booking.reference)
    await chat.press(says["cancel"])
    await chat.press(says["other"])
    quit_ = await chat.press(says["quit"])  # leaves the step: nothing cancelled
    assert says["nothing"] in quit_.text
    assert (await bookings.get_booking(desk.ctx, actor=STAFF, reference=booking.reference)).is_open
    no_english(language, prompt.text, back.text, too_long.text, confirm.text, labels(chat))
