"""Cancel under a typed prompt (``bot.prompts``): the step ends, nothing is changed."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from booking.context import Context
from booking.services import linking
from booking.views import CustomerView
from bot.callbacks import MenuCb, pressed
from bot.common import show
from bot.i18n import _
from bot.routers import Handlers
from bot.start_keyboards import start_menu
from bot.states import finish

router = Handlers("prompts")


@router.callback_query(pressed(MenuCb, "quit"))
async def quit_prompt(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    menu = start_menu(customer, email_works=await linking.codes_can_be_mailed(ctx))
    await show(query, _("Nothing was changed. What would you like to do?"), menu)
    await query.answer()
