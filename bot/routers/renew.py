"""/renew (issue 12): the customer's season passes to renew, one renewal's offers, its
summary, then "Hold" or "Pay now" through ``renewals.renew``.

Only a chat linked to a customer acts (the middleware's ``customer``). Every press names a
renewal and reads it again: someone else's renewal (a forged or forwarded button) is refused
before anything about it is shown, and the service checks the holder, the window and the
state once more when renewing, so an old button gets the renewal as it is now. A double
click renews once: the second press meets ``renewal_done`` and is shown the booking made.
No conversation state: each screen stands on what the payload names.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.queries import renewals as renewal_queries
from booking.queries.renewals import RenewalChoice, RenewalOption
from booking.services import bookings, renewals
from booking.views import CustomerView
from bot import cards, paying
from bot import renew_cards as texts
from bot import renew_keyboards as keys
from bot.callbacks import pressed
from bot.common import actor, chat_id_of, show
from bot.formatting import when
from bot.i18n import _, current_locale
from bot.renew_callbacks import RenewCb
from bot.routers import Handlers
from bot.settings import BotSettings
from bot.states import finish
from bot.wizard import Screen

router = Handlers("renew")
# Refusals where the holder's renewal, as it is now, says what to do next (the window, the
# booking already made, the offers with the seat now free).
TO_CHOICE = frozenset(
    {
        "renewal_done",
        "renewal_not_open",
        "renewal_window_closed",
        "renewal_offer_unknown",
        "pass_seat_taken",
        "pass_no_seat",
        "pass_no_dates",
        "sold_out",
        "seat_taken",
        "too_many_holds",
        "buy_only",
    }
)


def owned(choice: RenewalChoice | None, customer: CustomerView) -> bool:
    """The guard against a button naming someone else's renewal: it belongs to the customer
    of this chat (the holder of the pass to renew)."""
    return choice is not None and choice.customer_id == customer.id


async def _load(
    query: CallbackQuery, ctx: Context, customer: CustomerView | None, renewal_id: int
) -> tuple[CustomerView, RenewalChoice] | None:
    """This chat's customer and their renewal, or None after an alert saying why not (and
    nothing about the renewal shown)."""
    if customer is None:
        await query.answer(texts.unlinked_alert(), show_alert=True)
        return None
    choice = await renewal_queries.renewal_choice(ctx, renewal_id=renewal_id)
    if choice is None or not owned(choice, customer):
        code = "renewal_unknown" if choice is None else "renewal_not_holder"
        await query.answer(error_text(BookingError(code), current_locale()), show_alert=True)
        return None
    return customer, choice


async def _choice_screen(
    ctx: Context, customer: CustomerView, choice: RenewalChoice, headline: str = ""
) -> Screen:
    """One renewal as it is now; once renewed, with its booking (to pay it while held)."""
    booking = None
    if choice.state == "renewed" and choice.new_reference:
        try:
            booking = await bookings.get_booking(
                ctx, actor=actor(customer), reference=choice.new_reference
            )
        except BookingError:  # not the customer's to see (moved to another customer)
            booking = None
    text = texts.choice_text(choice, ctx.clock.now(), headline, booking)
    return Screen(text, keys.choice_keyboard(choice, booking))


async def _start_screen(ctx: Context, customer: CustomerView) -> Screen:
    """One renewal: its offers at once; several: the list; none: say so, and /passes."""
    found = await renewal_queries.open_renewals(ctx, customer_id=customer.id)
    if not found:
        return Screen(texts.none_text())
    if len(found) == 1:
        return await _choice_screen(ctx, customer, found[0])
    return Screen(texts.list_text(found, ctx.clock.now()), keys.list_keyboard(found))


@router.message(Command("renew"))
async def renew_command(
    message: Message, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    await finish(state)
    if customer is None:
        await message.answer(texts.unlinked_text())
        return
    screen = await _start_screen(ctx, customer)
    await show(message, screen.text, screen.markup)


@router.callback_query(pressed(RenewCb, "list"))
async def all_renewals(
    query: CallbackQuery, state: FSMContext, ctx: Context, customer: CustomerView | None
) -> None:
    if customer is None:
        await query.answer(texts.unlinked_alert(), show_alert=True)
        return
    await finish(state)
    found = await renewal_queries.open_renewals(ctx, customer_id=customer.id)
    if found:
        screen = Screen(texts.list_text(found, ctx.clock.now()), keys.list_keyboard(found))
    else:
        screen = Screen(texts.none_text())
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(pressed(RenewCb, "open"))
async def open_renewal(
    query: CallbackQuery,
    callback_data: RenewCb,
    state: FSMContext,
    ctx: Context,
    customer: CustomerView | None,
) -> None:
    loaded = await _load(query, ctx, customer, callback_data.id)
    if loaded is None:
        return
    customer, choice = loaded
    await finish(state)
    screen = await _choice_screen(ctx, customer, choice)
    await show(query, screen.text, screen.markup)
    await query.answer()


def _option(choice: RenewalChoice, product_id: int) -> RenewalOption | None:
    return next((o for o in choice.options if o.product_id == product_id), None)


@router.callback_query(pressed(RenewCb, "offer"))
async def offer_summary(
    query: CallbackQuery,
    callback_data: RenewCb,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
) -> None:
    loaded = await _load(query, ctx, customer, callback_data.id)
    if loaded is None:
        return
    customer, choice = loaded
    option = _option(choice, callback_data.product)
    if option is None or choice.state != "invited" or not choice.open_now:
        # The window closed, the renewal was made elsewhere, or the offer is gone meanwhile.
        screen = await _choice_screen(ctx, customer, choice, _("This has changed in the meantime."))
    else:
        markup = keys.summary_keyboard(choice, option, can_pay=settings.can_pay_online)
        screen = Screen(texts.summary_text(choice, option), markup)
    await show(query, screen.text, screen.markup)
    await query.answer()


@router.callback_query(pressed(RenewCb, "hold", "buy"))
async def renew_pass(
    query: CallbackQuery,
    callback_data: RenewCb,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
) -> None:
    loaded = await _load(query, ctx, customer, callback_data.id)
    if loaded is None:
        return
    customer, choice = loaded
    buy = callback_data.action == "buy"
    try:
        sold = await renewals.renew(
            ctx,
            actor=actor(customer),
            renewal_id=choice.renewal_id,
            product_id=callback_data.product,
            buy=buy,
        )
    except BookingError as error:
        await _refused(query, ctx, customer, choice.renewal_id, error)
        return
    booking = await bookings.get_booking(ctx, actor=actor(customer), reference=sold.reference)
    option = _option(choice, callback_data.product)
    headline = _renewed_headline(sold.code, option, booking.deadline, booking.timezone, buy)
    now = ctx.clock.now()
    text = cards.booking_text(booking, headline, now=now)
    await show(query, text, cards.booking_keyboard(booking, now=now))
    await query.answer()
    if buy:
        await paying.offer_payment(bot, ctx, chat_id_of(query), booking, settings)


def _renewed_headline(
    code: str, option: RenewalOption | None, deadline: datetime | None, timezone: str, buy: bool
) -> str:
    product = option.name if option is not None else ""
    if buy:
        return _(
            "Pass {code} is renewed as {product}; it is kept for you while you pay.",
            code=code,
            product=product,
        )
    until = when(deadline, timezone) if deadline is not None else "-"
    return _(
        "Done! Pass {code} is renewed as {product} and held for you until {deadline}. "
        "I will remind you before.",
        code=code,
        product=product,
        deadline=until,
    )


async def _refused(
    query: CallbackQuery,
    ctx: Context,
    customer: CustomerView,
    renewal_id: int,
    error: BookingError,
) -> None:
    """Say why, over the renewal as it is now (which then offers what can still be done)."""
    reason = error_text(error, current_locale())
    choice = await renewal_queries.renewal_choice(ctx, renewal_id=renewal_id)
    if error.code not in TO_CHOICE or not owned(choice, customer):
        await query.answer(reason, show_alert=True)
        return
    assert choice is not None
    screen = await _choice_screen(ctx, customer, choice, reason)
    await show(query, screen.text, screen.markup)
    await query.answer(_("This has changed in the meantime."))
