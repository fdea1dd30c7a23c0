"""Telegram Payments: the invoice for a booking, and what the payload says back.

The invoice payload names the booking only; at pre-checkout the service re-checks that the
hold is still open and the amount is still its total (house rule 11).
"""

from __future__ import annotations

from collections import Counter

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from booking.context import Context
from booking.services import checkouts
from booking.views import BookingView
from bot.formatting import clip, short
from bot.i18n import _, ngettext
from bot.settings import BotSettings

PAYLOAD_PREFIX = "booking:"


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
    bot: Bot, ctx: Context, chat_id: int, booking: BookingView, settings: BotSettings
) -> None:
    """An invoice with Telegram Payments; else the signed pay link of the booking email;
    else, plainly, that online payment is off."""
    if settings.payments_on:
        problem = await _send_invoice(bot, chat_id, booking, settings)
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


async def _send_invoice(bot: Bot, chat_id: int, booking: BookingView, settings: BotSettings) -> str:
    """Send the invoice; returns "" when sent, otherwise what to tell the customer instead."""
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
            title=clip(booking.event_title, 32),
            description=clip(description, 255),
            payload=payload_for(booking.reference),
            provider_token=settings.payment_provider_token.get_secret_value(),
            currency=booking.currency,
            prices=prices(booking),
        )
    except TelegramBadRequest as exc:  # e.g. an amount outside the provider's limits
        return _(
            "The payment could not be started ({error}). Please try again later.",
            error=exc.message,
        )
    return ""
