"""Choosing numbered seats: section -> row -> seats (tap to add or remove), then the summary.

Taken seats stay on the map, marked "✗", so a customer sees why a number is missing; a seat
taken between the choice and the hold is dropped from the choice alone, the others kept.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from booking.services.seating import SeatOption
from booking.views import CustomerView
from bot import keyboards, wizard
from bot.availability import quantities
from bot.callbacks import WizardCb, pressed
from bot.i18n import _, ngettext
from bot.listings import Listings
from bot.routers import Handlers
from bot.routers.events import changed_screen, current_offer, quantity_step, summary
from bot.seat_lines import seat_lines
from bot.settings import BotSettings
from bot.states import Wizard, save
from bot.wizard import Screen, present

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
        lines.append(_("Chosen: {seats}", seats="; ".join(seat_lines(chosen))))
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
    await present(query, screen)
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
    await present(query, rows_screen(seats, int(data["section"])))
    await query.answer()


@router.callback_query(Wizard.seats, pressed(WizardCb, "row"))
async def row(
    query: CallbackQuery, callback_data: WizardCb, state: FSMContext, listings: Listings
) -> None:
    data = {**await state.get_data(), "row": callback_data.id}
    seats = await wizard.seat_map(listings.ctx, data)
    if not _valid(seats, data):
        await _changed(query, listings, state, data)
        return
    await save(state, Wizard.seats, data)
    await present(query, seats_screen(seats, data))
    await query.answer()


@router.callback_query(Wizard.seats, pressed(WizardCb, "seat"))
async def seat(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
) -> None:
    """Tap a free seat to add it, a chosen one to remove it; a taken one only says so."""
    data = await state.get_data()
    seats = await wizard.seat_map(listings.ctx, data)
    offer = await current_offer(listings, data, customer)
    pressed_seat = next((s for s in seats if s.id == callback_data.id), None)
    if offer is None or pressed_seat is None or not _valid(seats, data) or "row" not in data:
        await _changed(query, listings, state, data)
        return
    chosen = [int(i) for i in data.get("seats", [])]
    if pressed_seat.id in chosen:
        chosen.remove(pressed_seat.id)
    elif not pressed_seat.free:
        (label,) = seat_lines([pressed_seat])
        await query.answer(_("{seat} is taken; choose another seat.", seat=label))
        return
    elif len(chosen) >= max(quantities(offer), default=0):
        await query.answer(wizard.too_many(offer), show_alert=True)
        return
    else:
        chosen.append(pressed_seat.id)
    data["seats"] = chosen
    await save(state, Wizard.seats, data)
    await present(query, seats_screen(seats, data))
    await query.answer()


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
    offer = await current_offer(listings, data, customer)
    if offer is not None and len(data["seats"]) < offer.min_quantity:
        await query.answer(wizard.minimum_note(offer), show_alert=True)
        return
    await present(query, await summary(listings, state, {**data, "qty": 0}, customer, settings))
    await query.answer()


@router.callback_query(Wizard.seats, pressed(WizardCb, "seatsback"))
async def back(
    query: CallbackQuery, state: FSMContext, listings: Listings, customer: CustomerView | None
) -> None:
    data = await state.get_data()
    await present(query, await quantity_step(listings, state, data, customer))
    await query.answer()


async def restart_picking(listings: Listings, state: FSMContext, data: dict[str, Any]) -> Screen:
    """After "seat taken": the seats taken meanwhile leave the choice, the others stay, and
    the row of the first one taken is shown with it marked "✗"."""
    seats = await wizard.seat_map(listings.ctx, data)
    free = {s.id for s in seats if s.free}
    wanted = {int(i) for i in data.get("seats", [])}
    lost = [s for s in seats if s.id in wanted and s.id not in free]
    data = {k: v for k, v in data.items() if k not in ("row", "section")}
    data["seats"] = [int(i) for i in data.get("seats", []) if int(i) in free]
    if not free:
        return await changed_screen(listings, state, data)
    if not lost:  # nothing of the choice is gone (freed again meanwhile): pick on
        if len(wizard.sections_of(seats)) == 1:
            await save(state, Wizard.seats, {**data, "section": 0})
            return rows_screen(seats, 0)
        await save(state, Wizard.seats, data)
        return sections_screen(seats)
    section = wizard.sections_of(seats).index(lost[0].section)
    data |= {"section": section, "row": wizard.rows_of(seats, lost[0].section).index(lost[0].row)}
    await save(state, Wizard.seats, data)
    screen = seats_screen(seats, data)
    if not data["seats"]:
        return screen
    notice = ngettext(
        "{seats} is no longer in your choice; your other seats are kept.",
        "{seats} are no longer in your choice; your other seats are kept.",
        len(lost),
        seats="; ".join(seat_lines(lost)),
    )
    return screen.above(notice)


async def _changed(
    query: CallbackQuery, listings: Listings, state: FSMContext, data: dict[str, Any]
) -> None:
    await present(query, await changed_screen(listings, state, data))
    await query.answer(_("This has changed in the meantime."))
