"""From the summary to a booking: "Hold until …" or "Pay now", asking a first-time customer
for a name and an email on the way.

Every typed step has "« Back" (name → summary, email → name, code → email) and "Cancel". A
name or an address over its limit is refused at its step, never cut. The email step is offered
only when a code can be mailed (``linking.codes_can_be_mailed``); without email the booking
goes on under the name alone: it lives in this chat, where its reminders and tickets come, and
no address is claimed.

A double or triple click acts once: the update that moves the conversation off the summary
(a compare-and-set in the storage) places the booking; the others are told it is already
done.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.rules.limits import EMAIL_MAX, NAME_MAX, capped
from booking.services import bookings, holds, linking, profiles
from booking.services.holds import Line
from booking.views import BookingView, CustomerView
from bot import cards, paying
from bot.buttons import Keyboard
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
from bot.formatting import clip, when
from bot.i18n import _, current_locale
from bot.listings import Listings
from bot.middlewares import KnownCustomers
from bot.prompts import controls
from bot.routers import Handlers
from bot.routers.events import changed_screen, quantity_step, summary
from bot.routers.seats import restart_picking
from bot.settings import BotSettings
from bot.states import Wizard, claim, finish, save
from bot.wizard import Screen

router = Handlers("checkout")
TEXT = F.text & ~F.text.startswith("/")
BACK_TO_DATES = {"sold_out", "performance_started", "unknown_performance", "unknown_tariff"}
# Refusals about how many places: choosing the number again is what helps.
BACK_TO_QUANTITY = {"not_enough_left", "below_minimum", "bad_quantity"}
TO_SUMMARY = WizardCb(action="to_summary")  # « Back from the name
TO_NAME = WizardCb(action="to_name")  # « Back from the email
TO_EMAIL = WizardCb(action="to_email")  # « Back from the code


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
        await show(query, _name_prompt(), _name_controls(full_name(query.from_user)))
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


def _name_prompt() -> str:
    return _("To put the booking in your name: what name should I use?")


def _name_controls(telegram_name: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(
        text=_("Use “{name}”", name=clip(telegram_name, 40)),
        callback_data=WizardCb(action="tgname"),
    )
    return controls(TO_SUMMARY, extra=kb)


@router.callback_query(Wizard.name, pressed(WizardCb, "to_summary"))
async def back_to_summary(
    query: CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
) -> None:
    """A new draft of the same choice: its "Hold" and "Pay now" work as before."""
    screen = await summary(listings, state, await state.get_data(), customer, settings)
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(Wizard.name, pressed(WizardCb, "tgname"))
async def telegram_name(
    query: CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    known: KnownCustomers | None,
) -> None:
    await _named(query, state, listings, customer, settings, bot, known, full_name(query.from_user))
    await query.answer()


@router.message(Wizard.name, TEXT)
async def typed_name(
    message: Message,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    known: KnownCustomers | None,
) -> None:
    assert message.text is not None and message.from_user is not None
    try:
        name = capped(message.text, NAME_MAX)
    except BookingError as error:  # never cut, never echoed: typed again at this step
        await message.answer(
            error_text(error, current_locale()),
            reply_markup=_name_controls(full_name(message.from_user)),
        )
        return
    await _named(message, state, listings, customer, settings, bot, known, name)


async def _named(
    target: Message | CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    known: KnownCustomers | None,
    name: str,
) -> None:
    """The email step next; without email, the booking under this name, in this chat."""
    if await linking.codes_can_be_mailed(listings.ctx):
        await _ask_email(target, state, name)
        return
    await _book_without_email(
        target, state, listings, customer, settings, bot, known, name, Wizard.name
    )


async def _book_without_email(
    target: Message | CallbackQuery,
    state: FSMContext,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    known: KnownCustomers | None,
    name: str,
    step: State,
) -> None:
    """No code can be mailed: no address is claimed, and the booking lives in this chat."""
    ctx, user = listings.ctx, target.from_user
    assert user is not None
    who = await ensure_customer(ctx, customer, user, chat_id_of(target), known)
    try:
        named = await profiles.set_name(ctx, actor=actor(who), customer_id=who.id, name=name)
    except BookingError as error:  # a name of blanks only
        await show(target, error_text(error, current_locale()), _name_controls(full_name(user)))
        return
    changed(known, user)
    notice = _(
        "I cannot send email right now, so this booking stays in this chat: its reminders and "
        "tickets come here. To add your email address later, use /link."
    )
    buy = (await state.get_data()).get("then") == "buy"
    await place(target, state, listings, named, settings, bot, step, buy=buy, notice=notice)


async def _ask_email(target: Message | CallbackQuery, state: FSMContext, name: str) -> None:
    await save(state, Wizard.email, {**await state.get_data(), "name": name})
    await show(
        target,
        _(
            "Thank you, {name}. And your email address? The booking and the "
            "reminders go there too.",
            name=name,
        ),
        controls(TO_NAME),
    )


@router.callback_query(Wizard.email, pressed(WizardCb, "to_name"))
async def back_to_name(query: CallbackQuery, state: FSMContext) -> None:
    await save(state, Wizard.name, await state.get_data())
    await show(query, _name_prompt(), _name_controls(full_name(query.from_user)))
    await query.answer()


@router.callback_query(Wizard.code, pressed(WizardCb, "to_email"))
async def back_to_email(query: CallbackQuery, state: FSMContext) -> None:
    """Another address (a typo in the first one): the code sent to it is simply not used."""
    data = await state.get_data()
    await _ask_email(query, state, str(data.get("name") or full_name(query.from_user)))
    await query.answer()


@router.message(Wizard.email, TEXT)
async def typed_email(
    message: Message,
    state: FSMContext,
    ctx: Context,
    listings: Listings,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
    known: KnownCustomers | None,
) -> None:
    """The address is only a claim until its code comes back (SPEC §12): a code goes to it,
    with the same words whether it is a customer's or not, and the booking goes on with the
    code. Until then nothing booked for that address elsewhere is attached to this chat."""
    assert message.text is not None and message.from_user is not None
    data = await state.get_data()
    who = await ensure_customer(ctx, customer, message.from_user, message.chat.id, known)
    name = str(data.get("name") or who.name)
    if not await linking.codes_can_be_mailed(ctx):  # email went down since the prompt
        await _book_without_email(
            message, state, listings, who, settings, bot, known, name, Wizard.email
        )
        return
    try:
        email = capped(message.text, EMAIL_MAX)
        await profiles.set_name(ctx, actor=actor(who), customer_id=who.id, name=name)
        await linking.send_link_code(
            ctx,
            email=email,
            telegram_user_id=message.from_user.id,
            chat_id=message.chat.id,
            name=name,
            language=current_locale(),
        )
    except BookingError as error:  # typed again at this step, or Back / Cancel
        await message.answer(error_text(error, current_locale()), reply_markup=controls(TO_NAME))
        return
    changed(known, message.from_user)
    await save(state, Wizard.code, {**data, "email": email})
    await message.answer(
        _(
            "I sent a 6-digit code to {email}. Type it here and I will go on with your "
            "booking (it is valid for 15 minutes).",
            email=email,
        ),
        reply_markup=controls(TO_EMAIL),
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
            + _("Type the code again, or /events to start over."),
            reply_markup=controls(TO_EMAIL),
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
    notice: str = "",
) -> None:
    """Claim the step, then hold (or check out with ``buy``) the places of the draft, once.
    ``notice`` goes above the booking's card."""
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
    await _booked(target, ctx, booking, settings, bot, buy, notice)


