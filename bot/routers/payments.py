"""Telegram Payments: the pre-checkout answer (in time, with a reason when refused) and the
successful payment, recorded once whatever Telegram repeats; and the pay step's pass credit
(issue 12 item 7): paying with it, in full or in part, or paying without it."""

from __future__ import annotations

import logging

from aiogram import Bot, F
from aiogram.types import CallbackQuery, Message, PreCheckoutQuery

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.services import bookings, pass_credit, payments, tickets
from booking.views import BookingView, CustomerView
from bot import cards, pass_cards, paying, qr
from bot.callbacks import pressed
from bot.common import actor, show
from bot.credit_callbacks import CreditCb
from bot.formatting import money
from bot.i18n import _, current_locale
from bot.routers import Handlers
from bot.settings import BotSettings

router = Handlers("payments")
log = logging.getLogger(__name__)
PROVIDER = "telegram"
# When the paying account is not (or no longer) allowed to act on the booking, the money is
# still recorded, by this actor: a payment is never dropped (SPEC §4).
FALLBACK = Actor.system("telegram payments")


@router.pre_checkout_query()
async def pre_checkout(
    query: PreCheckoutQuery, ctx: Context, customer: CustomerView | None
) -> None:
    """Telegram waits 10 seconds for this answer: one read, then answer."""
    reference = paying.reference_in(query.invoice_payload)
    try:
        if reference is None or customer is None:
            raise BookingError("not_owner")
        await payments.check_payable(
            ctx,
            actor=actor(customer),
            reference=reference,
            amount_minor=query.total_amount,
            currency=query.currency,
        )
    except BookingError as error:
        await query.answer(ok=False, error_message=error_text(error, current_locale()))
        return
    await query.answer(ok=True)


@router.message(F.successful_payment)
async def successful_payment(
    message: Message, ctx: Context, customer: CustomerView | None, bot: Bot
) -> None:
    paid = message.successful_payment
    assert paid is not None
    reference = paying.reference_in(paid.invoice_payload)
    if reference is None:
        log.error("payment %s with an unknown payload", paid.telegram_payment_charge_id)
        return
    result = await _record(
        ctx, customer, reference, paid.telegram_payment_charge_id, paid.total_amount, paid.currency
    )
    if result.outcome == "duplicate":
        return  # the first delivery of this update already answered
    booking = result.booking
    if result.outcome == "refund_due":
        await message.answer(
            _(
                "We received your payment for booking {reference}, but the "
                "places could not be confirmed. The organizer will refund you; "
                "nothing is lost.",
                reference=booking.reference,
            )
        )
        return
    season_pass = await pass_cards.card_of_booking(ctx, booking.customer_id, booking.reference)
    if season_pass is not None:  # a pass has no ticket per date: its card's QR admits
        headline = _(
            "Thank you! Booking {reference} is paid. Your season pass card follows: show "
            "its QR code at the entrance of every included date.",
            reference=booking.reference,
        )
    else:
        headline = _(
            "Thank you! Booking {reference} is paid. Your tickets follow: show the QR "
            "code at the entrance.",
            reference=booking.reference,
        )
    now = ctx.clock.now()
    await message.answer(
        cards.booking_text(booking, headline, now=now),
        reply_markup=cards.booking_keyboard(booking, now=now),
    )
    if season_pass is not None:
        await pass_cards.send_card(bot, ctx, message.chat.id, season_pass)
        return
    found = await tickets.list_tickets(
        ctx, actor=FALLBACK, customer_id=booking.customer_id, reference=booking.reference
    )
    await qr.send_tickets(bot, message.chat.id, found)


async def _record(
    ctx: Context,
    customer: CustomerView | None,
    reference: str,
    charge_id: str,
    amount: int,
    currency: str,
) -> payments.PaymentResult:
    """Record as the customer; if they may not act on the booking, as the system."""

    async def record(who: Actor) -> payments.PaymentResult:
        return await payments.record_payment(
            ctx,
            actor=who,
            reference=reference,
            provider=PROVIDER,
            provider_event_id=charge_id,
            amount_minor=amount,
            currency=currency,
            method="online",
        )

    if customer is None:
        return await record(FALLBACK)
    try:
        return await record(actor(customer))
    except BookingError:
        log.warning("payment %s for %s recorded by the system", charge_id, reference)
        return await record(FALLBACK)


