"""Choosing numbered seats: section -> row -> seats (tap to add or remove), then the summary."""

from __future__ import annotations

from typing import Any

from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from booking.services.seating import SeatOption
from booking.views import CustomerView
from bot import keyboards, wizard
from bot.callbacks import WizardCb, pressed
from bot.common import show
from bot.i18n import _
from bot.listings import Listings
from bot.routers import Handlers
from bot.routers.events import changed_screen, current_offer, summary
from bot.settings import BotSettings
from bot.states import Wizard, save
from bot.wizard import Screen

router = Handlers("seats")
PICKING = (Wizard.quantity, Wizard.seats)


def sections_screen(seats: list[SeatOption]) -> Screen:
    return Screen(_("Choose a section:"), keyboards.sections(wizard.sections_of(seats)))


def rows_screen(seats: list[SeatOption], section: int) -> Screen:
    names = wizard.sections_of(seats)
    rows = wizard.rows_of(seats, names[section])
    text = _("{section}: choose a row.", section=names[section])
    return Screen(text, keyboards.rows(rows, section))


def seats_screen(seats: list[SeatOption], data: dict[str, Any]) -> Screen:
    section = wizard.sections_of(seats)[int(data["section"])]
    row = wizard.rows_of(seats, section)[int(data["row"])]
    in_row = [s for s in seats if s.section == section and s.row == row]
    chosen = wizard.chosen_seats(seats, data)
    lines = [_("{section}, row {row}: tap the seats you want.", section=section, row=row)]
    if not any(s.free for s in in_row):
        lines.append(_("Every seat of this row is taken."))
    if chosen:
        lines.append(_("Chosen: {seats}", seats=", ".join(wizard.seat_label(s) for s in chosen)))
    ids = {s.id for s in chosen}
    return Screen("\n".join(lines), keyboards.seats(in_row, ids, any_chosen=bool(chosen)))


def _valid(seats: list[SeatOption], data: dict[str, Any]) -> bool:
    """The section and row indexes saved in the conversation still point into this map."""
    sections = wizard.sections_of(seats)
    section = int(data.get("section", -1))
    if not 0 <= section < len(sections):
        return False
    return "row" not in data or 0 <= int(data["row"]) < len(
        wizard.rows_of(seats, sections[section])
    )


@router.callback_query(StateFilter(*PICKING), pressed(WizardCb, "pick"))
async def pick(
    query: CallbackQuery, state: FSMContext, listings: Listings, raw_state: str | None
) -> None:
    data = await state.get_data()
    seats = await wizard.seat_map(listings.ctx, data)
    if not seats:
        await _changed(query, listings, state, data)
        return
    if raw_state != Wizard.seats.state:
        data = {**data, "seats": []}  # coming from the quantity step: a fresh choice
    data.pop("row", None)
    if len(wizard.sections_of(seats)) == 1:
        data["section"] = 0
        await save(state, Wizard.seats, data)
        screen = rows_screen(seats, 0)
    else:
        data.pop("section", None)
        await save(state, Wizard.seats, data)
        screen = sections_screen(seats)
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(Wizard.seats, pressed(WizardCb, "section", "rows"))
async def section(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    data = await state.get_data()
    if callback_data.action == "section":
        data["section"] = callback_data.id
    data.pop("row", None)
    seats = await wizard.seat_map(listings.ctx, data)
    if not _valid(seats, data):
        await _changed(query, listings, state, data)
        return
    await save(state, Wizard.seats, data)
    screen = rows_screen(seats, int(data["section"]))
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(Wizard.seats, pressed(WizardCb, "row", "seat"))
async def row_or_seat(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    data = await state.get_data()
    seats = await wizard.seat_map(listings.ctx, data)
    if callback_data.action == "row":
        data["row"] = callback_data.id
    else:
        data["seats"] = _toggle(seats, data, callback_data.id)
    if not _valid(seats, data) or "row" not in data:
        await _changed(query, listings, state, data)
        return
    await save(state, Wizard.seats, data)
    screen = seats_screen(seats, data)
    await show(query, screen.text, screen.markup)
    await query.answer()


def _toggle(seats: list[SeatOption], data: dict[str, Any], seat_id: int) -> list[int]:
    chosen = [int(i) for i in data.get("seats", [])]
    if seat_id in chosen:
        return [i for i in chosen if i != seat_id]
    if any(s.id == seat_id and s.free for s in seats):
        return [*chosen, seat_id]
    return chosen  # taken meanwhile: the screen shows it gone


@router.callback_query(Wizard.seats, pressed(WizardCb, "seatsdone"))
async def done(
    query: CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
) -> None:
    data = await state.get_data()
    if not data.get("seats"):
        await query.answer(_("Tap at least one seat first."))
        return
    screen = await summary(listings, state, {**data, "qty": 0}, customer, settings)
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(Wizard.seats, pressed(WizardCb, "seatsback"))
async def back(
    query: CallbackQuery, state: FSMContext, listings: Listings, customer: CustomerView | None
) -> None:
    data = await state.get_data()
    offer = await current_offer(listings, data, customer)
    if offer is None:
        await _changed(query, listings, state, data)
        return
    await save(state, Wizard.quantity, {**data, "seats": []})
    screen = wizard.quantity_screen(offer, int(data["performance"]))
    await show(query, screen.text, screen.markup)
    await query.answer()


async def restart_picking(listings: Listings, state: FSMContext, data: dict[str, Any]) -> Screen:
    """After "seat taken": the same seat map, fresh, with nothing chosen."""
    seats = await wizard.seat_map(listings.ctx, data)
    data = {k: v for k, v in data.items() if k not in ("row", "section")} | {"seats": []}
    if not any(s.free for s in seats):
        return await changed_screen(listings, state, data)
    if len(wizard.sections_of(seats)) == 1:
        await save(state, Wizard.seats, {**data, "section": 0})
        return rows_screen(seats, 0)
    await save(state, Wizard.seats, data)
    return sections_screen(seats)


async def _changed(
    query: CallbackQuery, listings: Listings, state: FSMContext, data: dict[str, Any]
) -> None:
    screen = await changed_screen(listings, state, data)
    await show(query, screen.text, screen.markup)
    await query.answer(_("This has changed in the meantime."))
