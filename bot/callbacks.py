"""Button payloads. Each carries an action and one reference or id, never an authority:
the handler asks the service, which re-checks owner and state on every click (house rule 11).

Telegram allows 64 bytes of callback data; the prefixes stay short for that reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery


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


def pressed(
    factory: type[CallbackData], *actions: str
) -> Callable[[CallbackQuery], Awaitable[bool | dict[str, Any]]]:
    """A filter for presses of ``factory``'s buttons with one of ``actions``.

    It compares the prefix and the action (the first field of every factory here) as text, and
    reads the whole payload only for a match; aiogram's ``Factory.filter(F.action == …)``
    validates the payload in every handler it is tried on, a measurable part of each press.
    ``callback_data`` reaches the handler as with aiogram's filter.
    """
    separator = factory.__separator__
    head = factory.__prefix__ + separator
    wanted = frozenset(actions)

    async def check(query: CallbackQuery) -> bool | dict[str, Any]:
        data = query.data or ""
        if not data.startswith(head):
            return False
        if data[len(head) :].split(separator, 1)[0] not in wanted:
            return False
        try:
            return {"callback_data": factory.unpack(data)}
        except (TypeError, ValueError):  # a forged or outdated payload: nobody's button
            return False

    return check
