"""The start menu, offering only what can work now.

Linking by email needs a mailed code: the menu offers it only when email can be sent
(``linking.codes_can_be_mailed``). A customer with an address on file gets "Use another email
address" instead, which proves the new address the same way.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from booking.views import CustomerView
from bot.buttons import Keyboard
from bot.callbacks import MenuCb
from bot.i18n import _
from bot.pass_callbacks import PassCb

LINK = MenuCb(action="link")  # an address for a chat without one
OTHER_EMAIL = MenuCb(action="email")  # another address instead of the one on file


def has_email(customer: CustomerView | None) -> bool:
    return customer is not None and customer.email is not None


def start_menu(customer: CustomerView | None, *, email_works: bool) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("Browse events"), callback_data=MenuCb(action="events"))
    kb.button(text=_("My bookings"), callback_data=MenuCb(action="mybookings"))
    kb.button(text=_("My season passes"), callback_data=PassCb(action="list"))
    if email_works and has_email(customer):
        kb.button(text=_("Use another email address"), callback_data=OTHER_EMAIL)
    elif email_works:
        kb.button(text=_("Link my bookings (email)"), callback_data=LINK)
    kb.adjust(1)
    return kb.as_markup()
