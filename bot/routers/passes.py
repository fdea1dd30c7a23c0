"""/passes (issue 12, SPEC §9): the customer's season passes, their card, buying one, and
adding a date to a pass with choice.

- The list: each pass with its status (held: the deadline and "Pay", the booking's own pay
  path; paid), seat, pass code, credit and the choices left; "Show card" sends the QR of
  ``PUBLIC_URL/t/<secret>`` as a photo.
- Buying walks the stages of bot.pass_steps: the dates of a pass with choice, the seat, every
  holder field the product asks (each checked at its step, with Back and Cancel; optional ones
  skipped), the photo (uploaded, checked and re-encoded by ``pass_photos``), the summary, then
  "Hold" or "Pay now" through ``passes.sell``, once: a double click sells one pass.
- Adding a date: one of the customer's passes, or one named by its typed code (of their own:
  a stranger's code reads as a wrong one), then a date, through ``pass_choices.add_date``.

Every press reads the pass or product again (house rule 11); every refusal is answered in the
customer's language with the way on.
"""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.rules import pass_holders
from booking.services import bookings
from booking.views import CustomerView
from bot import pass_adding, pass_seats, paying
from bot import pass_buying as buying
from bot import pass_cards as cards
from bot import pass_moves as moves
from bot import pass_screens as screens
from bot import pass_steps as steps
from bot.callbacks import pressed
from bot.common import actor, chat_id_of, ensure_customer
from bot.formatting import money
from bot.i18n import _
from bot.middlewares import KnownCustomers
from bot.pass_callbacks import PassCb
from bot.pass_steps import Buying
from bot.routers import Handlers
from bot.settings import BotSettings
from bot.states import claim, finish
from bot.wizard import Screen, present

router = Handlers("passes")
TEXT = F.text & ~F.text.startswith("/")
UPLOAD = F.photo | F.document


# -- the list and the card ---------------------------------------------------------------------


