"""Asking for more time: a proposed date or one typed by the customer, an optional reason,
then the request goes to the organizer (or is approved at once where the event allows).

Each step checks what the service will check, so nothing is refused only at the end: the card
offers "Ask for more time" only when some day can be asked for and no request is waiting, a
typed date is refused where it is typed, and so is a reason that is too long.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.deadlines import check_request, request_days, requested_until
from booking.rules.limits import REASON_MAX, capped
from booking.services import bookings, extensions
from booking.views import BookingView, CustomerView
from bot import booking_keyboards
from bot.callbacks import BookingCb, ExtendCb, pressed
from bot.common import actor, show
from bot.dates import parse_day, typed_example
from bot.formatting import day, when
from bot.i18n import _, current_locale
from bot.routers import Handlers
from bot.routers.bookings import changed, load, show_card
from bot.states import Extending, finish, save

router = Handlers("extend")
TEXT = F.text & ~F.text.startswith("/")
PROPOSALS = (3, 7)  # days after the current deadline offered as buttons
EXAMPLE_AFTER = 6  # the typed-date example: a week's end after the first day possible


def local_today(ctx: Context, booking: BookingView) -> date:
    return ctx.clock.now().astimezone(ZoneInfo(booking.timezone)).date()


def days_left(ctx: Context, booking: BookingView) -> tuple[date, date] | None:
    """The first and last day this booking's customer may ask for now (None: none)."""
    return request_days(
        booking.deadline,
        now=ctx.clock.now(),
        starts_at=booking.starts_at,
        timezone=booking.timezone,
    )


def refusal(ctx: Context, booking: BookingView, until: date) -> str | None:
    """Why ``until`` cannot be asked for (in the past, after the performance, not later than
    the current deadline), or None: the same pure rule the service applies."""
    code = check_request(
        requested_until(until, timezone=booking.timezone),
        deadline=booking.deadline,
        now=ctx.clock.now(),
        starts_at=booking.starts_at,
    )
    return error_text(BookingError(code), current_locale()) if code else None


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


async def cannot_ask(target: Message | CallbackQuery, ctx: Context, booking: BookingView) -> bool:
    """Show the card, saying why, when no request for more time can be made now."""
    if booking.extension_pending:
        await show_card(
            target, ctx, booking, error_text(BookingError("extension_pending"), current_locale())
        )
        return True
    if days_left(ctx, booking) is None:
        await show_card(target, ctx, booking, no_day_left(booking))
        return True
    return False


def no_day_left(booking: BookingView) -> str:
    if booking.deadline is not None and booking.deadline >= booking.starts_at:
        return error_text(BookingError("deadline_at_performance"), current_locale())
    return _(
        "The performance is too close for more time: the deadline stays {deadline}. You can "
        "still pay until then.",
        deadline=when(booking.deadline or booking.starts_at, booking.timezone),
    )


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
    if await cannot_ask(query, ctx, booking):
        await query.answer()
        return
    text = _(
        "Until when do you need to pay booking {reference}? Now: {deadline}.",
        reference=booking.reference,
        deadline=when(booking.deadline, booking.timezone) if booking.deadline else "-",
    )
    offered = [(a, label) for a, label, _d in proposals(ctx, booking)]
    await show(query, text, booking_keyboards.extension_choices(booking.reference, offered))
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
    if chosen is None or not booking.is_open or booking.extension_pending:
        await changed(query, ctx, customer, booking.reference)
        return
    await save(state, Extending.reason, {"ref": booking.reference, "until": chosen.isoformat()})
    await show(query, _ask_reason(chosen), booking_keyboards.extension_reason(booking.reference))
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
    if not booking.is_open or booking.checkout or await cannot_ask(query, ctx, booking):
        await finish(state)
        await query.answer()
        return
    await save(state, Extending.date, {"ref": booking.reference})
    await show(
        query, _date_prompt(ctx, booking), booking_keyboards.extension_date(booking.reference)
    )
    await query.answer()


def _date_prompt(ctx: Context, booking: BookingView) -> str:
    days = days_left(ctx, booking)
    assert days is not None  # callers checked
    first, last = days
    if first == last:
        return _(
            "Type the date you need, day first: only {example} ({date}) is possible before "
            "the performance.",
            example=typed_example(first),
            date=day(first),
        )
    return _(
        "Type the date you need, day first (day.month.year), for example {example}. Any day "
        "from {first} to {last} is possible.",
        example=typed_example(_example(first, last)),
        first=day(first),
        last=day(last),
    )


def _example(first: date, last: date) -> date:
    """A day the bot accepts: about a week after the first one possible, never after the last."""
    return min(first + timedelta(days=EXAMPLE_AFTER), last)


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
    if not booking.is_open or booking.checkout or await cannot_ask(message, ctx, booking):
        await finish(state)
        return
    keyboard = booking_keyboards.extension_date(booking.reference)
    until = parse_day(message.text, today=local_today(ctx, booking))
    if until is None:
        await message.answer(
            _("I could not read that date.") + "\n" + _date_prompt(ctx, booking),
            reply_markup=keyboard,
        )
        return
    if problem := refusal(ctx, booking, until):
        text = "\n".join((problem, _("Please type another date."), _date_prompt(ctx, booking)))
        await message.answer(text, reply_markup=keyboard)
        return
    await save(state, Extending.reason, {**data, "until": until.isoformat()})
    await message.answer(
        _ask_reason(until), reply_markup=booking_keyboards.extension_reason(booking.reference)
    )


async def extensions_booking(ctx: Context, customer: CustomerView, reference: str) -> BookingView:
    return await bookings.get_booking(ctx, actor=actor(customer), reference=reference)


@router.message(Extending.reason, TEXT)
async def typed_reason(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    assert message.text is not None
    try:
        reason = capped(message.text, REASON_MAX)
    except BookingError as error:  # at the same step: a shorter one, or none at all
        data = await state.get_data()
        await message.answer(
            error_text(error, current_locale()) + "\n" + _("Please type a shorter reason."),
            reply_markup=booking_keyboards.extension_reason(str(data.get("ref"))),
        )
        return
    await _request(message, state, ctx, customer, reason)


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
    await show_card(target, ctx, booking, headline)
