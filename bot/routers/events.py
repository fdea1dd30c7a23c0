"""/events: an event, a date, a ticket type, a quantity (seats: see seats.py), a summary.

Event and date buttons carry their id and work from any message. From the ticket type on,
the step depends on what was chosen before, which lives in the conversation state.
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.services.catalog import Offer, PerformanceView
from booking.views import CustomerView
from bot import wizard
from bot.availability import quantities
from bot.callbacks import MenuCb, WizardCb, pressed
from bot.common import show
from bot.i18n import _
from bot.listings import Listings
from bot.routers import Handlers
from bot.settings import BotSettings
from bot.states import Wizard, WizardTyping, finish, save
from bot.wizard import Screen, present

router = Handlers("events")
TEXT = F.text & ~F.text.startswith("/")


def customer_type(customer: CustomerView | None) -> str:
    return customer.customer_type if customer else "individual"


async def _open_events(listings: Listings, state: FSMContext, offset: int) -> Screen:
    screen, single_event = await wizard.events_screen(listings, offset)
    if single_event is None:
        await finish(state)
    else:
        await save(state, Wizard.date, {"event": single_event})
    return screen


@router.message(Command("events"))
async def events(message: Message, state: FSMContext, listings: Listings) -> None:
    await present(message, await _open_events(listings, state, 0))


@router.callback_query(pressed(MenuCb, "events"))
async def events_button(query: CallbackQuery, state: FSMContext, listings: Listings) -> None:
    await present(query, await _open_events(listings, state, 0))
    await query.answer()


@router.callback_query(pressed(WizardCb, "page"))
async def page(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    await present(query, await _open_events(listings, state, max(callback_data.id, 0)))
    await query.answer()


@router.callback_query(pressed(WizardCb, "event"))
async def event(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    await save(state, Wizard.date, {"event": callback_data.id})
    await present(query, await wizard.dates_screen(listings, callback_data.id))
    await query.answer()


@router.callback_query(pressed(WizardCb, "date"))
async def date(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
) -> None:
    data = await state.get_data()
    perf = await wizard.performance(listings, int(data.get("event", 0)), callback_data.id)
    if perf is None:
        await _changed(query, state, listings, data)
        return
    if perf.remaining <= 0:  # shown and marked, so that nobody wonders where it went
        await query.answer(_("This date is sold out. Please choose another one."), show_alert=True)
        return
    await save(
        state,
        Wizard.tariff,
        {"event": perf.event_id, "performance": perf.id, "draft": data.get("draft", 0)},
    )
    await present(query, await wizard.tariffs_screen(listings, perf, customer_type(customer)))
    await query.answer()


@router.callback_query(pressed(WizardCb, "tariff"))
async def tariff(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
) -> None:
    """The quantity step; also « Back from the typed number."""
    data = await state.get_data()
    offer = await current_offer(listings, data, customer, callback_data.id)
    if offer is None or not quantities(offer):
        await _changed(query, state, listings, data)
        return
    screen = await quantity_step(listings, state, data, customer, tariff_id=offer.tariff_id)
    await present(query, screen)
    await query.answer()


@router.callback_query(Wizard.quantity, pressed(WizardCb, "qty"))
async def quantity(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
) -> None:
    data = {**await state.get_data(), "qty": callback_data.id, "seats": []}
    await present(query, await summary(listings, state, data, customer, settings))
    await query.answer()


@router.callback_query(Wizard.quantity, pressed(WizardCb, "typeqty"))
async def other_number(
    query: CallbackQuery, state: FSMContext, listings: Listings, customer: CustomerView | None
) -> None:
    data = await state.get_data()
    offer = await current_offer(listings, data, customer)
    perf = await _performance(listings, data)
    if offer is None or perf is None or not quantities(offer):
        await _changed(query, state, listings, data)
        return
    await save(state, WizardTyping.quantity, data)
    await present(query, wizard.typed_quantity_screen(offer, perf))
    await query.answer()


@router.message(WizardTyping.quantity, TEXT)
async def typed_number(
    message: Message,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
) -> None:
    """Checked here, against what is possible now: a number that cannot be held is refused
    at this step with the reason and the range, and the customer types again."""
    assert message.text is not None
    data = await state.get_data()
    offer = await current_offer(listings, data, customer)
    if offer is None or not quantities(offer):
        await present(message, await changed_screen(listings, state, data))
        return
    typed = wizard.typed_quantity(message.text, offer)
    if isinstance(typed, str):  # typed again at this step, or Back / Cancel
        await message.answer(typed, reply_markup=wizard.typed_quantity_controls(offer))
        return
    data = {**data, "qty": typed, "seats": []}
    await present(message, await summary(listings, state, data, customer, settings))


@router.callback_query(pressed(WizardCb, "abort"))
async def abort(query: CallbackQuery, state: FSMContext) -> None:
    await finish(state)
    await show(query, _("Nothing was booked. /events to start again."))
    await query.answer()


async def current_offer(
    listings: Listings,
    data: dict[str, Any],
    customer: CustomerView | None,
    tariff_id: int | None = None,
) -> Offer | None:
    """The offer chosen in this conversation, as this customer may take it right now."""
    if "performance" not in data:
        return None
    wanted = tariff_id if tariff_id is not None else int(data.get("tariff", 0))
    found = await wizard.offers(listings, int(data["performance"]), customer_type(customer))
    return next((o for o in found if o.tariff_id == wanted), None)


async def _performance(listings: Listings, data: dict[str, Any]) -> PerformanceView | None:
    return await wizard.performance(
        listings, int(data.get("event", 0)), int(data.get("performance", 0))
    )


async def quantity_step(
    listings: Listings,
    state: FSMContext,
    data: dict[str, Any],
    customer: CustomerView | None,
    *,
    tariff_id: int | None = None,
    notice: str = "",
) -> Screen:
    """The quantity step of the chosen ticket type (or ``tariff_id``) as it stands now, saved
    with nothing chosen yet; the event's dates when it cannot be booked any more. Where a
    refusal about the number of places (``notice``) sends the customer to choose again."""
    offer = await current_offer(listings, data, customer, tariff_id)
    perf = await _performance(listings, data)
    if offer is None or perf is None or not quantities(offer):
        return (await changed_screen(listings, state, data)).above(notice)
    await save(state, Wizard.quantity, {**data, "tariff": offer.tariff_id, "seats": [], "qty": 0})
    return wizard.quantity_screen(offer, perf).above(notice)


async def summary(
    listings: Listings,
    state: FSMContext,
    data: dict[str, Any],
    customer: CustomerView | None,
    settings: BotSettings,
    notice: str = "",
) -> Screen:
    """Save a new draft and return its summary; an earlier summary's buttons stop working.
    A number of places that cannot be held now (an old button, places gone meanwhile) goes
    back to the quantity step instead, which offers only what can."""
    offer = await current_offer(listings, data, customer)
    perf = await _performance(listings, data)
    if offer is None or perf is None:
        return await changed_screen(listings, state, data)
    if not data.get("seats") and int(data.get("qty", 0)) not in quantities(offer):
        notice = notice or _("That number of places is no longer possible; choose again.")
        return await quantity_step(listings, state, data, customer, notice=notice)
    chosen = (
        wizard.chosen_seats(await wizard.seat_map(listings.ctx, data), data)
        if data.get("seats")
        else []
    )
    data = {**data, "draft": int(data.get("draft", 0)) + 1}
    await save(state, Wizard.summary, data)
    screen = wizard.summary_screen(
        offer,
        perf,
        data,
        chosen,
        can_pay=settings.can_pay_online,
        checkout_minutes=listings.ctx.settings.checkout_minutes,
    )
    return screen.above(notice)


async def changed_screen(listings: Listings, state: FSMContext, data: dict[str, Any]) -> Screen:
    """Where to go back to when the chosen date or ticket type is gone: the event's dates."""
    notice = _("This has changed in the meantime; here is what is available now.")
    if "event" in data:
        await save(state, Wizard.date, {"event": data["event"], "draft": data.get("draft", 0)})
        return (await wizard.dates_screen(listings, int(data["event"]))).above(notice)
    return (await _open_events(listings, state, 0)).above(notice)


async def _changed(
    query: CallbackQuery, state: FSMContext, listings: Listings, data: dict[str, Any]
) -> None:
    await present(query, await changed_screen(listings, state, data))
    await query.answer(_("This has changed in the meantime."))
