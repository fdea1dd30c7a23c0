"""From the summary to a booking: "Hold until …" or "Pay now", asking a first-time customer
for a name and an email on the way.

A double or triple click acts once: the update that moves the conversation off the summary
(a compare-and-set in the storage) places the booking; the others are told it is already
done.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import holds, linking, profiles
from booking.services.holds import Line
from booking.views import BookingView, CustomerView
from bot import cards, keyboards, paying
from bot.callbacks import WizardCb, pressed
from bot.common import (
    actor,
    changed,
    chat_id_of,
    ensure_customer,
    forget_moved,
    full_name,
    show,
)
from bot.formatting import when
from bot.i18n import _, current_locale
from bot.listings import Listings
from bot.middlewares import KnownCustomers
from bot.routers import Handlers
from bot.routers.events import changed_screen, summary
from bot.routers.seats import restart_picking
from bot.settings import BotSettings
from bot.states import Wizard, claim, save

router = Handlers("checkout")
TEXT = F.text & ~F.text.startswith("/")
BACK_TO_DATES = {"sold_out", "performance_started", "unknown_performance", "unknown_tariff"}


@router.callback_query(pressed(WizardCb, "hold", "buy"))
async def hold_or_buy(
    query: CallbackQuery,
    callback_data: WizardCb,
    state: FSMContext,
    ctx: Context,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    raw_state: str | None,
    known: KnownCustomers | None,
) -> None:
    data = await state.get_data()
    if raw_state != Wizard.summary.state or int(data.get("draft", -1)) != callback_data.id:
        await query.answer(
            _(
                "This summary is out of date: your booking is already being "
                "handled, or you changed your choice. See /mybookings."
            ),
            show_alert=True,
        )
        return
    data["then"] = callback_data.action
    who = await ensure_customer(ctx, customer, query.from_user, query.from_user.id, known)
    if who.email is None:
        await save(state, Wizard.name, data)
        await show(
            query,
            _("To put the booking in your name: what name should I use?"),
            keyboards.use_name(full_name(query.from_user)),
        )
        await query.answer()
        return
    await place(
        query,
        state,
        listings,
        who,
        settings,
        bot,
        Wizard.summary,
        buy=callback_data.action == "buy",
    )
    await query.answer()


@router.callback_query(Wizard.name, pressed(WizardCb, "tgname"))
async def telegram_name(query: CallbackQuery, state: FSMContext) -> None:
    await _ask_email(query, state, full_name(query.from_user))
    await query.answer()


@router.message(Wizard.name, TEXT)
async def typed_name(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    name = message.text.strip()[:200]
    await _ask_email(message, state, name)


async def _ask_email(target: Message | CallbackQuery, state: FSMContext, name: str) -> None:
    await save(state, Wizard.email, {**await state.get_data(), "name": name})
    await show(
        target,
        _(
            "Thank you, {name}. And your email address? The booking and the "
            "reminders go there too.",
            name=name,
        ),
    )


@router.message(Wizard.email, TEXT)
async def typed_email(
    message: Message,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
    known: KnownCustomers | None,
) -> None:
    """The address is only a claim until its code comes back (SPEC §12): a code goes to it,
    with the same words whether it is a customer's or not, and the booking goes on with the
    code. Until then nothing booked for that address elsewhere is attached to this chat."""
    assert message.text is not None and message.from_user is not None
    data = await state.get_data()
    email = message.text.strip()
    who = await ensure_customer(ctx, customer, message.from_user, message.chat.id, known)
    name = str(data.get("name") or who.name)
    try:
        await profiles.set_name(ctx, actor=actor(who), customer_id=who.id, name=name)
        await linking.send_link_code(
            ctx,
            email=email,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            name=name,
            language=current_locale(),
        )
    except BookingError as error:
        await message.answer(error_text(error, current_locale()))
        return
    changed(known, message.from_user)
    await save(state, Wizard.code, {**data, "email": email})
    await message.answer(
        _(
            "I sent a 6-digit code to {email}. Type it here and I will go on with your "
            "booking (it is valid for 15 minutes).",
            email=email,
        )
    )


@router.message(Wizard.code, TEXT)
async def typed_code(
    message: Message,
    state: FSMContext,
    ctx: Context,
    listings: Listings,
    settings: BotSettings,
    bot: Bot,
    known: KnownCustomers | None,
) -> None:
    assert message.text is not None and message.from_user is not None
    data = await state.get_data()
    try:
        linked = await linking.confirm_link_code(
            ctx,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            code=message.text.strip(),
        )
    except BookingError as error:
        await message.answer(
            error_text(error, current_locale())
            + "\n"
            + _("Type the code again, or /events to start over.")
        )
        return
    changed(known, message.from_user)
    forget_moved(known, linked)
    assert linked.customer is not None
    await place(
        message,
        state,
        listings,
        linked.customer,
        settings,
        bot,
        Wizard.code,
        buy=data.get("then") == "buy",
    )


async def place(
    target: Message | CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView,
    settings: BotSettings,
    bot: Bot,
    step: State,
    *,
    buy: bool,
) -> None:
    """Claim the step, then hold (or check out with ``buy``) the places of the draft, once."""
    ctx = listings.ctx
    data = await state.get_data()
    # The claim ends the conversation (data stays, harmless): one write fewer than ending it
    # after the booking, and a failure below saves the step to go back to anyway.
    if not await claim(state, step, None):
        await show(target, _("This booking is already being handled. See /mybookings."))
        return
    seats = tuple(int(i) for i in data.get("seats", []))
    line = (
        Line(int(data["tariff"]), seat_ids=seats)
        if seats
        else Line(int(data["tariff"]), quantity=int(data.get("qty", 0)))
    )
    try:
        booking = await holds.hold(
            ctx,
            actor=actor(customer),
            customer_id=customer.id,
            performance_id=int(data["performance"]),
            lines=[line],
            buy=buy,
        )
    except BookingError as error:
        await _refused(target, state, listings, customer, settings, data, error)
        return
    await _booked(target, ctx, booking, settings, bot, buy)


async def _booked(
    target: Message | CallbackQuery,
    ctx: Context,
    booking: BookingView,
    settings: BotSettings,
    bot: Bot,
    buy: bool,
) -> None:
    if not buy:
        deadline = when(booking.deadline, booking.timezone) if booking.deadline else "-"
        headline = _(
            "Done! Your places are held until {deadline}. I will remind you before.",
            deadline=deadline,
        )
        await show(target, cards.booking_text(booking, headline), cards.booking_keyboard(booking))
        return
    headline = _("Your places are kept while you pay.")
    await show(target, cards.booking_text(booking, headline), cards.booking_keyboard(booking))
    await paying.offer_payment(bot, ctx, chat_id_of(target), booking, settings)


async def _refused(
    target: Message | CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView,
    settings: BotSettings,
    data: dict[str, Any],
    error: BookingError,
) -> None:
    """Say why, and put the customer back on the step where they can choose again."""
    reason = error_text(error, current_locale())
    listings.forget()  # what was shown proved stale: read the catalogue afresh
    if error.code in BACK_TO_DATES:
        screen = (await changed_screen(listings, state, data)).above(reason)
    elif error.code == "seat_taken":
        screen = (await restart_picking(listings, state, data)).above(reason)
    else:  # buy_only (the deadline passed meanwhile), eligibility, quantity: a fresh summary
        screen = await summary(listings, state, data, customer, settings, notice=reason)
    await show(target, screen.text, screen.markup)
