"""Issue 11, points 3, 9 and 13 on asking for more time: every step checks what the service
will check. A pending request is on the card, with no second "Ask for more time"; no button
when no day is left; a typed date is refused where it is typed, with an example that would be
accepted; the date and reason prompts have Back and Cancel; a too long reason is refused at its
step. English and French, through the real dispatcher."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from booking.rules.deadlines import request_days
from booking.rules.limits import REASON_MAX
from booking.services import bookings, extensions
from tests.bot.conftest import Desk, Person, linked_customer
from tests.builders import STAFF, make_catalog, make_held_booking
from tests.support.english import english_in

ANA = 1001
SAYS = {
    "en": {
        "ask": "Ask for more time",
        "d7": "Until Mon 7 Dec",
        "why": "Why do you need it?",
        "sent": "Your request was sent to the organizer",
        "pending": "More time asked until Mon 7 Dec 2026, waiting for the organizer.",
        "listed": "more time asked",
        "already": "A request for more time is already waiting for the organizer.",
        "other": "Another date…",
        "prompt": "Type the date you need, day first (day.month.year), for example 07.12.2026.",
        "range": "Any day from Tue 1 Dec 2026 to Tue 22 Dec 2026 is possible.",
        "past": "That date has already passed.",
        "after": "That date is after the performance.",
        "not_later": "That date is not later than your current deadline.",
        "unreadable": "I could not read that date.",
        "again": "Please type another date.",
        "back": "« Back",
        "quit": "Cancel",
        "no_reason": "Send without a reason",
        "too_long": f"That is {REASON_MAX + 1} characters; please keep it under {REASON_MAX}.",
        "shorter": "Please type a shorter reason.",
        "choices": "Until when do you need to pay",
        "too_close": "The performance is too close for more time",
        "nothing": "Nothing was changed.",
    },
    "fr": {
        "ask": "Demander un délai",
        "d7": "Jusqu'au lun. 7 déc.",
        "why": "Pourquoi en avez-vous besoin ?",
        "sent": "Votre demande a été transmise à l'organisateur",
        "pending": "Délai demandé jusqu'au lun. 7 déc. 2026, en attente de la réponse",
        "listed": "délai demandé",
        "already": "Une demande de délai attend déjà la réponse de l'organisateur.",
        "other": "Une autre date…",
        "prompt": "le jour en premier (jour.mois.année), par exemple 07.12.2026.",
        "range": "Tout jour du mar. 1 déc. 2026 au mar. 22 déc. 2026 est possible.",
        "past": "Cette date est déjà passée.",
        "after": "Cette date est après la représentation.",
        "not_later": "Cette date n'est pas après votre délai actuel.",
        "unreadable": "Je n'ai pas pu lire cette date.",
        "again": "Tapez une autre date, s'il vous plaît.",
        "back": "« Retour",
        "quit": "Annuler",
        "no_reason": "Envoyer sans raison",
        "too_long": f"Cela fait {REASON_MAX + 1} caractères ; merci de rester sous {REASON_MAX}.",
        "shorter": "Merci de taper un motif plus court.",
        "choices": "Jusqu'à quand avez-vous besoin pour payer",
        "too_close": "La représentation est trop proche pour un délai supplémentaire",
        "nothing": "Rien n'a été modifié.",
    },
}
DATA = ("Ana Test", "Test Concert", "Standing", "Salle Test")


def no_english(language: str, *texts: str) -> None:
    if language == "fr":
        for text in texts:
            assert english_in(text, DATA) == [], text


async def card_of(desk: Desk, language: str, **catalog: object) -> tuple[str, Person]:
    """A hold made today (Mon 23 Nov 2026), due Mon 30 Nov; the show is on Wed 23 Dec."""
    cat = await make_catalog(desk.ctx, **catalog)  # type: ignore[arg-type]
    ana = await linked_customer(desk.ctx, ANA, language=language)
    booking = await make_held_booking(desk.ctx, cat, ana)
    chat = desk.person(ANA, language=language)
    await chat.send("/mybookings")
    await chat.press(booking.reference)
    return booking.reference, chat


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_pending_extension_is_shown_on_the_card_with_no_second_request(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    reference, chat = await card_of(desk, language)
    await chat.press(says["ask"])
    await chat.press(says["d7"])
    sent = await chat.send("Salaire le 5" if language == "fr" else "Salary on the 5th")
    assert says["sent"] in sent.text

    assert says["pending"] in sent.text  # the card under the answer says so already
    assert not any(says["ask"] in b for b in chat.buttons())
    listed = await chat.send("/mybookings")
    assert says["listed"] in listed.text
    card = await chat.press(reference)
    assert says["pending"] in card.text
    assert not any(says["ask"] in b for b in chat.buttons())
    old = await chat.press_data(f"b:extend:{reference}")  # a button from before the request
    assert says["already"] in old.text
    assert not any(says["ask"] in b for b in chat.buttons())
    assert len(await extensions.list_requests(desk.ctx)) == 1
    no_english(language, sent.text, listed.text, card.text, old.text, " ".join(chat.buttons()))


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_typed_date_is_checked_where_it_is_typed(desk: Desk, language: str) -> None:
    says = SAYS[language]
    _reference, chat = await card_of(desk, language)
    await chat.press(says["ask"])
    prompt = await chat.press(says["other"])
    assert says["prompt"] in prompt.text and says["range"] in prompt.text
    assert chat.buttons() == [says["back"], says["quit"]]
    seen = [prompt.text]

    for typed, refused in (
        ("20.11.2026", says["past"]),
        ("24.12.2026", says["after"]),  # the show is on the 23rd
        ("23.12.2026", says["after"]),  # its own day ends after it started
        ("30.11.2026", says["not_later"]),  # the current deadline
        ("someday", says["unreadable"]),
    ):
        reply = await chat.send(typed)
        assert refused in reply.text, typed
        assert typed == "someday" or says["again"] in reply.text
        assert says["prompt"] in reply.text  # asked again at once, never taken further
        assert says["why"] not in reply.text
        assert chat.buttons() == [says["back"], says["quit"]]
        seen.append(reply.text)
    assert await extensions.list_requests(desk.ctx) == []

    reason = await chat.send("07.12.2026")  # the example given is a date that is accepted
    assert says["why"] in reason.text
    assert chat.buttons() == [says["no_reason"], says["back"], says["quit"]]
    too_long = await chat.send("x" * (REASON_MAX + 1))
    assert says["too_long"] in too_long.text and says["shorter"] in too_long.text
    assert chat.buttons() == [says["no_reason"], says["back"], says["quit"]]
    assert await extensions.list_requests(desk.ctx) == []
    sent = await chat.send("Salaire" if language == "fr" else "Salary")
    assert says["sent"] in sent.text
    (request,) = await extensions.list_requests(desk.ctx)
    assert request.requested_until is not None
    assert request.requested_until.date() == date(2026, 12, 7)
    no_english(language, *seen, reason.text, too_long.text, sent.text)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_back_and_cancel_on_the_date_and_reason_prompts(desk: Desk, language: str) -> None:
    says = SAYS[language]
    reference, chat = await card_of(desk, language)
    await chat.press(says["ask"])
    await chat.press(says["other"])
    back = await chat.press(says["back"])
    assert says["choices"] in back.text  # the proposed dates again
    await chat.press(says["d7"])
    back = await chat.press(says["back"])
    assert says["choices"] in back.text
    await chat.press(says["d7"])
    quit_ = await chat.press(says["quit"])
    assert says["nothing"] in quit_.text
    after = await chat.send("Salary")  # no longer taken as a reason
    assert says["sent"] not in after.text
    assert await extensions.list_requests(desk.ctx) == []
    view = await bookings.get_booking(desk.ctx, actor=STAFF, reference=reference)
    assert not view.extension_pending
    no_english(language, back.text, quit_.text)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_no_more_time_is_offered_when_the_deadline_is_the_day_before_the_show(
    desk: Desk, language: str
) -> None:
    says = SAYS[language]
    # Due at the end of Mon 30 Nov; the show starts on Tue 1 Dec at 10:00.
    reference, chat = await card_of(desk, language, starts_in=timedelta(days=8))
    view = await bookings.get_booking(desk.ctx, actor=STAFF, reference=reference)
    assert view.deadline == datetime(2026, 11, 30, 22, 59, 59, tzinfo=UTC)
    assert not any(says["ask"] in b for b in chat.buttons())

    old = await chat.press_data(f"b:extend:{reference}")  # a button from before

    assert says["too_close"] in old.text
    assert not any(says["other"] in b or says["ask"] in b for b in chat.buttons())
    assert await extensions.list_requests(desk.ctx) == []
    no_english(language, old.text)


def test_the_days_a_customer_may_ask_for() -> None:
    show = datetime(2026, 12, 23, 19, 0, tzinfo=UTC)  # 20:00 in Zurich
    day_before = datetime(2026, 12, 22, 22, 59, 59, tzinfo=UTC)  # 23:59:59 in Zurich
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    zurich = "Europe/Zurich"
    assert request_days(day_before, now=now, starts_at=show, timezone=zurich) is None
    assert request_days(show, now=now, starts_at=show, timezone=zurich) is None
    two_before = datetime(2026, 12, 21, 22, 59, 59, tzinfo=UTC)
    assert request_days(two_before, now=now, starts_at=show, timezone=zurich) == (
        date(2026, 12, 22),
        date(2026, 12, 22),
    )
    # An overdue hold counts from now, not from its deadline long gone.
    late = datetime(2026, 12, 22, 12, 0, tzinfo=UTC)
    assert request_days(now, now=late, starts_at=show, timezone=zurich) == (
        date(2026, 12, 22),
        date(2026, 12, 22),
    )
