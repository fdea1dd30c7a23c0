"""Registered last: whatever no other router took. Free text, photos and stickers where the bot
expects a button, unknown commands, buttons nobody knows any more, and a typed booking
reference (which opens the booking when it is the customer's)."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import bookings
from booking.views import CustomerView
from bot import cards
from bot.common import actor
from bot.i18n import _, current_locale
from bot.routers import Handlers
from bot.states import Cancelling, Extending, Linking, Wizard, WizardTyping

router = Handlers("fallback")
# Steps that wait for typed text: anything else (a photo, a sticker) gets a hint to type.
TYPING = {
    s.state
    for s in (
        Wizard.name,
        Wizard.email,
        Wizard.code,
        Linking.email,
        Linking.code,
        Cancelling.note,
        Extending.date,
        Extending.reason,
        WizardTyping.quantity,
    )
}
# "K7M-4QX", "k7m 4qx", "K7M4QX": what a typed reference looks like before the service
# normalises it. Without a separator it needs a digit, so that "thanks" stays a word.
REFERENCE = r"^\s*(?:[A-Za-z0-9]{3}[\s-][A-Za-z0-9]{3}|(?=\S*\d)[A-Za-z0-9]{6})\s*$"


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know that command. /help lists what I can do."))


@router.message(F.text.regexp(REFERENCE))
async def typed_reference(
    message: Message, ctx: Context, customer: CustomerView | None, raw_state: str | None
) -> None:
    if raw_state is not None:
        await wrong_input(message, raw_state)
        return
    assert message.text is not None
    if customer is None:
        await message.answer(error_text(BookingError("not_owner"), current_locale()))
        return
    try:
        booking = await bookings.get_booking(ctx, actor=actor(customer), reference=message.text)
    except BookingError as error:
        await message.answer(error_text(error, current_locale()))
        return
    now = ctx.clock.now()
    await message.answer(
        cards.booking_text(booking, now=now), reply_markup=cards.booking_keyboard(booking, now=now)
    )


@router.message()
async def wrong_input(message: Message, raw_state: str | None) -> None:
    if raw_state in TYPING:
        await message.answer(_("Please type your answer as text."))
    elif raw_state is not None:
        await message.answer(_("Please choose with the buttons above, or /events to start over."))
    else:
        await message.answer(_("I did not understand that. /help lists what I can do."))


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. /mybookings and /events show where things stand now."),
        show_alert=True,
    )
