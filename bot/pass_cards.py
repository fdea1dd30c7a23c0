"""The customer's passes in the chat: which are theirs, the list, and the card (the QR the
door scans, ``PUBLIC_URL/t/<secret>``, with the pass's lines as its caption).

Every press that names a pass goes through ``own_pass``: the pass is shown or acted on only
when it is among this chat's customer's passes, so a forged or forwarded button reads as
"this has changed" (house rule 11).
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.qr import qr_png
from booking.queries import passes as pass_queries
from booking.queries.passes import PassDetail
from booking.services import tickets
from booking.views import CustomerView
from bot import pass_screens as screens
from bot.i18n import _, current_locale
from bot.wizard import Screen, present


def refusal(error: BookingError) -> str:
    return error_text(error, current_locale())


async def mine(ctx: Context, customer: CustomerView | None) -> list[PassDetail]:
    if customer is None:
        return []
    return await pass_queries.customer_passes(ctx, customer_id=customer.id)


async def own_pass(ctx: Context, customer: CustomerView | None, pass_id: int) -> PassDetail | None:
    """The pass when it is this customer's; None for anyone else's (a forged button)."""
    return next((p for p in await mine(ctx, customer) if p.id == pass_id), None)


async def list_screen(ctx: Context, customer: CustomerView | None, notice: str = "") -> Screen:
    return screens.passes_screen(await mine(ctx, customer), ctx.settings.timezone, notice=notice)


async def send_card(bot: Bot, ctx: Context, chat_id: int, found: PassDetail) -> None:
    """The pass card: its QR (what the door scans) with the pass's lines as the caption."""
    png = qr_png(tickets.ticket_url(ctx.settings.public_url, found.secret))
    photo = BufferedInputFile(png, filename=f"pass-{found.code}.png")
    caption = screens.card_caption(found, ctx.settings.timezone)
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=screens.to_passes())


async def changed(query: CallbackQuery, ctx: Context, customer: CustomerView | None) -> None:
    await present(query, await list_screen(ctx, customer))
    await query.answer(_("This has changed in the meantime."))


async def card_of_booking(ctx: Context, customer_id: int, reference: str) -> PassDetail | None:
    """The pass a booking bought, when it is one (for the card after a payment)."""
    found = await pass_queries.customer_passes(ctx, customer_id=customer_id)
    return next((p for p in found if p.reference == reference), None)
