"""/language: English or French, remembered on the customer."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.rules.formatting import LOCALES
from booking.services import customers
from booking.views import CustomerView
from bot import keyboards
from bot.callbacks import LangCb, pressed
from bot.common import actor, changed, ensure_customer, show
from bot.i18n import _, set_locale
from bot.middlewares import KnownCustomers
from bot.routers import Handlers

router = Handlers("language")


@router.message(Command("language"))
async def ask(message: Message) -> None:
    await message.answer(_("Which language should I use?"), reply_markup=keyboards.languages())


@router.callback_query(pressed(LangCb, *LOCALES))
async def choose(
    query: CallbackQuery,
    callback_data: LangCb,
    ctx: Context,
    customer: CustomerView | None,
    known: KnownCustomers | None,
) -> None:
    who = await ensure_customer(ctx, customer, query.from_user, query.from_user.id, known)
    await customers.set_language(
        ctx, actor=actor(who), customer_id=who.id, language=callback_data.action
    )
    changed(known, query.from_user)
    set_locale(callback_data.action)  # answer in the language just chosen
    await show(query, _("From now on I will write to you in English."))
    await query.answer()
