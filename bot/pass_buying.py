"""Buying a pass in the bot: which products this customer may buy here, the screen of each
stage (bot.pass_steps), the holder's photo, and the sale itself.

Every stage is shown from the conversation and a fresh read of the product (its fields, dates
and free seats), never from what an older message said; the sale (``passes.sell``) checks it
all again in one transaction, so a seat taken or a product changed meanwhile is a refusal
that brings the customer back to the stage that can fix it, with nothing half written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.queries import pass_products as product_queries
from booking.queries import passes as pass_queries
from booking.queries.pass_products import PassProductRow
from booking.queries.passes import SaleForm
from booking.services import pass_photos, passes
from booking.views import CustomerView
from bot import pass_screens as screens
from bot import pass_steps as steps
from bot.common import actor
from bot.formatting import seat as seat_label
from bot.i18n import N_, _, current_locale
from bot.states import save
from bot.wizard import Screen

CHANNEL = "telegram"
MAX_MB = pass_photos.BYTES_MAX // (1024 * 1024)
# The summary's names of the answers (marked here, translated when shown).
LABELS = {
    "title": N_("Title"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "company": N_("Company"),
    "email": N_("Email"),
    "address": N_("Address"),
    "postcode": N_("Postcode"),
    "mobile": N_("Mobile number"),
    "birth_date": N_("Birth date"),
}
# Refusals of the sale, and the stage that can put them right.
TO_SEAT = frozenset({"pass_seat_taken", "pass_no_seat", "seat_taken", "bad_seats"})
TO_DATES = frozenset({"pass_picks_count", "pass_date_not_choosable", "sold_out"})
TO_PHOTO = frozenset({"pass_photo_unknown"})


def _sold_here(row: PassProductRow, customer: CustomerView | None) -> bool:
    """Active, sold in Telegram, to this customer's type (a chat without one: individual)."""
    kind = customer.customer_type if customer is not None else "individual"
    settings = row.settings
    return settings.active and CHANNEL in settings.buy_channels and kind in settings.customer_types


async def on_sale(ctx: Context, customer: CustomerView | None) -> list[PassProductRow]:
    """The products this customer may buy in Telegram now, with a date still to come."""
    found = []
    for row in await product_queries.list_products(ctx):
        if _sold_here(row, customer) and (await _form(ctx, row.id)).dates:
            found.append(row)
    return found


async def _form(ctx: Context, product_id: int) -> SaleForm:
    return await pass_queries.sale_form(ctx, product_id=product_id)


@dataclass(frozen=True, slots=True)
class Stage:
    """Where a purchase stands: the product as it is now, and the stage's name."""

    row: PassProductRow
    form: SaleForm
    names: list[str]
    at: int

    @property
    def name(self) -> str:
        return self.names[self.at]


async def stage_of(
    ctx: Context, customer: CustomerView | None, data: dict[str, Any]
) -> Stage | None:
    """The purchase's stage, or None when its product is no longer on sale to this customer:
    two reads (the products, this one's dates and seats), whatever else is on sale."""
    product_id = int(data.get("product", 0))
    rows = await product_queries.list_products(ctx)
    row = next((r for r in rows if r.id == product_id and _sold_here(r, customer)), None)
    if row is None:
        return None
    form = await _form(ctx, row.id)
    if not form.dates:
        return None
    names = steps.stages(row.settings)
    at = min(max(int(data.get("at", 0)), 0), len(names) - 1)
    return Stage(row, form, names, at)


async def show_stage(
    state: FSMContext, stage: Stage, data: dict[str, Any], *, notice: str = ""
) -> Screen:
    """Save the conversation at ``stage`` and return its screen."""
    data = {**data, "at": stage.at}
    name = stage.name
    if name == steps.SUMMARY:
        data["draft"] = int(data.get("draft", 0)) + 1  # older summaries' buttons stop working
        screen = summary(stage, data)
    elif name in (steps.DATES, steps.SEAT):
        if name == steps.DATES:
            picks = [int(p) for p in data.get("picks", [])]
            screen = screens.dates_screen(stage.row, stage.form.dates, picks)
        else:
            screen = screens.seat_screen(stage.row, len(stage.form.seats))
        screen = screen.above(screens.step_line(stage.at, len(stage.names) - 1))
    else:
        screen = screens.field_screen(stage.row.settings, name, stage.at, len(stage.names) - 1)
    await save(state, steps.state_of(name), data)
    return screen.above(notice)


