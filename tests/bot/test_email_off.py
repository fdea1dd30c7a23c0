"""With email off (not configured, or the channel out), the bot never promises a code: a first
booking goes on under the name alone, /link and the start menu say what can be done instead,
and a deep link that would need a mailed code waits for email. Real dispatcher, fake Bot API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import customers, health, linking
from tests.bot import db
from tests.bot.conftest import Desk, Person, Recorder, Reply, deep_link, linked_customer
from tests.builders import make_catalog
from tests.support.english import english_in

ADA, EVE = 4001, 4002
DATA = ("Test Concert", "Standing", "Floor", "Ada", "Ada Lovelace", "Ana Test")


@dataclass(frozen=True)
class Words:
    language: str
    date: str
    hold: str
    use_name: str
    held: str
    no_email_booking: str
    no_link: str
    link_button: str
    other_email: str
    code_words: str
    move_prompt: str


WORDS = {
    "en": Words(
        "en",
        "Wed 23 Dec",
        "Hold until",
        "Use “Ada”",
        "Done! Your places are held until",
        "I cannot send email right now, so this booking stays in this chat",
        "Linking by email is not possible right now",
        "Link my bookings (email)",
        "Use another email address",
        "6-digit",
        "These bookings are linked to another Telegram account. To move them",
    ),
    "fr": Words(
        "fr",
        "mer. 23 déc.",
        "Réserver",
        "Utiliser « Ada »",
        "C'est fait ! Vos places sont réservées jusqu'au",
        "Je ne peux pas envoyer d'e-mail en ce moment : cette réservation reste donc dans ce chat",
        "Impossible de relier vos réservations par e-mail pour l'instant",
        "Relier mes réservations (e-mail)",
        "Utiliser une autre adresse e-mail",
        "6 chiffres",
        "Ces réservations sont reliées à un autre compte Telegram. Pour les déplacer",
    ),
}
LANGUAGES = pytest.mark.parametrize("words", WORDS.values(), ids=WORDS.keys())


def no_english(words: Words, replies: list[Reply], *data: str) -> None:
    if words.language == "fr":
        texts = [t for r in replies for c in r.calls for t in [c.text or "", *dict(c.buttons())]]
        assert [hit for t in texts for hit in english_in(t, DATA + data)] == []


async def email_down(ctx: Context) -> None:
    """What the outbox records when deliveries on the email channel fail (issue 10)."""
    ctx.channels["email"] = Recorder()

    async def work(session: AsyncSession) -> None:
        await health.channel_down(session, channel="email", reason="SMTP 421", now=ctx.clock.now())

    await ctx.db.write(work)


async def to_name_step(person: Person, words: Words) -> list[Reply]:
    return [
        await person.send("/events"),
        await person.press(words.date),
        await person.press("Standing"),
        await person.press("1"),
        await person.press(words.hold),
    ]


def labels(reply: Reply) -> list[str]:
    return [t for c in reply.calls for t, _ in c.buttons()]


@LANGUAGES
@pytest.mark.parametrize("email", ["not configured", "down"])
async def test_without_email_a_first_booking_goes_on_under_the_name_alone(
    sqlite_desk: Desk, words: Words, email: str
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    if email == "down":
        await email_down(desk.ctx)
    ada = desk.person(ADA, language=words.language, first_name="Ada")
    replies = await to_name_step(ada, words)

    replies.append(await ada.send("Ada Lovelace"))

    assert words.no_email_booking in replies[-1].text and words.held in replies[-1].text
    assert not any(words.code_words in r.text for r in replies)
    assert await db.code_mails(desk.ctx) == []
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ADA)
    assert customer is not None and (customer.name, customer.email) == ("Ada Lovelace", None)
    (reference,) = await db.references(desk.ctx, "held")
    replies.append(await ada.send("/mybookings"))
    assert reference in replies[-1].text
    no_english(words, replies, reference)


async def test_email_going_down_after_the_address_prompt_books_without_a_code(
    sqlite_desk: Desk,
) -> None:
    await make_catalog(sqlite_desk.ctx)
    sqlite_desk.ctx.channels["email"] = Recorder()
    ada = sqlite_desk.person(ADA, first_name="Ada")
    await to_name_step(ada, WORDS["en"])
    assert "And your email address?" in (await ada.press("Use “Ada”")).text
    await email_down(sqlite_desk.ctx)

    reply = await ada.send("ada@example.org")

    assert WORDS["en"].no_email_booking in reply.text and "6-digit" not in reply.text
    assert await db.code_mails(sqlite_desk.ctx) == []


@LANGUAGES
async def test_link_without_email_says_what_can_be_done_and_the_menu_does_not_offer_it(
    sqlite_desk: Desk, words: Words
) -> None:
    eve = sqlite_desk.person(EVE, language=words.language)
    replies = [await eve.send("/start")]
    assert words.link_button not in labels(replies[0])

    replies.append(await eve.send("/link"))
    replies.append(await eve.send("eve@example.org"))  # no step waits for an address

    assert words.no_link in replies[1].text
    assert not any(words.code_words in r.text for r in replies)
    assert await db.code_mails(sqlite_desk.ctx) == []
    no_english(words, replies)


@LANGUAGES
async def test_the_start_menu_offers_only_the_email_actions_that_can_work(
    sqlite_desk: Desk, words: Words
) -> None:
    ctx = sqlite_desk.ctx
    await linked_customer(ctx, ADA, language=words.language)
    ana, eve = (sqlite_desk.person(u, language=words.language) for u in (ADA, EVE))
    replies = [await ana.send("/start"), await eve.send("/start")]
    assert all(b not in labels(r) for r in replies for b in (words.other_email, words.link_button))

    ctx.channels["email"] = Recorder()
    replies += [await ana.send("/start"), await eve.send("/start")]

    assert words.other_email in labels(replies[2]) and words.link_button not in labels(replies[2])
    assert words.link_button in labels(replies[3]) and words.other_email not in labels(replies[3])
    await email_down(ctx)
    replies += [await ana.send("/start"), await eve.send("/start")]
    assert all(
        b not in labels(r) for r in replies[4:] for b in (words.other_email, words.link_button)
    )
    no_english(words, replies)


@LANGUAGES
async def test_a_deep_link_that_needs_a_mailed_code_waits_for_email_and_is_not_used_up(
    sqlite_desk: Desk, words: Words
) -> None:
    ctx = sqlite_desk.ctx
    ana = await linked_customer(ctx, ADA, language=words.language)
    payload = await deep_link(ctx, ana)
    eve = sqlite_desk.person(EVE, language=words.language)

    refused = await eve.send(f"/start {payload}")

    assert refused.texts == [error_text(BookingError("move_needs_email"), words.language)]
    assert await db.code_mails(ctx) == []
    ctx.channels["email"] = Recorder()
    again = await eve.send(f"/start {payload}")  # the same link, once email works
    assert words.move_prompt in again.text
    assert await db.code_mails(ctx) == [("email", "ana@example.org")]
    no_english(words, [refused, again])


async def test_without_the_email_check_the_bot_promises_a_code_nobody_can_send(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always(ctx: Context) -> bool:
        return True

    monkeypatch.setattr(linking, "codes_can_be_mailed", always)
    eve = sqlite_desk.person(EVE)
    await eve.send("/link")

    reply = await eve.send("eve@example.org")

    assert "I sent a 6-digit code to eve@example.org" in reply.text
    await sqlite_desk.deliver()  # this installation has no email channel: the code waits
    assert [s for k, _, s, _ in await db.outbox(sqlite_desk.ctx) if k == "link_code"] == ["pending"]
