"""Tickets as QR images in the chat (after a payment, on /tickets, and in notices)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile

from booking.qr import qr_png
from booking.views import TicketView
from bot.formatting import seat, when
from bot.i18n import _


def caption(ticket: TicketView) -> str:
    lines = [ticket.event_title, when(ticket.starts_at, ticket.timezone), ticket.tariff_name]
    if ticket.seat:
        lines.append(seat(ticket.seat))
    lines.append(
        _("Booking {reference} · show this code at the entrance", reference=ticket.reference)
    )
    return "\n".join(lines)


async def send_tickets(bot: Bot, chat_id: int, found: list[TicketView]) -> None:
    """One photo per ticket. Several in a row may meet Telegram's flood limit: the Bot's
    session then waits as long as Telegram asks, within its budget (bot/session.py), rather
    than leave a paid customer with half their tickets; past it, /tickets shows them again."""
    for ticket in found:
        png = qr_png(ticket.url)
        photo = BufferedInputFile(png, filename=f"ticket-{ticket.reference}.png")
        text = caption(ticket)[:1024]  # Telegram's caption limit
        await bot.send_photo(chat_id, photo, caption=text)
