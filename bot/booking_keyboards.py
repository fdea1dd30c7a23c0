"""Buttons of the steps on one booking: cancelling with a reason, and asking for more time.

Every prompt that waits for typed text (the "other" reason, a date, the reason for more time)
carries "« Back" to the step before and "Cancel" (``bot.prompts.controls``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup

from booking.services.pass_credit import BookingCredit
from bot.buttons import Keyboard
from bot.callbacks import BookingCb, CancelCb, ExtendCb
from bot.credit_callbacks import CreditCb
from bot.formatting import money
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


def credit_choices(credit: BookingCredit) -> InlineKeyboardMarkup:
    """The pay step when pass credit can pay (issue 12 item 7): one button per pass ("Pay
    with pass credit (CHF 90.00)", or "Use CHF 25.00 credit, pay CHF 65.00"), then paying
    without credit and "« Back" to the booking."""
    kb = Keyboard()
    ref = credit.reference
    several = len(credit.offers) > 1
    for offer in credit.offers[:3]:  # a holder has one pass a season; three fit a phone
        use = money(offer.use_minor, offer.currency)
        if offer.covers:
            text = _("Pay with pass credit ({amount})", amount=use)
        else:
            rest = money(offer.rest_minor, offer.currency)
            text = _("Use {credit} credit, pay {rest}", credit=use, rest=rest)
        if several:
            text = f"{text} · {offer.code}"
        kb.button(text=text, callback_data=CreditCb(action="use", ref=ref, id=offer.pass_id))
    due = money(credit.due_minor, credit.currency)
    kb.button(
        text=_("Pay {total} without credit", total=due),
        callback_data=CreditCb(action="card", ref=ref),
    )
    kb.button(text=_("« Back"), callback_data=BookingCb(action="open", ref=ref))
    kb.adjust(1)
    return kb.as_markup()
