"""Choosing the seat of a fixed-seat pass: "Best available", or section -> row -> seat among
the seats free at every included date (``queries.passes.sale_form``), the same seat for the
whole season. Only free seats are offered; one taken between the choice and the sale is a
refusal of the sale that brings the customer back here (bot.pass_buying.stage_for).

The handlers are added to the /passes router by ``register``.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from booking.context import Context
from booking.errors import BookingError
from booking.views import CustomerView
from bot import pass_buying as buying
from bot import pass_cards as cards
from bot import pass_moves as moves
from bot import pass_screens as screens
from bot import pass_steps as steps
from bot.callbacks import pressed
from bot.i18n import _
from bot.pass_callbacks import PassCb
from bot.pass_steps import Buying
from bot.routers import Handlers
from bot.states import save
from bot.wizard import present


def _sections(stage: buying.Stage) -> list[str]:
    return list(dict.fromkeys(s.place.section for s in stage.form.seats))


def _rows(stage: buying.Stage, section: str) -> list[str]:
    return list(dict.fromkeys(s.place.row for s in stage.form.seats if s.place.section == section))


async def best_seat(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    current = await moves.at_stage(query, state, ctx, customer, steps.SEAT)
    if current is None:
        return
    stage, data = current
    await moves.go_next(query, state, stage, {**data, "seat": None})
    await query.answer()


async def pick_seat(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    """ "Choose my seat": the sections (or the rows, when there is one section); "« Back" from
    the sections to the seat question, from a row's seats to the rows."""
    current = await moves.at_stage(query, state, ctx, customer, steps.SEAT)
    if current is None:
        return
    stage, data = current
    sections = _sections(stage)
    if callback_data.action == "seatback" or not sections:
        notice = "" if sections else cards.refusal(BookingError("pass_no_seat"))
        await present(query, await buying.show_stage(state, stage, data, notice=notice))
        await query.answer()
        return
    section = int(data.get("section", 0))
    if callback_data.action == "pick" and len(sections) > 1:
        await save(state, Buying.seat, data)
        await present(query, screens.sections_screen(sections))
    else:
        section = section if callback_data.action == "rowsback" else 0
        section = section if 0 <= section < len(sections) else 0
        await _show_rows(query, state, stage, data, section)
    await query.answer()


async def _show_rows(
    query: CallbackQuery,
    state: FSMContext,
    stage: buying.Stage,
    data: dict[str, Any],
    section: int,
) -> None:
    sections = _sections(stage)
    await save(state, Buying.seat, {**data, "section": section})
    rows = _rows(stage, sections[section])
    await present(
        query, screens.rows_screen(sections[section], rows, one_section=len(sections) == 1)
    )


async def section_or_row(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    current = await moves.at_stage(query, state, ctx, customer, steps.SEAT)
    if current is None:
        return
    stage, data = current
    sections = _sections(stage)
    if callback_data.action == "section":
        if not 0 <= callback_data.id < len(sections):
            await _seat_changed(query, state, stage, data)
            return
        await _show_rows(query, state, stage, data, callback_data.id)
        await query.answer()
        return
    section = int(data.get("section", 0))
    rows = _rows(stage, sections[section]) if 0 <= section < len(sections) else []
    if not 0 <= callback_data.id < len(rows):
        await _seat_changed(query, state, stage, data)
        return
    name, row = sections[section], rows[callback_data.id]
    seats = [s for s in stage.form.seats if s.place.section == name and s.place.row == row]
    await save(state, Buying.seat, {**data, "row": callback_data.id})
    await present(query, screens.seats_screen(name, row, seats))
    await query.answer()


async def choose_seat(
    query: CallbackQuery,
    callback_data: PassCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    current = await moves.at_stage(query, state, ctx, customer, steps.SEAT)
    if current is None:
        return
    stage, data = current
    if all(s.id != callback_data.id for s in stage.form.seats):
        await _seat_changed(query, state, stage, data)
        return
    await moves.go_next(query, state, stage, {**data, "seat": callback_data.id})
    await query.answer()


async def _seat_changed(
    query: CallbackQuery, state: FSMContext, stage: buying.Stage, data: dict[str, Any]
) -> None:
    notice = _("This seat is no longer free at every date: choose another one.")
    await present(query, await buying.show_stage(state, stage, data, notice=notice))
    await query.answer(_("This has changed in the meantime."))


def register(router: Handlers) -> None:
    """Add these handlers to the /passes router (bot.routers.passes), in this order."""
    router.callback_query(Buying.seat, pressed(PassCb, "best"))(best_seat)
    router.callback_query(Buying.seat, pressed(PassCb, "pick", "seatback", "rowsback"))(pick_seat)
    router.callback_query(Buying.seat, pressed(PassCb, "section", "row"))(section_or_row)
    router.callback_query(Buying.seat, pressed(PassCb, "seat"))(choose_seat)
