"""The typed prompts of identity: name, email and code on the way to a first booking, the
/link email and code, and "Use another email address" (SPEC §12), in English and French,
through the real dispatcher and the fake Bot API. Email is configured here (a recorder at our
own boundary); tests/bot/test_email_off.py covers an installation without it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.limits import EMAIL_MAX, NAME_MAX
from booking.services import customers, holds, linking
from booking.services.holds import Line
from tests.bot import db
from tests.bot.conftest import Desk, Person, Recorder, Reply, linked_customer
from tests.builders import STAFF, make_catalog, make_customer
from tests.support.english import english_in

ADA, BOB = 3001, 3002
DATA = ("Test Concert", "Standing", "Floor", "Ada", "Ana Test", "Bob Box")


@pytest.fixture
def sqlite_ctx(sqlite_ctx: Context) -> Context:
    sqlite_ctx.channels["email"] = Recorder()
    return sqlite_ctx


@dataclass(frozen=True)
class Words:
    """The labels and texts a test presses and looks for, in one language."""

    language: str
    date: str
    hold: str
    use_name: str
    back: str
    cancel: str
    name_prompt: str
    email_prompt: str
    code_sent: str
    held: str
    nothing_changed: str
    other_email: str
    link_prompt: str
    changed_to: str


WORDS = {
    "en": Words(
        "en",
        "Wed 23 Dec",
        "Hold until",
        "Use “Ada”",
        "« Back",
        "Cancel",
        "what name should I use?",
        "And your email address?",
        "I sent a 6-digit code to",
        "Done! Your places are held until",
        "Nothing was changed.",
        "Use another email address",
        "Which email address did you book with?",
        "Done: your bookings now use new@example.org.",
    ),
    "fr": Words(
        "fr",
        "mer. 23 déc.",
        "Réserver",
        "Utiliser « Ada »",
        "« Retour",
        "Annuler",
        "quel nom dois-je utiliser ?",
        "Et votre adresse e-mail ?",
        "J'ai envoyé un code à 6 chiffres à",
        "C'est fait ! Vos places sont réservées jusqu'au",
        "Rien n'a été modifié.",
        "Utiliser une autre adresse e-mail",
        "Avec quelle adresse e-mail avez-vous réservé ?",
        "C'est fait : vos réservations utilisent désormais new@example.org.",
    ),
}
LANGUAGES = pytest.mark.parametrize("words", WORDS.values(), ids=WORDS.keys())


class Seen:
    """Every text of a flow, to scan a French one for English words at the end."""

    def __init__(self, words: Words) -> None:
        self.words, self.texts = words, list[str]()

    def __call__(self, reply: Reply) -> Reply:
        for call in reply.calls:
            self.texts += [call.text or "", *(t for t, _ in call.buttons())]
        return reply

    def no_english(self, *data: str) -> None:
        if self.words.language == "fr":
            assert [hit for t in self.texts for hit in english_in(t, DATA + data)] == []


def labels(reply: Reply) -> list[str]:
    """The buttons under the last message of the reply."""
    last = [c for c in reply.calls if c.text][-1]
    return [t for t, _ in last.buttons()]


async def to_summary(person: Person, words: Words, seen: Seen) -> None:
    seen(await person.send("/events"))
    seen(await person.press(words.date))
    seen(await person.press("Standing"))
    seen(await person.press("1"))


@LANGUAGES
async def test_back_walks_each_checkout_prompt_to_the_one_before_and_the_summary_still_books(
    sqlite_desk: Desk, words: Words
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    await make_catalog(desk.ctx)
    ada = desk.person(ADA, language=words.language, first_name="Ada")
    await to_summary(ada, words, seen)

    reply = seen(await ada.press(words.hold))
    assert words.name_prompt in reply.text
    assert labels(reply) == [words.use_name, words.back, words.cancel]
    reply = seen(await ada.press(words.use_name))
    assert words.email_prompt in reply.text and labels(reply) == [words.back, words.cancel]
    reply = seen(await ada.send("first@example.org"))
    assert words.code_sent in reply.text and labels(reply) == [words.back, words.cancel]

    reply = seen(await ada.press(words.back))  # a typo in the address: back to the email
    assert words.email_prompt in reply.text
    reply = seen(await ada.send("second@example.org"))
    assert f"{words.code_sent} second@example.org" in reply.text
    assert words.email_prompt in seen(await ada.press(words.back)).text
    assert words.name_prompt in seen(await ada.press(words.back)).text
    reply = seen(await ada.press(words.back))  # from the name: the summary again
    assert any(b.startswith(words.hold) for b in labels(reply))

    seen(await ada.press(words.hold))
    seen(await ada.press(words.use_name))
    seen(await ada.send("second@example.org"))
    reply = seen(await ada.send(await db.mailed_code(desk.ctx)))

    assert words.held in reply.text
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ADA)
    assert customer is not None and customer.email == "second@example.org"
    assert len(await db.references(desk.ctx)) == 1
    seen.no_english("first@example.org", "second@example.org")


@LANGUAGES
@pytest.mark.parametrize("step", ["name", "email", "code"])
async def test_cancel_on_each_checkout_prompt_ends_the_step_and_books_nothing(
    sqlite_desk: Desk, words: Words, step: str
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    await make_catalog(desk.ctx)
    ada = desk.person(ADA, language=words.language, first_name="Ada")
    await to_summary(ada, words, seen)
    seen(await ada.press(words.hold))
    if step != "name":
        seen(await ada.press(words.use_name))
    if step == "code":
        seen(await ada.send("ada@example.org"))

    reply = seen(await ada.press(words.cancel))

    assert words.nothing_changed in reply.text
    assert await db.references(desk.ctx) == []
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ADA)
    assert customer is not None and customer.email is None
    reply = seen(await ada.send("ada@example.org"))  # no step waits for it any more
    assert words.code_sent not in reply.text
    seen.no_english("ada@example.org")


@LANGUAGES
async def test_a_name_or_an_address_over_its_limit_is_refused_at_its_step_and_never_echoed(
    sqlite_desk: Desk, words: Words
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    await make_catalog(desk.ctx)
    ada = desk.person(ADA, language=words.language, first_name="Ada")
    await to_summary(ada, words, seen)
    seen(await ada.press(words.hold))
    long_name = "Ada" + "x" * 3997

    reply = seen(await ada.send(long_name))

    too_long = BookingError("too_long", max=NAME_MAX, length=4000)
    assert reply.texts == [error_text(too_long, words.language)]
    assert "x" * (NAME_MAX + 1) not in reply.text
    assert labels(reply) == [words.use_name, words.back, words.cancel]
    reply = seen(await ada.send("Ada Lovelace"))  # typed again, at the same step
    assert words.email_prompt in reply.text and "Ada Lovelace" in reply.text

    long_email = "a" * EMAIL_MAX + "@example.org"
    reply = seen(await ada.send(long_email))

    too_long = BookingError("too_long", max=EMAIL_MAX, length=len(long_email))
    assert reply.texts == [error_text(too_long, words.language)]
    assert labels(reply) == [words.back, words.cancel]
    assert await db.code_mails(desk.ctx) == []
    reply = seen(await ada.send("ada@example.org"))
    assert words.code_sent in reply.text
    reply = seen(await ada.send(await db.mailed_code(desk.ctx)))
    assert words.held in reply.text
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ADA)
    assert customer is not None and customer.name == "Ada Lovelace"
    seen.no_english("Ada Lovelace", "ada@example.org")


@LANGUAGES
async def test_the_link_prompts_have_back_and_cancel_and_refuse_a_long_address(
    sqlite_desk: Desk, words: Words
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    ada = desk.person(ADA, language=words.language)

    reply = seen(await ada.send("/link"))
    assert reply.texts == [words.link_prompt] and labels(reply) == [words.cancel]
    long_email = "a" * EMAIL_MAX + "@example.org"
    reply = seen(await ada.send(long_email))
    too_long = BookingError("too_long", max=EMAIL_MAX, length=len(long_email))
    assert reply.texts == [error_text(too_long, words.language)]
    reply = seen(await ada.send("ada@example.org"))
    assert words.code_sent in reply.text and labels(reply) == [words.back, words.cancel]

    reply = seen(await ada.press(words.back))
    assert reply.texts == [words.link_prompt]
    reply = seen(await ada.press(words.cancel))
    assert words.nothing_changed in reply.text
    seen.no_english("ada@example.org")


async def ana_with_a_booking(desk: Desk, language: str) -> str:
    cat = await make_catalog(desk.ctx)
    ana = await linked_customer(desk.ctx, ADA, language=language)
    held = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=1)],
    )
    return held.reference


async def email_of(desk: Desk, user_id: int) -> str | None:
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=user_id)
    assert customer is not None
    return customer.email


@LANGUAGES
async def test_a_customer_with_an_address_uses_another_once_its_code_comes_back(
    sqlite_desk: Desk, words: Words
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    reference = await ana_with_a_booking(desk, words.language)
    ana = desk.person(ADA, language=words.language)

    reply = seen(await ana.send("/start"))
    assert words.other_email in labels(reply)
    reply = seen(await ana.press(words.other_email))
    assert "ana@example.org" in reply.text and labels(reply) == [words.cancel]
    reply = seen(await ana.send("new@example.org"))
    assert f"{words.code_sent} new@example.org" in reply.text
    assert labels(reply) == [words.back, words.cancel]
    assert await email_of(desk, ADA) == "ana@example.org"  # a claim until the code comes back
    assert await db.code_mails(desk.ctx) == [("email", "new@example.org")]

    reply = seen(await ana.send(await db.mailed_code(desk.ctx)))

    assert words.changed_to in reply.text
    assert await email_of(desk, ADA) == "new@example.org"
    assert reference in seen(await ana.send("/mybookings")).text
    # The address replaced hears of it, and only by email, at that old address.
    told = [(c, p) for k, c, _, p in await db.outbox(desk.ctx) if k == "email_changed"]
    assert told == [("email", {"to": "ana@example.org", "new_address": "n***@example.org"})]
    seen.no_english("ana@example.org", "new@example.org", reference)


async def bob_at_the_box_office(desk: Desk) -> str:
    cat = await make_catalog(desk.ctx)
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob Box")
    held = await holds.hold(
        desk.ctx,
        actor=STAFF,
        customer_id=bob.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=1)],
    )
    return held.reference


async def code_for(desk: Desk, address: str) -> str:
    """The code mailed to ``address`` (read in the outbox, as its owner reads their mail)."""
    rows = await db.outbox(desk.ctx)
    return str([p["code"] for k, _, _, p in rows if k == "link_code" and p["to"] == address][-1])


async def ask_other(person: Person, address: str) -> str:
    await person.send("/link")  # with an address on file: the one to use instead
    return (await person.send(address)).text.replace(address, "<address>")


@LANGUAGES
async def test_another_customers_address_reads_like_an_unknown_one_and_attaches_nothing(
    sqlite_desk: Desk, words: Words
) -> None:
    desk = sqlite_desk
    bobs = await bob_at_the_box_office(desk)
    await linked_customer(desk.ctx, ADA, language=words.language)
    await linked_customer(desk.ctx, BOB, email="zed@example.org", language=words.language)
    ana = desk.person(ADA, language=words.language)

    known = await ask_other(ana, "bob@example.org")
    unknown = await ask_other(desk.person(BOB, language=words.language), "nobody@example.org")

    assert known == unknown and known.startswith(words.code_sent)
    reply = await ana.send(await code_for(desk, "bob@example.org"))
    refused = BookingError("email_elsewhere", email="bob@example.org")
    assert reply.texts == [error_text(refused, words.language)]  # only after the proof
    assert await email_of(desk, ADA) == "ana@example.org"
    assert bobs not in (await ana.send("/mybookings")).text
    bob = await customers.find_by_email(desk.ctx, email="bob@example.org")
    assert bob is not None and bob.telegram_user_id is None


async def test_without_the_typed_address_guard_another_address_replaces_one_unproved(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = sqlite_desk
    await bob_at_the_box_office(desk)
    await linked_customer(desk.ctx, ADA)
    monkeypatch.setattr(linking, "typed_address_needs_code", lambda chat, key: False)
    ana = desk.person(ADA)

    await ask_other(ana, "nobody@example.org")
    assert await email_of(desk, ADA) == "nobody@example.org"  # no code typed
    known = await ask_other(ana, "bob@example.org")
    assert not known.startswith("I sent a 6-digit code")  # and a customer's address shows


QUANTITY_STEP = {"en": "How many places?", "fr": "Combien de places ?"}


@LANGUAGES
async def test_a_refusal_about_the_number_of_places_brings_back_the_quantity_step(
    sqlite_desk: Desk, words: Words
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    cat = await make_catalog(desk.ctx, capacity=3)
    await linked_customer(desk.ctx, ADA, language=words.language)
    ada = desk.person(ADA, language=words.language)
    for step in ("/events", words.date, "Standing", "3"):
        seen(await (ada.send(step) if step.startswith("/") else ada.press(step)))
    bob = await make_customer(desk.ctx, email="bob@example.org", name="Bob Box")
    await holds.hold(  # meanwhile, at the box office
        desk.ctx,
        actor=STAFF,
        customer_id=bob.id,
        performance_id=cat.performance_id,
        lines=[Line(cat.ga_tariff, quantity=2)],
    )

    reply = seen(await ada.press(words.hold))

    left = error_text(BookingError("not_enough_left", left=1), words.language)
    assert reply.text.startswith(left) and QUANTITY_STEP[words.language] in reply.text
    seen(await ada.press("1"))
    assert words.held in seen(await ada.press(words.hold)).text
    seen.no_english()


@LANGUAGES
async def test_a_refusal_for_too_many_open_holds_shows_the_bookings_to_pay_or_cancel(
    sqlite_desk: Desk, words: Words
) -> None:
    desk, seen = sqlite_desk, Seen(words)
    desk.ctx.settings.max_open_holds = 1
    reference = await ana_with_a_booking(desk, words.language)
    ana = desk.person(ADA, language=words.language)
    await to_summary(ana, words, seen)

    reply = seen(await ana.press(words.hold))

    refused = error_text(BookingError("too_many_holds", count=1), words.language)
    assert reply.text.startswith(refused) and reference in reply.text
    assert await db.references(desk.ctx) == [reference]
    assert any(reference in b for b in labels(reply))  # open it: pay or cancel
    seen.no_english(reference)
