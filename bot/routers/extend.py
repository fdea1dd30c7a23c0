"""Asking for more time: a proposed date or one typed by the customer, an optional reason,
then the request goes to the organizer (or is approved at once where the event allows)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.deadlines import check_request, requested_until
from booking.services import bookings, extensions
from booking.views import BookingView, CustomerView
from bot import cards, keyboards
from bot.callbacks import BookingCb, ExtendCb, pressed
from bot.common import actor, show
from bot.dates import parse_day
from bot.formatting import day, when
from bot.i18n import _, current_locale
from bot.routers import Handlers
from bot.routers.bookings import changed, load
from bot.states import Extending, finish, save

router = Handlers("extend")
TEXT = F.text & ~F.text.startswith("/")
PROPOSALS = (3, 7)  # days after the current deadline offered as buttons


def local_today(ctx: Context, booking: BookingView) -> date:
    return ctx.clock.now().astimezone(ZoneInfo(booking.timezone)).date()


def refusal(ctx: Context, booking: BookingView, until: date) -> str | None:
    """Why ``until`` cannot be asked for (in the past, after the performance, not later than
    the current deadline), or None.

    The same pure rule the service applies; checking here lets the customer type another date
    before giving a reason."""
    code = check_request(
        requested_until(until, timezone=booking.timezone),
        deadline=booking.deadline,
        now=ctx.clock.now(),
        starts_at=booking.starts_at,
    )
    return error_text(BookingError(code), current_locale()) if code else None


def no_more_time(booking: BookingView) -> bool:
    """Due at the performance start already: no later date exists to ask for."""
    return booking.deadline is not None and booking.deadline >= booking.starts_at


def proposals(ctx: Context, booking: BookingView) -> list[tuple[str, str, date]]:
    # Counted from the deadline, or from today once it has passed (an overdue hold).
    now = ctx.clock.now()
    base = max(booking.deadline or now, now).astimezone(ZoneInfo(booking.timezone)).date()
    found = []
    for days in PROPOSALS:
        until = base + timedelta(days=days)
        if refusal(ctx, booking, until) is None:
            found.append((f"d{days}", _("Until {date}", date=day(until)), until))
    return found


@router.callback_query(pressed(BookingCb, "extend"))
async def choices(
    query: CallbackQuery,
    callback_data: BookingCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None or customer is None:
        return
    if not booking.is_open or booking.checkout:
        await changed(query, ctx, customer, booking.reference)
        return
    await finish(state)
    if no_more_time(booking):
        text = error_text(BookingError("deadline_at_performance"), current_locale())
        await show(query, cards.booking_text(booking, text), cards.booking_keyboard(booking))
        await query.answer()
        return
    offered = proposals(ctx, booking)
    text = _(
        "Until when do you need to pay booking {reference}? Now: {deadline}.",
        reference=booking.reference,
        deadline=when(booking.deadline, booking.timezone) if booking.deadline else "-",
    )
    if not offered:
        text += "\n" + _("The performance is close: type a date before it.")
    markup = keyboards.extension_choices(
        booking.reference, [(a, label) for a, label, _d in offered]
    )
    await show(query, text, markup)
    await query.answer()


@router.callback_query(pressed(ExtendCb, *(f"d{days}" for days in PROPOSALS)))
async def proposed(
    query: CallbackQuery,
    callback_data: ExtendCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None or customer is None:
        return
    chosen = next(
        (d for a, _label, d in proposals(ctx, booking) if a == callback_data.action), None
    )
    if chosen is None or not booking.is_open:
        await changed(query, ctx, customer, booking.reference)
        return
    await save(state, Extending.reason, {"ref": booking.reference, "until": chosen.isoformat()})
    await show(query, _ask_reason(chosen), keyboards.no_reason(booking.reference))
    await query.answer()


def _ask_reason(until: date) -> str:
    return _(
        "Asking for more time until {date}. Why do you need it? A few words help the "
        "organizer decide.",
        date=day(until),
    )


@router.callback_query(pressed(ExtendCb, "typed"))
async def ask_date(
    query: CallbackQuery,
    callback_data: ExtendCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    booking = await load(query, ctx, customer, callback_data.ref)
    if booking is None:
        return
    await save(state, Extending.date, {"ref": booking.reference})
    await show(
        query, _("Type the date you need, for example {example}.", example=_example(ctx, booking))
    )
    await query.answer()


def _example(ctx: Context, booking: BookingView) -> str:
    return (local_today(ctx, booking) + timedelta(days=7)).strftime("%d.%m.%Y")


@router.message(Extending.date, TEXT)
async def typed_date(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    assert message.text is not None
    data = await state.get_data()
    if customer is None:
        await finish(state)
        return
    try:
        booking = await extensions_booking(ctx, customer, str(data.get("ref")))
    except BookingError as error:
        await finish(state)
        await message.answer(error_text(error, current_locale()))
        return
    until = parse_day(message.text, today=local_today(ctx, booking))
    if until is None:
        await message.answer(
            _(
                "I could not read that date. Please type it like {example}.",
                example=_example(ctx, booking),
            )
        )
        return
    if problem := refusal(ctx, booking, until):
        await message.answer(problem + "\n" + _("Please type another date."))
        return
    await save(state, Extending.reason, {**data, "until": until.isoformat()})
    await message.answer(_ask_reason(until), reply_markup=keyboards.no_reason(booking.reference))


async def extensions_booking(ctx: Context, customer: CustomerView, reference: str) -> BookingView:
    return await bookings.get_booking(ctx, actor=actor(customer), reference=reference)


@router.message(Extending.reason, TEXT)
async def typed_reason(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    assert message.text is not None
    await _request(message, state, ctx, customer, message.text.strip())


@router.callback_query(Extending.reason, pressed(ExtendCb, "noreason"))
async def without_reason(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await _request(query, state, ctx, customer, "")
    await query.answer()


async def _request(
    target: Message | CallbackQuery,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    reason: str,
) -> None:
    data = await state.get_data()
    await finish(state)
    if customer is None or "ref" not in data or "until" not in data:
        await show(target, _("This has changed in the meantime. See /mybookings."))
        return
    who = actor(customer)
    try:
        request = await extensions.request_extension(
            ctx,
            actor=who,
            reference=str(data["ref"]),
            until=date.fromisoformat(str(data["until"])),
            reason=reason,
        )
    except BookingError as error:
        await show(target, error_text(error, current_locale()) + "\n" + _("See /mybookings."))
        return
    booking = await extensions_booking(ctx, customer, request.reference)
    if request.status == "approved" and request.granted_until is not None:
        headline = _(
            "Good news: you now have until {until} to pay.",
            until=when(request.granted_until, booking.timezone),
        )
    else:
        headline = _(
            "Your request was sent to the organizer. I will tell you here as soon as they decide."
        )
    await show(target, cards.booking_text(booking, headline), cards.booking_keyboard(booking))