# -- paying with pass credit (issue 12 item 7) ------------------------------------------------


@router.callback_query(pressed(CreditCb, "use"))
async def pay_with_credit(
    query: CallbackQuery,
    callback_data: CreditCb,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
) -> None:
    """The holder pays with a pass's credit: the service re-checks the booking (theirs, still
    open, no credit used yet), the pass (theirs, paid, same currency) and the balance."""
    if customer is None:
        await query.answer(error_text(BookingError("not_owner"), current_locale()), show_alert=True)
        return
    chat_id = query.from_user.id
    try:
        done = await pass_credit.apply(
            ctx, actor=actor(customer), reference=callback_data.ref, pass_id=callback_data.id
        )
    except BookingError as error:
        await query.answer(error_text(error, current_locale()), show_alert=True)
        await _as_it_is_now(query, ctx, customer, callback_data.ref, error)
        return
    await query.answer()
    used = money(done.used_minor, done.booking.currency)
    if done.outcome == "paid":
        await _paid_by_credit(bot, ctx, chat_id, done.booking, used, done.pass_code)
        return
    await bot.send_message(
        chat_id,
        _(
            "{credit} of credit from pass {code} is applied to booking {reference}.",
            credit=used,
            code=done.pass_code,
            reference=done.booking.reference,
        ),
    )
    await paying.offer_payment(
        bot, ctx, chat_id, done.booking, settings, payer=actor(customer), with_credit=False
    )


@router.callback_query(pressed(CreditCb, "card"))
async def pay_without_credit(
    query: CallbackQuery,
    callback_data: CreditCb,
    ctx: Context,
    customer: CustomerView | None,
    settings: BotSettings,
    bot: Bot,
) -> None:
    """Pay what is due as without credit (the invoice, the pay link or the box office)."""
    if customer is None:
        await query.answer(error_text(BookingError("not_owner"), current_locale()), show_alert=True)
        return
    try:
        booking = await bookings.get_booking(
            ctx, actor=actor(customer), reference=callback_data.ref
        )
        await payments.check_payable(
            ctx,
            actor=actor(customer),
            reference=booking.reference,
            amount_minor=await paying.amount_due(ctx, booking),
            currency=booking.currency,
        )
    except BookingError as error:
        await query.answer(error_text(error, current_locale()), show_alert=True)
        await _as_it_is_now(query, ctx, customer, callback_data.ref, error)
        return
    await query.answer()
    await paying.offer_payment(
        bot, ctx, query.from_user.id, booking, settings, payer=actor(customer), with_credit=False
    )


async def _paid_by_credit(
    bot: Bot, ctx: Context, chat_id: int, booking: BookingView, used: str, code: str
) -> None:
    """As after any payment: the paid card, then the tickets (or the pass card)."""
    season_pass = await pass_cards.card_of_booking(ctx, booking.customer_id, booking.reference)
    headline = _(
        "Thank you! Booking {reference} is paid with {credit} of credit from pass {code}.",
        reference=booking.reference,
        credit=used,
        code=code,
    )
    now = ctx.clock.now()
    await bot.send_message(
        chat_id,
        cards.booking_text(booking, headline, now=now),
        reply_markup=cards.booking_keyboard(booking, now=now),
    )
    if season_pass is not None:
        await pass_cards.send_card(bot, ctx, chat_id, season_pass)
        return
    found = await tickets.list_tickets(
        ctx, actor=FALLBACK, customer_id=booking.customer_id, reference=booking.reference
    )
    await qr.send_tickets(bot, chat_id, found)


async def _as_it_is_now(
    query: CallbackQuery,
    ctx: Context,
    customer: CustomerView,
    reference: str,
    error: BookingError,
) -> None:
    """An old or refused button: the booking as it is now, with the buttons that fit it."""
    try:
        booking = await bookings.get_booking(ctx, actor=actor(customer), reference=reference)
    except BookingError:
        return  # not theirs, or gone: the alert said why
    now = ctx.clock.now()
    headline = error_text(error, current_locale())
    await show(query, cards.booking_text(booking, headline, now=now),
               cards.booking_keyboard(booking, now=now))  # fmt: skip
