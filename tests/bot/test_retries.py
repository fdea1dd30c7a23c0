"""A 429 or a 5xx from the Bot API while answering an update is waited out and retried within
a bounded time (bot/session.py); only then does the customer get the apology (issue 11, point
4). Outbox deliveries are not held: they retry through the outbox. Real waits, kept short."""

from __future__ import annotations

import time

import pytest

from bot.i18n import _, use_locale
from bot.routers.help import help_text
from bot.session import ANSWER_BUDGET_S, BUDGET_S
from tests.bot.conftest import Desk, Person, Reply, linked_customer
from tests.bot.test_channel_health import a_hold
from tests.builders import make_catalog
from tests.support.english import english_in
from tests.support.fake_bot_api import Call

LANGUAGES = ["en", "fr"]
PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def texts_in(language: str) -> tuple[str, str]:
    """The help and the apology, as the customer reads them in ``language``."""
    with use_locale(language):
        apology = _(
            "Sorry, something went wrong on our side. Please try again in a "
            "moment; /mybookings shows where things stand."
        )
        return help_text(), apology


class Times:
    """When each call reached the fake Bot API."""

    def __init__(self, desk: Desk) -> None:
        self.at: dict[int, float] = {}
        desk.fake.listen(self.seen)

    def seen(self, call: Call) -> None:
        self.at[id(call)] = time.monotonic()

    def gap(self, first: Call, then: Call) -> float:
        return self.at[id(then)] - self.at[id(first)]


def first_button(person: Person) -> str:
    assert person.screen is not None and person.screen.buttons()
    return person.screen.buttons()[0][1]


def no_english(language: str, reply: Reply) -> None:
    if language == "fr":
        assert english_in(reply.text + " ".join(reply.alerts)) == []


@pytest.mark.parametrize("language", LANGUAGES)
async def test_help_arrives_after_waiting_out_a_429(sqlite_desk: Desk, language: str) -> None:
    desk, times = sqlite_desk, Times(sqlite_desk)
    help_, _apology = texts_in(language)
    desk.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)

    reply = await desk.person(1001, language=language).send("/help")

    refused, sent = reply.of("sendMessage")
    assert not refused.ok and sent.ok
    assert sent.text == help_ and reply.texts == [help_]  # no apology
    assert times.gap(refused, sent) >= 2.0  # Telegram's retry_after was honoured
    no_english(language, reply)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_help_arrives_after_two_server_errors(sqlite_desk: Desk, language: str) -> None:
    desk = sqlite_desk
    help_, _apology = texts_in(language)
    desk.fake.fail_next("sendMessage", 500, "Internal Server Error", times=2)

    reply = await desk.person(1001, language=language).send("/help")

    assert [c.ok for c in reply.of("sendMessage")] == [False, False, True]
    assert reply.texts == [help_]
    no_english(language, reply)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_proxy_error_page_instead_of_json_is_retried_too(
    sqlite_desk: Desk, language: str
) -> None:
    desk = sqlite_desk
    help_, _apology = texts_in(language)
    desk.fake.fail_next("sendMessage", 502, "Bad Gateway", page=PROXY_PAGE)

    reply = await desk.person(1001, language=language).send("/help")

    assert [c.ok for c in reply.of("sendMessage")] == [False, True]
    assert reply.texts == [help_]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_retry_after_beyond_the_budget_apologizes_at_once(
    sqlite_desk: Desk, language: str
) -> None:
    desk = sqlite_desk
    help_, apology = texts_in(language)
    wait = int(BUDGET_S) + 20
    desk.fake.fail_next("sendMessage", 429, f"Too Many Requests: retry after {wait}", wait)
    started = time.monotonic()

    reply = await desk.person(1001, language=language).send("/help")

    assert time.monotonic() - started < 2.0  # no hang: waiting would not fit the budget
    assert reply.texts == [apology] and help_ not in reply.text
    no_english(language, reply)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_press_survives_server_errors_on_the_edit_and_the_answer(
    sqlite_desk: Desk, language: str
) -> None:
    desk = sqlite_desk
    _help, apology = texts_in(language)
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001, language=language)
    ana = desk.person(1001, language=language)
    events = await ana.send("/events")
    desk.fake.fail_next("editMessageText", 502, "Bad Gateway")
    desk.fake.fail_next("answerCallbackQuery", 500, "Internal Server Error")

    reply = await ana.press_data(first_button(ana))

    assert [c.ok for c in reply.of("editMessageText")] == [False, True]
    assert [c.ok for c in reply.of("answerCallbackQuery")] == [False, True]
    assert apology not in reply.text + " ".join(reply.alerts)
    assert reply.screen is not None and events.screen is not None
    assert reply.screen.text != events.screen.text  # the next step is shown
    no_english(language, reply)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_press_answer_waits_only_a_short_while(sqlite_desk: Desk, language: str) -> None:
    """Telegram soon forgets a button press: a wait longer than ANSWER_BUDGET_S gives up and
    apologizes (with the ten seconds of other calls, this press would wait and succeed)."""
    desk = sqlite_desk
    _help, apology = texts_in(language)
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001, language=language)
    ana = desk.person(1001, language=language)
    await ana.send("/events")
    wait = int(ANSWER_BUDGET_S) + 2
    assert wait < BUDGET_S
    desk.fake.fail_next("answerCallbackQuery", 429, f"Too Many Requests: retry after {wait}", wait)
    started = time.monotonic()

    reply = await ana.press_data(first_button(ana))

    assert time.monotonic() - started < 2.0
    assert reply.alerts[-1] == apology
    no_english(language, reply)


async def test_an_outbox_delivery_is_not_held_by_the_retries(sqlite_desk: Desk) -> None:
    """The outbox retries on its own, minutes apart: a delivery hands a 5xx or a 429 back at
    once instead of waiting inside the session."""
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    await linked_customer(desk.ctx, 1001)
    await a_hold(desk, 1001)
    desk.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    started = time.monotonic()

    report, sent = await desk.deliver()

    assert time.monotonic() - started < 2.0
    assert (report.sent, report.retried) == (0, 1) and len(sent.of("sendMessage")) == 1
