"""Button payloads. Each carries an action and one reference or id, never an authority:
the handler asks the service, which re-checks owner and state on every click (house rule 11).

Telegram allows 64 bytes of callback data; the prefixes stay short for that reason.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery

SEPARATOR = ":"  # aiogram's default, kept by every factory here


class MenuCb(CallbackData, prefix="m"):
    """Top-level shortcuts: events, mybookings (``id``: the page), tickets, link, help."""

    action: str
    id: int = 0


class WizardCb(CallbackData, prefix="w"):
    """The /events wizard. ``id`` is an event, date, tariff, quantity, index, seat or draft
    number depending on ``action``."""

    action: str
    id: int = 0


class BookingCb(CallbackData, prefix="b"):
    """open, pay, cancel, extend, tickets on one booking; list goes back to /mybookings."""

    action: str
    ref: str


class CancelCb(CallbackData, prefix="c"):
    """A cancellation reason (see booking.rules.states.CANCEL_REASONS), then yes / no."""

    action: str
    ref: str


class ExtendCb(CallbackData, prefix="x"):
    """A proposed new deadline ("d3", "d7"), "typed" for a date of one's own, "noreason"."""

    action: str
    ref: str


class LangCb(CallbackData, prefix="l"):
    action: str  # a locale: en, fr


class Pressed(Filter):
    """A filter for presses of ``factory``'s buttons with one of ``actions`` (see ``pressed``).

    ``keys`` (prefix, action) say which presses it can accept at all: the dispatcher routes
    a press only to the handlers whose filters can (bot.direct_routes)."""

    def __init__(self, factory: type[CallbackData], actions: tuple[str, ...]) -> None:
        self.factory = factory
        self.separator = factory.__separator__
        self.head = factory.__prefix__ + self.separator
        self.actions = frozenset(actions)
        self.keys = frozenset((factory.__prefix__, action) for action in actions)

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        data = query.data or ""
        if not data.startswith(self.head):
            return False
        if data[len(self.head) :].split(self.separator, 1)[0] not in self.actions:
            return False
        try:
            return {"callback_data": self.factory.unpack(data)}
        except (TypeError, ValueError):  # a forged or outdated payload: nobody's button
            return False


def press_key(data: str) -> tuple[str, str]:
    """The (prefix, action) of a press's payload: what ``Pressed.keys`` are made of."""
    prefix, _, rest = data.partition(SEPARATOR)
    return prefix, rest.partition(SEPARATOR)[0]


def pressed(factory: type[CallbackData], *actions: str) -> Pressed:
    """A filter for presses of ``factory``'s buttons with one of ``actions``.

    It compares the prefix and the action (the first field of every factory here) as text, and
    reads the whole payload only for a match; aiogram's ``Factory.filter(F.action == …)``
    validates the payload in every handler it is tried on, a measurable part of each press.
    ``callback_data`` reaches the handler as with aiogram's filter.
    """
    if factory.__separator__ != SEPARATOR:
        raise ValueError(f"{factory.__name__}: press_key expects the separator {SEPARATOR!r}")
    return Pressed(factory, actions)
