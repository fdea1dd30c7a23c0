"""Inline keyboards of the /events wizard and the language choice (the booking ones live in
bot/booking_keyboards.py, the start menu in bot/start_keyboards.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from booking.services.catalog import EventSummary, Offer, PerformanceView
from booking.services.seating import SeatOption
from bot.availability import left_note, quantities
from bot.buttons import Keyboard
from bot.callbacks import LangCb, WizardCb
from bot.formatting import clip, money, short
from bot.i18n import _

EVENTS_PAGE = 5
QUANTITY_BUTTONS = 6  # one row of numbers; "Other number…" types any other possible one
SEATS_PER_ROW = 6
LANGUAGES = {"en": "English", "fr": "Français"}


def events(found: Sequence[EventSummary], offset: int, more: bool) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for event in found:
        label = f"{clip(event.title, 40)} · {short(event.first_date, event.timezone)}"
        kb.button(text=label, callback_data=WizardCb(action="event", id=event.id))
    kb.adjust(1)
    nav = Keyboard()
    if offset > 0:
        back = max(offset - EVENTS_PAGE, 0)
        nav.button(text=_("« Previous"), callback_data=WizardCb(action="page", id=back))
    if more:
        nav.button(text=_("Next »"), callback_data=WizardCb(action="page", id=offset + EVENTS_PAGE))
    kb.attach(nav)
    return kb.as_markup()


def dates(found: Sequence[PerformanceView], *, back: bool) -> InlineKeyboardMarkup:
    """Every date, sold-out ones marked (a press says so), "N left" under the event's
    threshold."""
    kb = Keyboard()
    for performance in found:
        label = short(performance.starts_at, performance.timezone)
        if performance.remaining <= 0:
            label += " · " + _("sold out")
        elif left := left_note(performance.remaining, performance.show_remaining_below):
            label += " · " + left
        kb.button(text=label, callback_data=WizardCb(action="date", id=performance.id))
    if back:
        kb.button(text=_("« All events"), callback_data=WizardCb(action="page", id=0))
    kb.adjust(1)
    return kb.as_markup()


def tariffs(found: Sequence[Offer], event_id: int) -> InlineKeyboardMarkup:
    """A button for each ticket type some number of places can be held of now."""
    kb = Keyboard()
    for offer in found:
        if quantities(offer):
            label = f"{clip(offer.name, 30)} · {money(offer.price_minor, offer.currency)}"
            kb.button(text=label, callback_data=WizardCb(action="tariff", id=offer.tariff_id))
    kb.button(text=_("« Other dates"), callback_data=WizardCb(action="event", id=event_id))
    kb.adjust(1)
    return kb.as_markup()


def quantity_choices(offer: Offer, performance_id: int) -> InlineKeyboardMarkup:
    """The first few possible numbers as buttons, "Other number…" when there are more."""
    kb = Keyboard()
    possible = quantities(offer)
    shown = possible[:QUANTITY_BUTTONS]
    for n in shown:
        kb.button(text=str(n), callback_data=WizardCb(action="qty", id=n))
    sizes = [len(shown) or 1]
    if len(possible) > len(shown):
        kb.button(text=_("Other number…"), callback_data=WizardCb(action="typeqty"))
        sizes.append(1)
    if offer.seated:
        kb.button(text=_("Choose my seats"), callback_data=WizardCb(action="pick"))
        sizes.append(1)
    kb.button(
        text=_("« Other ticket types"), callback_data=WizardCb(action="date", id=performance_id)
    )
    kb.adjust(*sizes, 1)
    return kb.as_markup()


def sections(names: Sequence[str]) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for i, name in enumerate(names):
        kb.button(text=clip(name, 40), callback_data=WizardCb(action="section", id=i))
    kb.button(text=_("« Back"), callback_data=WizardCb(action="seatsback"))
    kb.adjust(2)
    return kb.as_markup()


def rows(names: Sequence[str], section: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for i, name in enumerate(names):
        kb.button(text=_("Row {row}", row=name), callback_data=WizardCb(action="row", id=i))
    kb.button(text=_("« Sections"), callback_data=WizardCb(action="pick"))
    kb.adjust(4)
    return kb.as_markup()


def seats(row: Sequence[SeatOption], chosen: set[int], *, any_chosen: bool) -> InlineKeyboardMarkup:
    """Every seat of the row: "✓12" chosen, "✗12" taken (a press says so), "12" free."""
    kb = Keyboard()
    for seat in row:
        if seat.id in chosen:
            mark = "✓"
        elif not seat.free:
            mark = "✗"
        else:
            mark = ""
        kb.button(text=f"{mark}{seat.number}", callback_data=WizardCb(action="seat", id=seat.id))
    kb.adjust(SEATS_PER_ROW)
    tail = Keyboard()
    tail.button(text=_("« Rows"), callback_data=WizardCb(action="rows"))
    if any_chosen:
        tail.button(text=_("Done"), callback_data=WizardCb(action="seatsdone"))
    kb.attach(tail)
    return kb.as_markup()


def summary(
    offer: Offer, draft: int, total: str, timezone: str, *, can_pay: bool
) -> InlineKeyboardMarkup:
    kb = Keyboard()
    if offer.can_hold and offer.deadline is not None:
        until = short(offer.deadline, timezone)
        kb.button(
            text=_("Hold until {deadline}", deadline=until),
            callback_data=WizardCb(action="hold", id=draft),
        )
    if offer.can_buy and can_pay:
        kb.button(
            text=_("Pay now {total}", total=total), callback_data=WizardCb(action="buy", id=draft)
        )
    kb.button(text=_("« Change"), callback_data=WizardCb(action="tariff", id=offer.tariff_id))
    kb.button(text=_("Cancel"), callback_data=WizardCb(action="abort"))
    kb.adjust(1)
    return kb.as_markup()


def languages() -> InlineKeyboardMarkup:
    kb = Keyboard()
    for code, label in LANGUAGES.items():
        kb.button(text=label, callback_data=LangCb(action=code))
    kb.adjust(2)
    return kb.as_markup()
