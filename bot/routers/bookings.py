"""/mybookings and what a customer does on one booking: open, pay, cancel with a reason,
ask for more time. Every button names a booking; the service re-checks owner and state, so
a button from an old message gets a kind "this has changed" and the booking as it is now.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import bookings, payments
from booking.views import BookingView, CustomerView
from bot import cards, paying
from bot.callbacks import BookingCb, MenuCb, pressed
from bot.common import actor, show
from bot.i18n import _, current_locale
from bot.routers import Handlers
from bot.settings import BotSettings
from bot.states import finish

router = Handlers("bookings")


@router.message(Command("mybookings"))
async def my_bookings(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    found = await bookings.my_bookings(ctx, customer_id=customer.id) if customer else []
    await message.answer(
        cards.bookings_text(found, 0), reply_markup=cards.bookings_keyboard(found, 0)
    )


@router.callback_query(pressed(MenuCb, "mybookings"))
async def my_bookings_page(
    query: CallbackQuery,
    callback_data: MenuCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    await finish(state)
    found = await bookings.my_bookings(ctx, customer_id=customer.id) if customer else []
    page = min(max(callback_data.id, 0), max((len(found) - 1) // cards.PAGE, 0))
    await show(query, cards.bookings_text(found, page), cards.bookings_keyboard(found, page))
    await query.answer()


async def load(
    query: CallbackQuery, ctx: Context, customer: CustomerView | None, reference: str
) -> BookingView | None:
    """The booking for this customer, or None after telling them why not (not theirs...)."""
    if customer is None:
        await query.answer(error_text(BookingError("not_owner"), current_locale()), show_alert=True)
        return None
    try:
        return await bookings.get_booking(ctx, actor=actor(customer), reference=reference)
    except BookingError as error:
        await query.answer(error_text(error, current_locale()), show_alert=True)
        return None


async def changed(
    query: CallbackQuery,
    ctx: Context,
    customer: CustomerView,
    reference: str,
    error: BookingError | None = None,
) -> None:
    """The kind answer to an old button: what changed, and the booking as it is now."""
    booking = await bookings.get_booking(ctx, actor=actor(customer), reference=reference)
    reason = error_text(error, current_locale()) if error else ""
    headline = _("This booking has changed in the meantime. {reason}", reason=reason).strip()
    await show_card(query, ctx, booking, headline)
    await query.answer(_("This has changed in the meantime."))


async def show_card(
    target: Message | CallbackQuery, ctx: Context, booking: BookingView, headline: str = ""
) -> None:
    """The booking with only the actions that can succeed at this moment."""
    now = ctx.clock.now()
    text = cards.booking_text(booking, headline, now=now)
    await show(target, text, cards.booking_keyboard(booking, now=now))


@router.callback_query(pressed(BookingCb, "open"))
async def open_booking(
    query: CallbackQuery,
    callback_data: BookingCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None:
        return
    await finish(state)
    await show_card(query, ctx, booking)
    await query.answer()


@router.callback_query(pressed(BookingCb, "pay"))
async def pay(
    query: CallbackQuery,
    callback_data: BookingCb,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None or customer is None:
        return
    try:
        await payments.check_payable(
            ctx,
            actor=actor(customer),
            reference=booking.reference,
            amount_minor=await paying.amount_due(ctx, booking),  # less pass credit used
            currency=booking.currency,
        )
    except BookingError as error:
        await changed(query, ctx, customer, booking.reference, error)
        return
    payer = actor(customer)  # pass credit is offered to the booking's own customer only
    await paying.offer_payment(bot, ctx, query.from_user.id, booking, settings, payer=payer)
    await query.answer()


@router.message(Command("pay"))
async def pay_command(message: Message) -> None:
    await message.answer(_("Open /mybookings and press “Pay” under the booking."))