@router.message(Command("passes"))
async def passes_command(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    await present(message, await cards.list_screen(ctx, customer))


@router.callback_query(pressed(PassCb, "list"))
async def passes_list(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    await present(query, await cards.list_screen(ctx, customer))
    await query.answer()


@router.callback_query(pressed(PassCb, "card"))
async def card(
    query: CallbackQuery,
    callback_data: PassCb,
    ctx: Context,
    customer: CustomerView | None,
    bot: Bot,
) -> None:
    found = await cards.own_pass(ctx, customer, callback_data.id)
    if found is None or not screens.usable(found):
        await cards.changed(query, ctx, customer)
        return
    await cards.send_card(bot, ctx, query.from_user.id, found)
    await query.answer()


# -- buying: the product -----------------------------------------------------------------------


@router.callback_query(pressed(PassCb, "shop"))
async def shop(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    await present(query, screens.products_screen(await buying.on_sale(ctx, customer)))
    await query.answer()


@router.callback_query(pressed(PassCb, "product"))
async def choose_product(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
) -> None:
    data = steps.fresh(callback_data.id, int((await state.get_data()).get("draft", 0)))
    data["can_pay"] = settings.can_pay_online
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None:
        screen = screens.products_screen(await buying.on_sale(ctx, customer))
        await present(query, screen.above(_("This pass is not on sale any more.")))
        await query.answer()
        return
    await present(query, await buying.show_stage(state, stage, data))
    await query.answer()


@router.callback_query(StateFilter(Buying), pressed(PassCb, "back"))
async def back(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    current = await moves.current(query, state, ctx, customer)
    if current is None:
        return
    stage, data = current
    if stage.at == 0:
        await finish(state)
        await present(query, screens.products_screen(await buying.on_sale(ctx, customer)))
    else:
        before = buying.Stage(stage.row, stage.form, stage.names, stage.at - 1)
        await present(query, await buying.show_stage(state, before, data))
    await query.answer()


# -- buying: the dates of a pass with choice ---------------------------------------------------


@router.callback_query(Buying.dates, pressed(PassCb, "toggle"))
async def toggle_date(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    current = await moves.at_stage(query, state, ctx, customer, steps.DATES)
    if current is None:
        return
    stage, data = current
    choosable = {d.performance_id for d in stage.form.dates}
    picks = [int(p) for p in data.get("picks", []) if int(p) in choosable]
    most = stage.row.settings.choice_count or 0
    if callback_data.id in picks:
        picks.remove(callback_data.id)
    elif callback_data.id not in choosable:
        await present(query, await buying.show_stage(state, stage, {**data, "picks": picks}))
        await query.answer(_("This date cannot be picked any more."), show_alert=True)
        return
    elif len(picks) >= most:
        await query.answer(_("You have picked every date this pass allows."), show_alert=True)
        return
    else:
        picks.append(callback_data.id)
    await present(query, await buying.show_stage(state, stage, {**data, "picks": picks}))
    await query.answer()


@router.callback_query(Buying.dates, pressed(PassCb, "picked"))
async def dates_done(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    current = await moves.at_stage(query, state, ctx, customer, steps.DATES)
    if current is None:
        return
    stage, data = current
    if not data.get("picks"):
        await query.answer(_("Pick at least one date first."), show_alert=True)
        return
    await moves.go_next(query, state, stage, data)
    await query.answer()


# -- buying: the seat (bot.pass_seats) --------------------------------------------------------

pass_seats.register(router)


# -- buying: the holder fields and the photo ---------------------------------------------------


@router.message(Buying.field, TEXT)
async def typed_field(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    data = await state.get_data()
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None or stage.name in (steps.DATES, steps.SEAT, steps.PHOTO, steps.SUMMARY):
        await moves.lost(message, state, ctx, customer, stage, data)
        return
    name, settings = stage.name, stage.row.settings
    try:
        kept = pass_holders.check_answers(
            ((name, settings.mode(name)),), {name: message.text or ""}, today=ctx.clock.now().date()
        )
    except BookingError as error:
        notice = cards.refusal(error)
        await present(message, await buying.show_stage(state, stage, data, notice=notice))
        return
    answers = {**dict(data.get("answers", {})), **kept}
    await moves.go_next(message, state, stage, {**data, "answers": answers})


@router.callback_query(StateFilter(Buying.field, Buying.photo), pressed(PassCb, "skip"))
async def skip_field(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    current = await moves.current(query, state, ctx, customer)
    if current is None:
        return
    stage, data = current
    name = stage.name
    if (
        name in (steps.DATES, steps.SEAT, steps.SUMMARY)
        or stage.row.settings.mode(name) != "optional"
    ):
        await present(query, await buying.show_stage(state, stage, data))
        await query.answer(_("This has changed in the meantime."))
        return
    answers = {k: v for k, v in dict(data.get("answers", {})).items() if k != name}
    data = {**data, "answers": answers}
    if name == steps.PHOTO:
        data["photo"] = None
    await moves.go_next(query, state, stage, data)
    await query.answer()


@router.message(Buying.photo, UPLOAD)
async def uploaded_photo(
    message: Message,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    bot: Bot,
    known: KnownCustomers | None,
) -> None:
    data = await state.get_data()
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None or stage.name != steps.PHOTO or message.from_user is None:
        await moves.lost(message, state, ctx, customer, stage, data)
        return
    who = await ensure_customer(ctx, customer, message.from_user, message.chat.id, known)
    stored = await buying.received_photo(bot, ctx, who, message)
    if isinstance(stored, str):  # refused: the same step again, with why
        await present(message, await buying.show_stage(state, stage, data, notice=stored))
        return
    await moves.go_next(message, state, stage, {**data, "photo": stored})


@router.message(Buying.photo)
async def not_a_photo(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    data = await state.get_data()
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None or stage.name != steps.PHOTO:
        await moves.lost(message, state, ctx, customer, stage, data)
        return
    notice = _("Please send a photo (or an image file).")
    await present(message, await buying.show_stage(state, stage, data, notice=notice))


@router.message(StateFilter(Buying.dates, Buying.seat, Buying.summary, Buying.field))
async def not_now(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    """Something typed or sent where a button is expected: the same question again."""
    data = await state.get_data()
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None:
        await moves.lost(message, state, ctx, customer, stage, data)
        return
    notice = _("Please answer with the buttons below.")
    if stage.name not in (steps.DATES, steps.SEAT, steps.SUMMARY, steps.PHOTO):
        notice = _("Please type your answer.")
    await present(message, await buying.show_stage(state, stage, data, notice=notice))


# -- buying: hold or pay -----------------------------------------------------------------------


@router.callback_query(pressed(PassCb, "hold", "buy"))
async def hold_or_buy(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    raw_state: str | None,
    known: KnownCustomers | None,
) -> None:
    data = await state.get_data()
    if raw_state != Buying.summary.state or int(data.get("draft", -1)) != callback_data.id:
        await query.answer(
            _(
                "This summary is out of date: the pass is already being handled, or you "
                "changed your choice. See /passes."
            ),
            show_alert=True,
        )
        return
    stage = await buying.stage_of(ctx, customer, data)
    if stage is None:
        await moves.current(query, state, ctx, customer)  # shows the products on sale
        return
    who = await ensure_customer(ctx, customer, query.from_user, query.from_user.id, known)
    if not await claim(state, Buying.summary, None):  # a double click: the first one sells
        await query.answer(_("This pass is already being handled. See /passes."))
        return
    buy = callback_data.action == "buy" and settings.can_pay_online
    try:
        sold = await buying.sell(ctx, who, data, buy=buy)
    except BookingError as error:
        fixing = buying.stage_for(stage, error)
        screen = await buying.show_stage(state, fixing, data, notice=cards.refusal(error))
        await present(query, screen)
        await query.answer()
        return
    await query.answer()
    await _sold(query, ctx, who, sold.reference, sold.code, settings, bot, buy=buy)


async def _sold(
    query: CallbackQuery,
    ctx: Context,
    customer: CustomerView,
    reference: str,
    code: str,
    settings: BotSettings,
    bot: Bot,
    *,
    buy: bool,
) -> None:
    booking = await bookings.get_booking(ctx, actor=actor(customer), reference=reference)
    total = money(booking.total_minor, booking.currency)
    if buy:
        text = _("Pass {code} is kept for you while you pay.", code=code)
        await present(query, Screen(text, screens.to_passes()))
        await paying.offer_payment(bot, ctx, chat_id_of(query), booking, settings)
        return
    text = screens.held_text(code, booking.deadline, booking.timezone)
    await present(query, Screen(text, screens.held_keyboard(booking.reference, total)))


# -- adding a date to a pass with choice (bot.pass_adding) -------------------------------------

pass_adding.register(router)
