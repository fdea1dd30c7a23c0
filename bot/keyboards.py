"""Inline keyboards of the menus and the /events wizard (the booking ones live in cards.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from booking.services.catalog import EventSummary, Offer, PerformanceView
from booking.services.seating import SeatOption
from bot.buttons import Keyboard
from bot.callbacks import BookingCb, CancelCb, ExtendCb, LangCb, MenuCb, WizardCb
from bot.formatting import clip, money, short
from bot.i18n import N_, _

EVENTS_PAGE = 5
MAX_QUANTITY = 6  # a row of buttons; larger groups are a box-office matter
REASONS = {
    "cannot_attend": N_("I cannot attend"),
    "illness": N_("Illness"),
    "mistake": N_("Booked by mistake"),
    "price": N_("Too expensive"),
    "other": N_("Other reason…"),
}
LANGUAGES = {"en": "English", "fr": "Français"}


def start_menu(linked: bool) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("Browse events"), callback_data=MenuCb(action="events"))
    kb.button(text=_("My bookings"), callback_data=MenuCb(action="mybookings"))
    if not linked:
        kb.button(text=_("Link my bookings (email)"), callback_data=MenuCb(action="link"))
    kb.adjust(1)
    return kb.as_markup()


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
    kb = Keyboard()
    for performance in found:
        if performance.remaining > 0:
            label = short(performance.starts_at, performance.timezone)
            kb.button(text=label, callback_data=WizardCb(action="date", id=performance.id))
    if back:
        kb.button(text=_("« All events"), callback_data=WizardCb(action="page", id=0))
    kb.adjust(1)
    return kb.as_markup()


def tariffs(found: Sequence[Offer], event_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for offer in found:
        if offer.remaining > 0:
            label = f"{clip(offer.name, 30)} · {money(offer.price_minor, offer.currency)}"
            kb.button(text=label, callback_data=WizardCb(action="tariff", id=offer.tariff_id))
    kb.button(text=_("« Other dates"), callback_data=WizardCb(action="event", id=event_id))
    kb.adjust(1)
    return kb.as_markup()


def quantities(limit: int, *, seated: bool, performance_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for n in range(1, min(limit, MAX_QUANTITY) + 1):
        kb.button(text=str(n), callback_data=WizardCb(action="qty", id=n))
    sizes = [min(limit, MAX_QUANTITY) or 1]
    if seated:
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
    kb = Keyboard()
    for seat in row:
        if not seat.free:
            continue
        mark = "✓ " if seat.id in chosen else ""
        kb.button(text=f"{mark}{seat.number}", callback_data=WizardCb(action="seat", id=seat.id))
    kb.adjust(6)
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


def use_name(name: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("Use “{name}”", name=clip(name, 40)), callback_data=WizardCb(action="tgname"))
    return kb.as_markup()


def cancel_reasons(reference: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for code, label in REASONS.items():
        kb.button(text=_(label), callback_data=CancelCb(action=code, ref=reference))
    kb.button(text=_("« Back"), callback_data=BookingCb(action="open", ref=reference))
    kb.adjust(1)
    return kb.as_markup()


def cancel_confirm(reference: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("Yes, cancel it"), callback_data=CancelCb(action="yes", ref=reference))
    kb.button(text=_("No, keep it"), callback_data=CancelCb(action="no", ref=reference))
    kb.adjust(2)
    return kb.as_markup()


def extension_choices(reference: str, proposals: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """``proposals``: (action, label) pairs such as ("d7", "Until Mon 7 Dec")."""
    kb = Keyboard()
    for action, label in proposals:
        kb.button(text=label, callback_data=ExtendCb(action=action, ref=reference))
    kb.button(text=_("Another date…"), callback_data=ExtendCb(action="typed", ref=reference))
    kb.button(text=_("« Back"), callback_data=BookingCb(action="open", ref=reference))
    kb.adjust(1)
    return kb.as_markup()


def no_reason(reference: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(
        text=_("Send without a reason"), callback_data=ExtendCb(action="noreason", ref=reference)
    )
    return kb.as_markup()


def languages() -> InlineKeyboardMarkup:
    kb = Keyboard()
    for code, label in LANGUAGES.items():
        kb.button(text=label, callback_data=LangCb(action=code))
    kb.adjust(2)
    return kb.as_markup()
