"""/events: an event, a date, a ticket type, a quantity (seats: see seats.py), a summary.

Event and date buttons carry their id and work from any message. From the ticket type on,
the step depends on what was chosen before, which lives in the conversation state.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.services.catalog import Offer
from booking.views import CustomerView
from bot import wizard
from bot.callbacks import MenuCb, WizardCb, pressed
from bot.common import show
from bot.i18n import _
from bot.listings import Listings
from bot.routers import Handlers
from bot.settings import BotSettings
from bot.states import Wizard, finish, save
from bot.wizard import Screen

router = Handlers("events")


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
    screen = await _open_events(listings, state, 0)
    await message.answer(screen.text, reply_markup=screen.markup)


@router.callback_query(pressed(MenuCb, "events"))
async def events_button(query: CallbackQuery, state: FSMContext, listings: Listings) -> None:
    screen = await _open_events(listings, state, 0)
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(pressed(WizardCb, "page"))
async def page(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    screen = await _open_events(listings, state, max(callback_data.id, 0))
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(pressed(WizardCb, "event"))
async def event(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    await save(state, Wizard.date, {"event": callback_data.id})
    screen = await wizard.dates_screen(listings, callback_data.id)
    await show(query, screen.text, screen.markup)
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
    await save(
        state,
        Wizard.tariff,
        {"event": perf.event_id, "performance": perf.id, "draft": data.get("draft", 0)},
    )
    screen = await wizard.tariffs_screen(listings, perf, customer_type(customer))
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(pressed(WizardCb, "tariff"))
async def tariff(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
) -> None:
    data = await state.get_data()
    offer = await current_offer(listings, data, customer, callback_data.id)
    if offer is None or offer.remaining <= 0:
        await _changed(query, state, listings, data)
        return
    data = {**data, "tariff": offer.tariff_id, "seats": [], "qty": 0}
    await save(state, Wizard.quantity, data)
    screen = wizard.quantity_screen(offer, int(data["performance"]))
    await show(query, screen.text, screen.markup)
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
    data = {**await state.get_data(), "qty": max(callback_data.id, 1), "seats": []}
    screen = await summary(listings, state, data, customer, settings)
    await show(query, screen.text, screen.markup)
    await query.answer()


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


async def summary(
    listings: Listings,
    state: FSMContext,
    data: dict[str, Any],
    customer: CustomerView | None,
    settings: BotSettings,
    notice: str = "",
) -> Screen:
    """Save a new draft and return its summary; an earlier summary's buttons stop working."""
    offer = await current_offer(listings, data, customer)
    perf = await wizard.performance(
        listings, int(data.get("event", 0)), int(data.get("performance", 0))
    )
    if offer is None or perf is None:
        return await changed_screen(listings, state, data)
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
    screen = await changed_screen(listings, state, data)
    await show(query, screen.text, screen.markup)
    await query.answer(_("This has changed in the meantime."))