def summary(stage: Stage, data: dict[str, Any]) -> Screen:
    chosen = data.get("seat")
    place = next((s.place for s in stage.form.seats if s.id == chosen), None)
    if place is not None:
        where = seat_label(place)
    elif stage.row.settings.seating == "fixed_seat":
        where = _("the best seat free at every date, given when the pass is held")
    else:
        where = ""
    picks = {int(p) for p in data.get("picks", [])}
    dates = [
        d
        for d in stage.form.dates
        if stage.row.settings.includes != "choice" or d.performance_id in picks
    ]
    labels = {name: _(label) for name, label in LABELS.items()}
    labels["free"] = stage.row.settings.free_field_label
    return screens.summary_screen(
        stage.row,
        seat_label=where,
        dates=dates,
        answers=dict(data.get("answers", {})),
        photo=data.get("photo") is not None,
        draft=int(data["draft"]),
        can_pay=bool(data.get("can_pay", True)),
        labels=labels,
    )


def moved(stage: Stage, to: str) -> Stage:
    """The same purchase at the stage named ``to`` (the first stage when it has none)."""
    at = stage.names.index(to) if to in stage.names else 0
    return Stage(stage.row, stage.form, stage.names, at)


def stage_for(stage: Stage, error: BookingError) -> Stage:
    """The stage that can put this refusal of the sale right."""
    field = str(error.params.get("field", ""))
    if field.startswith("holder_") and field[len("holder_") :] in stage.names:
        return moved(stage, field[len("holder_") :])
    if error.code in TO_SEAT and steps.SEAT in stage.names:
        return moved(stage, steps.SEAT)
    if error.code in TO_DATES and steps.DATES in stage.names:
        return moved(stage, steps.DATES)
    if error.code in TO_PHOTO and steps.PHOTO in stage.names:
        return moved(stage, steps.PHOTO)
    return moved(stage, steps.SUMMARY)


async def sell(
    ctx: Context, customer: CustomerView, data: dict[str, Any], *, buy: bool
) -> passes.SoldPass:
    seat = data.get("seat")
    return await passes.sell(
        ctx,
        actor=actor(customer),
        product_id=int(data["product"]),
        customer_id=customer.id,
        answers={str(k): str(v) for k, v in dict(data.get("answers", {})).items()},
        seat_id=int(seat) if seat is not None else None,
        buy=buy,
        picks=[int(p) for p in data.get("picks", [])],
        photo_id=int(data["photo"]) if data.get("photo") is not None else None,
    )


async def received_photo(
    bot: Bot, ctx: Context, customer: CustomerView, message: Message
) -> int | str:
    """The stored photo's id, or what to tell the customer instead (in their language)."""
    if message.photo:
        file_id, size = message.photo[-1].file_id, message.photo[-1].file_size  # the largest
    elif message.document is not None:
        file_id, size = message.document.file_id, message.document.file_size
    else:
        return _("Please send a photo (or an image file).")
    try:
        if size is not None and size > pass_photos.BYTES_MAX:  # refused without downloading it
            raise BookingError("photo_too_large", max_mb=MAX_MB)
        buffer = io.BytesIO()
        try:
            await bot.download(file_id, destination=buffer)
        except TelegramBadRequest:  # "file is too big": the Bot API serves 20 MB at most
            raise BookingError("photo_too_large", max_mb=MAX_MB) from None
        return await pass_photos.store(ctx, customer_id=customer.id, data=buffer.getvalue())
    except BookingError as error:
        return error_text(error, current_locale())
