"""Adding a date to a pass with choice (issue 12 item 6): one of the customer's own passes
(/passes → "Add a date to …"), or the pass named by a typed code, then one of the dates it
may still pick (``pass_choices.choosable_dates``), through ``pass_choices.add_date``, which
counts the choices down race-safe. A code is looked up among the customer's own passes only:
a stranger's code and a mistyped one read alike, so nobody learns whose a code is.

The handlers are added to the /passes router by ``register``.
"""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.queries import pass_choices as choice_queries
from booking.queries.passes import PassDetail
from booking.services import pass_choices
from booking.views import CustomerView
from bot import pass_cards as cards
from bot import pass_screens as screens
from bot.callbacks import pressed
from bot.common import actor
from bot.pass_callbacks import PassCb
from bot.pass_steps import Adding
from bot.routers import Handlers
from bot.states import finish, save
from bot.wizard import Screen, present

TEXT = F.text & ~F.text.startswith("/")


async def add_to_pass(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    found = await cards.own_pass(ctx, customer, callback_data.id)
    if found is None:
        await cards.changed(query, ctx, customer)
        return
    await present(query, await _dates_to_add(state, ctx, customer, found))
    await query.answer()


async def _dates_to_add(
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    found: PassDetail,
    notice: str = "",
) -> Screen:
    if found.choices_left is None:
        await finish(state)
        return (await cards.list_screen(ctx, customer)).above(
            cards.refusal(BookingError("pass_not_choice", pass_code=found.code))
        )
    if not found.choices_left or not screens.usable(found):
        code = "pass_no_choice_left" if screens.usable(found) else "pass_void"
        await finish(state)
        refusal = cards.refusal(BookingError(code, pass_code=found.code))
        return (await cards.list_screen(ctx, customer)).above(refusal)
    dates = await choice_queries.choosable_dates(ctx, pass_id=found.id)
    await save(state, Adding.date, {"pass": found.id, "code": found.code})
    return screens.add_dates_screen(found, dates).above(notice)


async def ask_code(query: CallbackQuery, state: FSMContext) -> None:
    await save(state, Adding.code, {})
    await present(query, screens.code_screen())
    await query.answer()


async def typed_code(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    typed = (message.text or "").strip()
    pass_id = None
    if customer is not None:
        pass_id = await choice_queries.pass_id_by_code(ctx, code=typed, customer_id=customer.id)
    found = await cards.own_pass(ctx, customer, pass_id) if pass_id is not None else None
    if found is None:
        # A stranger's code and a mistyped one read alike: nobody learns whose a code is.
        notice = cards.refusal(BookingError("pass_code_unknown", pass_code=typed[:20]))
        await present(message, screens.code_screen(notice=notice))
        return
    await present(message, await _dates_to_add(state, ctx, customer, found))


async def code_not_text(message: Message) -> None:
    await present(message, screens.code_screen())


async def add_date(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    data = await state.get_data()
    found = await cards.own_pass(ctx, customer, int(data.get("pass", 0)))
    if found is None or customer is None:
        await finish(state)
        await cards.changed(query, ctx, customer)
        return
    try:
        added = await pass_choices.add_date(
            ctx, actor=actor(customer), code=found.code, performance_id=callback_data.id
        )
    except BookingError as error:
        fresh = await cards.own_pass(ctx, customer, found.id) or found
        await present(query, await _dates_to_add(state, ctx, customer, fresh, cards.refusal(error)))
        await query.answer()
        return
    await finish(state)
    await present(query, await _added(ctx, customer, found, added))
    await query.answer()


async def _added(
    ctx: Context, customer: CustomerView, found: PassDetail, added: pass_choices.AddedDate
) -> Screen:
    """The date now in the pass (read back with the pass), and the choices left."""
    now = await cards.own_pass(ctx, customer, found.id) or found
    date = next((d for d in now.dates if d.performance_id == added.performance_id), None)
    if date is None:  # cancelled in between: the list says what the pass is now
        return await cards.list_screen(ctx, customer)
    text = screens.added_text(
        found.code, date.event_title, date.starts_at, date.timezone, added.choices_left
    )
    return Screen(text, screens.after_add(found.id, more=added.choices_left > 0))


def register(router: Handlers) -> None:
    """Add these handlers to the /passes router (bot.routers.passes), in this order."""
    router.callback_query(pressed(PassCb, "add"))(add_to_pass)
    router.callback_query(pressed(PassCb, "code"))(ask_code)
    router.message(Adding.code, TEXT)(typed_code)
    router.message(Adding.code)(code_not_text)
    router.callback_query(Adding.date, pressed(PassCb, "date"))(add_date)
