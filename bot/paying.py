"""Telegram Payments: the invoice for a booking, and what the payload says back.

The invoice payload names the booking only; at pre-checkout the service re-checks that the
hold is still open and the amount is still what is due: its total, less the pass credit it
uses (house rule 11). When the holder has pass credit that can pay, the pay step offers it
first (``credit_choice``; issue 12 item 7).
"""

from __future__ import annotations

from collections import Counter

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from booking.actors import Actor
from booking.context import Context
from booking.services import checkouts, pass_credit
from booking.services.pass_credit import BookingCredit
from booking.views import BookingView
from bot.booking_keyboards import credit_choices
from bot.formatting import clip, money, short
from bot.i18n import _, ngettext
from bot.settings import BotSettings

PAYLOAD_PREFIX = "booking:"
# Reads a booking's amounts and the credit of its own customer's passes, when the caller has
# just made the booking in this chat (its customer is the one paying).
CHANNEL = Actor.system("telegram channel")


def payload_for(reference: str) -> str:
    return PAYLOAD_PREFIX + reference


def reference_in(payload: str) -> str | None:
    return payload[len(PAYLOAD_PREFIX) :] if payload.startswith(PAYLOAD_PREFIX) else None


def prices(booking: BookingView) -> list[LabeledPrice]:
    """One line per ticket type; a single total line if discounts make the lines disagree.

    Amounts go as stored: minor units of the booking's currency as CLDR sizes them (Babel),
    which is what Telegram's ``exp`` counts for JPY (0) and CHF or EUR (2): ¥4,500 is 4500."""
    amounts: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for item in booking.items:
        amounts[item.tariff_name] += item.price_minor
        counts[item.tariff_name] += 1
    if sum(amounts.values()) != booking.total_minor:
        return [
            LabeledPrice(
                label=_("Booking {reference}", reference=booking.reference),
                amount=booking.total_minor,
            )
        ]
    return [
        LabeledPrice(label=clip(f"{counts[name]} × {name}", 40), amount=amount)
        for name, amount in amounts.items()
    ]


async def offer_payment(
    bot: Bot,
    ctx: Context,
    chat_id: int,
    booking: BookingView,
    settings: BotSettings,
    *,
    payer: Actor | None = None,
    with_credit: bool = True,
) -> None:
    """Pass credit first when the holder has some that can pay (``payer``: who is in the
    chat, by default the booking's own customer); then an invoice with Telegram Payments for
    what is due; else the signed pay link of the booking email; else, plainly, that online
    payment is off."""
    credit = await pass_credit.booking_credit(
        ctx, actor=payer or CHANNEL, reference=booking.reference
    )
    if with_credit and credit.offers:
        await bot.send_message(chat_id, credit_text(credit), reply_markup=credit_choices(credit))
        return
    if credit.applied_minor:
        await bot.send_message(chat_id, applied_text(credit))
    if settings.payments_on:
        problem = await _send_invoice(bot, chat_id, booking, settings, credit.due_minor)
        if problem:
            await bot.send_message(chat_id, problem)
    elif settings.pay_page_on:
        token = await checkouts.pay_link_token(ctx, booking=booking)
        link = f"{settings.public_url.rstrip('/')}/pay/{token}"
        await bot.send_message(
            chat_id,
            _(
                "Pay booking {reference} online on this secure page:\n{link}",
                reference=booking.reference,
                link=link,
            ),
        )
    else:
        await bot.send_message(
            chat_id,
            _(
                "Online payment is not available. Please pay at the box office before the "
                "deadline; booking {reference} stays held until then.",
                reference=booking.reference,
            ),
        )


async def _send_invoice(
    bot: Bot, chat_id: int, booking: BookingView, settings: BotSettings, due_minor: int
) -> str:
    """Send the invoice for what is due; returns "" when sent, otherwise what to tell the
    customer instead."""
    description = ngettext(
        "Booking {reference} · {date} · {n} place",
        "Booking {reference} · {date} · {n} places",
        len(booking.items),
        reference=booking.reference,
        date=short(booking.starts_at, booking.timezone),
    )
    try:
        await bot.send_invoice(
            chat_id=chat_id,
            title=clip(booking.title, 32),
            description=clip(description, 255),
            payload=payload_for(booking.reference),
            provider_token=settings.payment_provider_token.get_secret_value(),
            currency=booking.currency,
            prices=prices_due(booking, due_minor),
        )
    except TelegramBadRequest as exc:  # e.g. an amount outside the provider's limits
        return _(
            "The payment could not be started ({error}). Please try again later.",
            error=exc.message,
        )
    return ""


# -- pass credit (issue 12 item 7) ------------------------------------------------------------


def prices_due(booking: BookingView, due_minor: int) -> list[LabeledPrice]:
    """The invoice's lines: the booking's (``prices``), or one line of what is left once pass
    credit paid part (Telegram adds the lines up; no negative line is sent)."""
    if due_minor == booking.total_minor:
        return prices(booking)
    label = _("Booking {reference}, after pass credit", reference=booking.reference)
    return [LabeledPrice(label=clip(label, 40), amount=due_minor)]


def credit_text(credit: BookingCredit) -> str:
    """Above the credit choices: what the pass has and what the booking needs."""
    lines = [_("Booking {reference}: {due} to pay.", reference=credit.reference,
               due=money(credit.due_minor, credit.currency))]  # fmt: skip
    for offer in credit.offers[:3]:
        lines.append(
            _(
                "Pass {code} ({product}) has {credit} of credit.",
                code=offer.code,
                product=offer.product_name,
                credit=money(offer.balance_minor, offer.currency),
            )
        )
    return "\n".join(lines)


def applied_text(credit: BookingCredit) -> str:
    return _(
        "{credit} of pass credit is applied to booking {reference}: {due} left to pay.",
        credit=money(credit.applied_minor, credit.currency),
        reference=credit.reference,
        due=money(credit.due_minor, credit.currency),
    )


async def amount_due(ctx: Context, booking: BookingView) -> int:
    """What is left to pay on the booking: its total less the pass credit it uses."""
    credit = await pass_credit.booking_credit(ctx, actor=CHANNEL, reference=booking.reference)
    return credit.due_minor
