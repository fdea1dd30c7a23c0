"""Buttons of /renew. Each names a renewal (and an offered product) only; the router reads the
renewal again on every press (bot/routers/renew.py)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from booking.queries.renewals import RenewalChoice, RenewalOption
from booking.views import BookingView
from bot.buttons import Keyboard
from bot.callbacks import BookingCb
from bot.formatting import clip, money
from bot.i18n import _
from bot.renew_callbacks import RenewCb

ALL = RenewCb(action="list")


def renew_button(renewal_id: int) -> InlineKeyboardMarkup:
    """Under an invitation or a reminder: this renewal's offers (checked again when pressed)."""
    kb = Keyboard()
    kb.button(text=_("Renew my pass"), callback_data=RenewCb(action="open", id=renewal_id))
    return kb.as_markup()


def list_keyboard(found: list[RenewalChoice]) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for choice in found:
        label = f"{choice.pass_code} · {clip(choice.campaign_name, 30)}"
        kb.button(text=label, callback_data=RenewCb(action="open", id=choice.renewal_id))
    kb.adjust(1)
    return kb.as_markup()


def choice_keyboard(
    choice: RenewalChoice, booking: BookingView | None = None
) -> InlineKeyboardMarkup:
    """The offers while the window is open; once renewed, "Pay" while the renewal ``booking``
    is held, and the booking itself; always a way back to every renewal."""
    kb = Keyboard()
    if choice.state == "invited" and choice.open_now:
        for option in choice.options:
            label = f"{clip(option.name, 30)} · {money(option.price_minor, option.currency)}"
            kb.button(
                text=label,
                callback_data=RenewCb(
                    action="offer", id=choice.renewal_id, product=option.product_id
                ),
            )
    elif choice.state == "renewed" and choice.new_reference:
        if booking is not None and booking.is_open:
            total = money(booking.total_minor, booking.currency)
            kb.button(
                text=_("Pay {total}", total=total),
                callback_data=BookingCb(action="pay", ref=booking.reference),
            )
        kb.button(
            text=_("Open booking {reference}", reference=choice.new_reference),
            callback_data=BookingCb(action="open", ref=choice.new_reference),
        )
    kb.button(text=_("« All my renewals"), callback_data=ALL)
    kb.adjust(1)
    return kb.as_markup()


def summary_keyboard(
    choice: RenewalChoice, option: RenewalOption, *, can_pay: bool
) -> InlineKeyboardMarkup:
    kb = Keyboard()
    ids = {"id": choice.renewal_id, "product": option.product_id}
    kb.button(text=_("Hold it, pay later"), callback_data=RenewCb(action="hold", **ids))
    if can_pay:
        price = money(option.price_minor, option.currency)
        kb.button(
            text=_("Pay now {total}", total=price), callback_data=RenewCb(action="buy", **ids)
        )
    kb.button(text=_("« Other choices"), callback_data=RenewCb(action="open", id=choice.renewal_id))
    kb.adjust(1)
    return kb.as_markup()
