"""/tickets and "Show tickets": the QR codes of paid bookings, again."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.services import tickets
from booking.views import CustomerView
from bot import qr
from bot.callbacks import BookingCb, MenuCb, pressed
from bot.common import actor
from bot.i18n import _
from bot.routers import Handlers
from bot.routers.bookings import load
from bot.states import finish

router = Handlers("tickets")


async def _send_all(bot: Bot, chat_id: int, ctx: Context, customer: CustomerView | None) -> None:
    found = []
    if customer is not None:
        found = await tickets.list_tickets(ctx, actor=actor(customer), customer_id=customer.id)
    if not found:
        await bot.send_message(
            chat_id,
            _(
                "You have no tickets for upcoming events yet. Paid "
                "bookings show their tickets here."
            ),
        )
        return
    await bot.send_message(chat_id, _("Your tickets ({count}):", count=len(found)))
    await qr.send_tickets(bot, chat_id, found)


@router.message(Command("tickets"))
async def all_tickets(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None, bot: Bot
) -> None:
    await finish(state)
    await _send_all(bot, message.chat.id, ctx, customer)


@router.callback_query(pressed(MenuCb, "tickets"))
async def all_tickets_button(
    query: CallbackQuery, ctx: Context, customer: CustomerView | None, bot: Bot
) -> None:
    await _send_all(bot, query.from_user.id, ctx, customer)
    await query.answer()


@router.callback_query(pressed(BookingCb, "tickets"))
async def booking_tickets(
    query: CallbackQuery,
    callback_data: BookingCb,
    ctx: Context,
    customer: CustomerView | None,
    bot: Bot,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None or customer is None:
        return
    found = await tickets.list_tickets(
        ctx, actor=actor(customer), customer_id=customer.id, reference=booking.reference
    )
    if not found:
        await query.answer(
            _("This booking has no valid tickets (not paid, cancelled or past)."), show_alert=True
        )
        return
    await qr.send_tickets(bot, query.from_user.id, found)
    await query.answer()
