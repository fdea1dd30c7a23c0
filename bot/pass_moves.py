"""Moving through a purchase's stages (bot.pass_steps): the purchase as saved, a press checked
against the stage it stands at, the next stage, and the way out when its product is gone.

A button of an older message is answered with the stage the purchase does stand at, never
acted on: the conversation, not the message, says where the customer is.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.views import CustomerView
from bot import pass_buying as buying
from bot import pass_screens as screens
from bot.i18n import _
from bot.states import finish
from bot.wizard import present


async def current(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> tuple[buying.Stage, dict[str, Any]] | None:
    """The purchase as saved; when its product is gone, the products on sale are shown."""
    data = await state.get_data()
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None:
        await finish(state)
        screen = screens.products_screen(await buying.on_sale(ctx, customer))
        await present(query, screen.above(_("This pass is not on sale any more.")))
        await query.answer()
        return None
    return stage, data


async def at_stage(
    query: CallbackQuery,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    name: str,
) -> tuple[buying.Stage, dict[str, Any]] | None:
    """The purchase when it stands at stage ``name``; an older message's button is answered
    with the stage it does stand at."""
    found = await current(query, state, ctx, customer)
    if found is None:
        return None
    stage, data = found
    if stage.name != name:
        await present(query, await buying.show_stage(state, stage, data))
        await query.answer(_("This has changed in the meantime."))
        return None
    return found


async def go_next(
    target: Message | CallbackQuery,
    state: FSMContext,
    stage: buying.Stage,
    data: dict[str, Any],
    *,
    notice: str = "",
) -> None:
    following = buying.Stage(stage.row, stage.form, stage.names, stage.at + 1)
    await present(target, await buying.show_stage(state, following, data, notice=notice))


async def lost(
    message: Message,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    stage: buying.Stage | None,
    data: dict[str, Any],
) -> None:
    """The purchase no longer fits the product (gone, or changed meanwhile)."""
    if stage is not None:
        notice = _("This has changed in the meantime.")
        await present(message, await buying.show_stage(state, stage, data, notice=notice))
        return
    await finish(state)
    screen = screens.products_screen(await buying.on_sale(ctx, customer))
    await present(message, screen.above(_("This pass is not on sale any more.")))
