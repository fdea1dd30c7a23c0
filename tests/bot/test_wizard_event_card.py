"""Issue 11, point 8 (the wizard's screens): the event card and the quantity step.

The dates screen shows the venue (name and address) and the description; with a picture it
is one photo message (sendPhoto by URL) carrying the card and the date buttons. A photo's
text cannot be edited into a text message (nor back), so moving between the card and the
other steps sends the new screen and deletes the old one: one live wizard message, whose
buttons work. The quantity step keeps the event and the date.
"""

from __future__ import annotations

import pytest

from tests.bot.conftest import Desk, Reply
from tests.bot.wizard_setup import (
    ADDRESS,
    DESCRIPTION,
    PICTURE,
    TITLE,
    VENUE,
    Seen,
    label,
    make_show,
)

ANA = 1301
T = {
    "en": {"choose": "Choose a date:", "dates": "« Other dates", "all": "« All events",
           "how": "How many places?", "zone": "Switzerland Time"},
    "fr": {"choose": "Choisissez une date :", "dates": "« Autres dates",
           "all": "« Tous les spectacles", "how": "Combien de places ?", "zone": "Suisse"},
}  # fmt: skip


def methods(reply: Reply) -> list[str]:
    return [c.method for c in reply.calls if c.method not in ("getUpdates", "answerCallbackQuery")]


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_the_card_is_a_photo_with_venue_and_description_and_its_buttons_work(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seats=None, picture_url=PICTURE)
    ana, seen = desk.person(ANA, language=lang), Seen()

    reply = seen.add(await ana.send("/events"))  # one event: straight to its card

    (photo,) = reply.of("sendPhoto")
    assert methods(reply) == ["sendPhoto"]
    assert photo.params["photo"] == PICTURE
    assert photo.text == f"{TITLE}\n{VENUE} · {ADDRESS}\n{DESCRIPTION}\n\n{t['choose']}"
    assert ana.buttons() == [label(show.starts[0], lang)]

    reply = seen.add(await ana.press(label(show.starts[0], lang)))

    # Not an edit of the photo (Telegram refuses editMessageText on it): a new message,
    # and the card goes.
    assert methods(reply) == ["sendMessage", "deleteMessage"]
    assert reply.of("deleteMessage")[0].params["message_id"] == photo.message_id
    assert "Standing" in reply.text

    reply = seen.add(await ana.press(t["dates"]))  # from a text message back to the photo
    assert methods(reply) == ["sendPhoto", "deleteMessage"]
    seen.add(await ana.press(label(show.starts[0], lang)))
    reply = seen.add(await ana.press("Standing"))
    assert methods(reply) == ["editMessageText"]  # text to text: edited as before
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_without_a_picture_the_card_is_text_and_the_list_is_edited(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    await make_show(desk.ctx, seats=None)
    await make_show(desk.ctx, title="Autre Soir", venue="Salle Deux", seats=None)  # a list
    ana, seen = desk.person(ANA, language=lang), Seen()
    seen.add(await ana.send("/events"))

    reply = seen.add(await ana.press(TITLE))

    assert methods(reply) == ["editMessageText"]
    assert reply.text == f"{TITLE}\n{VENUE} · {ADDRESS}\n{DESCRIPTION}\n\n{t['choose']}"
    reply = seen.add(await ana.press(t["all"]))
    assert methods(reply) == ["editMessageText"]
    assert lang == "en" or seen.english() == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_from_the_list_a_pictured_card_replaces_the_list_and_back(
    sqlite_desk: Desk, lang: str
) -> None:
    desk, t = sqlite_desk, T[lang]
    await make_show(desk.ctx, seats=None, picture_url=PICTURE)
    await make_show(desk.ctx, title="Autre Soir", venue="Salle Deux", seats=None)
    ana, seen = desk.person(ANA, language=lang), Seen()
    listing = seen.add(await ana.send("/events")).of("sendMessage")[0]

    reply = seen.add(await ana.press(TITLE))

    assert methods(reply) == ["sendPhoto", "deleteMessage"]
    assert reply.of("deleteMessage")[0].params["message_id"] == listing.message_id
    reply = seen.add(await ana.press(t["all"]))
    assert methods(reply) == ["sendMessage", "deleteMessage"]
    assert lang == "en" or seen.english() == []


async def test_a_long_description_is_clipped_to_fit_the_photo_caption(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    await make_show(desk.ctx, seats=None, picture_url=PICTURE, description="Lorem ipsum " * 200)
    reply = await desk.person(ANA).send("/events")
    (photo,) = reply.of("sendPhoto")
    assert photo.text is not None and len(photo.text) <= 1024
    assert photo.text.endswith("…\n\nChoose a date:")


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_the_quantity_step_keeps_the_event_and_the_date(sqlite_desk: Desk, lang: str) -> None:
    desk, t = sqlite_desk, T[lang]
    show = await make_show(desk.ctx, seats=None)
    ana, seen = desk.person(ANA, language=lang), Seen()
    seen.add(await ana.send("/events"))
    seen.add(await ana.press(label(show.starts[0], lang)))

    reply = seen.add(await ana.press("Standing"))

    first, *rest = reply.text.split("\n")
    assert first.startswith(f"{TITLE} · ") and t["zone"] in first
    assert rest[0].startswith("Standing · ") and t["how"] in rest
    assert lang == "en" or seen.english() == []
