"""Buttons of the steps on one booking: cancelling with a reason, and asking for more time.

Every prompt that waits for typed text (the "other" reason, a date, the reason for more time)
carries "« Back" to the step before and "Cancel" (``bot.prompts.controls``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from bot.buttons import Keyboard
from bot.callbacks import BookingCb, CancelCb, ExtendCb
from bot.i18n import N_, _
from bot.prompts import controls

REASONS = {
    "cannot_attend": N_("I cannot attend"),
    "illness": N_("Illness"),
    "mistake": N_("Booked by mistake"),
    "price": N_("Too expensive"),
    "other": N_("Other reason…"),
}


def cancel_reasons(reference: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for code, label in REASONS.items():
        kb.button(text=_(label), callback_data=CancelCb(action=code, ref=reference))
    kb.button(text=_("« Back"), callback_data=BookingCb(action="open", ref=reference))
    kb.adjust(1)
    return kb.as_markup()


def cancel_note(reference: str) -> InlineKeyboardMarkup:
    """Under "Tell me in a few words…": back to the list of reasons."""
    return controls(BookingCb(action="cancel", ref=reference))


def cancel_confirm(reference: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("Yes, cancel it"), callback_data=CancelCb(action="yes", ref=reference))
    kb.button(text=_("No, keep it"), callback_data=CancelCb(action="no", ref=reference))
    kb.adjust(2)
    return kb.as_markup()


def extension_choices(reference: str, proposals: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """``proposals``: (action, label) pairs such as ("d7", "Until Mon 7 Dec"). Shown only when
    some day can be asked for (``booking.rules.deadlines.request_days``), so "Another date…"
    always leads to a date the bot accepts."""
    kb = Keyboard()
    for action, label in proposals:
        kb.button(text=label, callback_data=ExtendCb(action=action, ref=reference))
    kb.button(text=_("Another date…"), callback_data=ExtendCb(action="typed", ref=reference))
    kb.button(text=_("« Back"), callback_data=BookingCb(action="open", ref=reference))
    kb.adjust(1)
    return kb.as_markup()


def extension_date(reference: str) -> InlineKeyboardMarkup:
    """Under "Type the date you need…": back to the proposed dates."""
    return controls(BookingCb(action="extend", ref=reference))


def extension_reason(reference: str) -> InlineKeyboardMarkup:
    """Under "Why do you need it?": send without one, or go back to the dates."""
    kb = Keyboard()
    kb.button(
        text=_("Send without a reason"), callback_data=ExtendCb(action="noreason", ref=reference)
    )
    return controls(BookingCb(action="extend", ref=reference), extra=kb)
