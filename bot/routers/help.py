"""/help: what the bot can do, in the customer's language."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message

from bot.i18n import _
from bot.routers import Handlers

router = Handlers("help")


def help_text() -> str:
    return _(
        "Here is what I can do:\n"
        "/events – what is on: choose a date and tickets, hold places or pay now\n"
        "/mybookings – your bookings, what needs you first: pay, cancel, ask for more time\n"
        "/tickets – your tickets as QR codes, to show at the entrance\n"
        "/passes – your season passes: buy one, show its card, add a date\n"
        "/renew – renew your season pass for next season, keeping your seat\n"
        "/language – English or French\n"
        "/start – link the bookings you made by email, at the box office or by phone\n"
        "\n"
        "Places you hold must be paid before their deadline; I remind you before it passes."
    )


@router.message(Command("help"))
async def show_help(message: Message) -> None:
    await message.answer(help_text())


@router.message(Command("resale"))
async def not_yet(message: Message) -> None:
    await message.answer(_("Resale is not available in this bot yet; the box office can help."))
