"""The steps of buying a pass in the bot, and of adding a date to one.

A purchase walks one list of stages made from the product: the dates (a pass with choice),
the seat (a fixed-seat pass), each holder field the product asks (text, or the photo), then
the summary. The conversation keeps the product, the index of the stage (``at``) and what was
answered, so "« Back" is one step back whatever the product asks, and a restart (or another
bot process) picks the purchase up at the same question (bot.states saves before answering).
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.state import State, StatesGroup

from booking.rules.pass_products import PassProductSettings

DATES, SEAT, PHOTO, SUMMARY = "dates", "seat", "photo", "summary"


class Buying(StatesGroup):
    dates = State()  # a pass with choice: picking its dates; data: picks
    seat = State()  # "Best available" or a seat: section -> row -> seat
    field = State()  # typing one holder field (the stage's name)
    photo = State()  # waiting for the holder's photo
    summary = State()  # "Hold" / "Pay now"; data: draft


class Adding(StatesGroup):
    code = State()  # typing the code of the pass to add a date to
    date = State()  # choosing the date; data: pass


def stages(settings: PassProductSettings) -> list[str]:
    """The stages of buying this product, in order."""
    found = [DATES] if settings.includes == "choice" else []
    if settings.seating == "fixed_seat":
        found.append(SEAT)
    found += [name for name, mode in settings.holder_fields if mode != "off"]
    return [*found, SUMMARY]


def state_of(stage: str) -> State:
    if stage == DATES:
        return Buying.dates
    if stage == SEAT:
        return Buying.seat
    if stage == PHOTO:
        return Buying.photo
    if stage == SUMMARY:
        return Buying.summary
    return Buying.field


def fresh(product_id: int, draft: int) -> dict[str, Any]:
    """The conversation of a purchase just begun."""
    return {
        "product": product_id,
        "at": 0,
        "picks": [],
        "seat": None,
        "answers": {},
        "photo": None,
        "draft": draft,
    }
