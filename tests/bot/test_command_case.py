"""``/START``, ``/Events``, ``/MYBOOKINGS@bot``: every command answers like its lowercase form
(``bot.command_case``), through the real dispatcher and the fake Bot API."""

from __future__ import annotations

import pytest

from bot import command_case
from bot.runner import COMMANDS
from tests.bot.conftest import Desk, Reply, deep_link, linked_customer
from tests.builders import make_catalog, make_customer
from tests.support.english import english_in

# Every command of the bot: the menu's, and those the routers answer outside it.
EVERY = [c for c, _ in COMMANDS] + ["link", "email", "passes", "renew", "resale"]
UNKNOWN = {
    "en": "I do not know that command. /help lists what I can do.",
    "fr": "Je ne connais pas cette commande. /help liste ce que je sais faire.",
}


def shown(reply: Reply) -> list[tuple[str, list[str]]]:
    """What the customer reads and the buttons they get (callback data carry draft numbers)."""
    return [(c.text or "", [t for t, _ in c.buttons()]) for c in reply.calls if c.text]


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_every_command_in_capitals_or_mixed_case_answers_like_its_lowercase_form(
    sqlite_desk: Desk, language: str
) -> None:
    await make_catalog(sqlite_desk.ctx)
    await linked_customer(sqlite_desk.ctx, 1001, language=language)
    ana = sqlite_desk.person(1001, language=language)
    for command in EVERY:
        lower = shown(await ana.send(f"/{command}"))
        for variant in (command.upper(), command.capitalize()):
            assert shown(await ana.send(f"/{variant}")) == lower, variant
        mention = shown(await ana.send(f"/{command.upper()}@Guichet_Test_Bot"))
        assert mention == lower, command
        assert UNKNOWN[language] not in str(lower)
        if language == "fr":
            for text, buttons in lower:
                assert english_in(text + " ".join(buttons), ("Test Concert", "Ana Test")) == []


async def test_a_capitalised_start_keeps_the_deep_link_payload_as_it_was(
    sqlite_desk: Desk,
) -> None:
    ana = await make_customer(sqlite_desk.ctx, email="ana@example.org", name="Ana Test")
    payload = await deep_link(sqlite_desk.ctx, ana)
    assert payload != payload.lower()  # a lowered payload would not verify

    reply = await sqlite_desk.person(1002).send(f"/START {payload}")

    assert "this chat is linked to Ana Test" in reply.text


async def test_a_command_for_another_bot_is_still_not_ours(sqlite_desk: Desk) -> None:
    reply = await sqlite_desk.person(1003).send("/HELP@SomeOtherBot")

    assert "Here is what I can do" not in reply.text


async def test_without_the_middleware_capitals_are_unknown_commands(
    sqlite_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command_case, "lowered", lambda text: text)

    reply = await sqlite_desk.person(1004).send("/START")

    assert reply.texts == [UNKNOWN["en"]]