async def _booked(
    target: Message | CallbackQuery,
    ctx: Context,
    booking: BookingView,
    settings: BotSettings,
    bot: Bot,
    buy: bool,
    notice: str,
) -> None:
    if not buy:
        deadline = when(booking.deadline, booking.timezone) if booking.deadline else "-"
        headline = _(
            "Done! Your places are held until {deadline}. I will remind you before.",
            deadline=deadline,
        )
    else:
        headline = _("Your places are kept while you pay.")
    now = ctx.clock.now()
    screen = Screen(
        cards.booking_text(booking, headline, now=now), cards.booking_keyboard(booking, now=now)
    )
    shown = screen.above(notice)
    await show(target, shown.text, shown.markup)
    if buy:
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
    elif error.code in BACK_TO_QUANTITY:
        screen = await quantity_step(listings, state, data, customer, notice=reason)
    elif error.code == "too_many_holds":  # paying or cancelling one of them is what helps
        await finish(state)
        found = await bookings.my_bookings(listings.ctx, customer_id=customer.id)
        screen = Screen(cards.bookings_text(found, 0), cards.bookings_keyboard(found, 0))
        screen = screen.above(reason)
    else:  # buy_only (the deadline passed meanwhile), eligibility: a fresh summary
        screen = await summary(listings, state, data, customer, settings, notice=reason)
    await show(target, screen.text, screen.markup)
