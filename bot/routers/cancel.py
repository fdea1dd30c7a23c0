"""Cancelling a booking: a reason (keyboard; "other" asks a few words), a confirmation, done.

A second or third click on "Yes, cancel it" reaches a booking that is already cancelled: the
service refuses (its status change is a compare-and-set) and the customer sees it cancelled.
"""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.limits import REASON_MAX, capped
from booking.rules.states import CANCEL_REASONS
from booking.services import cancellations
from booking.views import CustomerView
from bot import booking_keyboards
from bot.callbacks import BookingCb, CancelCb, pressed
from bot.common import actor, show
from bot.i18n import _, current_locale
from bot.routers import Handlers
from bot.routers.bookings import changed, load, show_card
from bot.states import Cancelling, finish, save

router = Handlers("cancel")
TEXT = F.text & ~F.text.startswith("/")


@router.callback_query(pressed(BookingCb, "cancel"))
async def reasons(
    query: CallbackQuery,
    callback_data: BookingCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None or customer is None:
        return
    if booking.status == "confirmed" and not booking.customer_may_cancel:
        # An old button: the card says why not and what can be done, nothing "changed".
        await finish(state)
        await show_card(query, ctx, booking)
        await query.answer()
        return
    if not booking.customer_may_cancel:
        await changed(query, ctx, customer, booking.reference)
        return
    await finish(state)
    text = _("Why do you want to cancel booking {reference}?", reference=booking.reference)
    await show(query, text, booking_keyboards.cancel_reasons(booking.reference))
    await query.answer()


@router.callback_query(pressed(CancelCb, *CANCEL_REASONS))
async def reason(
    query: CallbackQuery,
    callback_data: CancelCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None:
        return
    if callback_data.action == "other":
        await save(state, Cancelling.note, {"ref": booking.reference, "reason": "other"})
        await show(
            query,
            _(
                "Tell me in a few words why you cancel booking {reference}.",
                reference=booking.reference,
            ),
            booking_keyboards.cancel_note(booking.reference),
        )
    else:
        data = {"ref": booking.reference, "reason": callback_data.action}
        await save(state, Cancelling.confirm, data)
        await show(
            query,
            _confirm_text(booking.reference, callback_data.action),
            booking_keyboards.cancel_confirm(booking.reference),
        )
    await query.answer()


@router.message(Cancelling.note, TEXT)
async def note(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    data = await state.get_data()
    try:
        typed = capped(message.text, REASON_MAX)
    except BookingError as error:  # at the same step: a shorter one, never cut without a word
        await message.answer(
            error_text(error, current_locale()) + "\n" + _("Please type a shorter reason."),
            reply_markup=booking_keyboards.cancel_note(str(data.get("ref"))),
        )
        return
    data = {**data, "note": typed}
    await save(state, Cancelling.confirm, data)
    await message.answer(
        _confirm_text(data["ref"], "other", data["note"]),
        reply_markup=booking_keyboards.cancel_confirm(data["ref"]),
    )


def _confirm_text(reference: str, reason: str, note: str = "") -> str:
    label = note or _(booking_keyboards.REASONS[reason])
    return _(
        "Cancel booking {reference} ({reason})? The places go back on sale.",
        reference=reference,
        reason=label,
    )


@router.callback_query(pressed(CancelCb, "yes", "no"))
async def confirm(
    query: CallbackQuery,
    callback_data: CancelCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None or customer is None:
        return
    data = await state.get_data()
    if callback_data.action == "no" or data.get("ref") != booking.reference:
        await finish(state)
        if callback_data.action == "no":
            await show_card(query, ctx, booking, _("Nothing was changed."))
            await query.answer()
        else:
            await changed(query, ctx, customer, booking.reference)
        return
    try:
        booking = await cancellations.cancel(
            ctx,
            actor=actor(customer),
            reference=booking.reference,
            reason=str(data.get("reason")),
            note=str(data.get("note", "")),
        )
    except BookingError as error:
        await finish(state)
        await changed(query, ctx, customer, booking.reference, error)
        return
    await finish(state)
    headline = _("Booking {reference} is cancelled.", reference=booking.reference)
    if booking.refund_due:
        headline += " " + _("The organizer will refund your payment.")
    await show_card(query, ctx, booking, headline)
    await query.answer()
