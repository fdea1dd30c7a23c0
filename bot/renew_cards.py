"""How /renew reads in the chat: the customer's renewals, one renewal's offers, the summary of
one offer. Dates in the venue's timezone (``RenewalChoice.timezone``), in the update's
language; the buttons are in bot/renew_keyboards.py.
"""

from __future__ import annotations

from datetime import datetime

from booking.queries.renewals import RenewalChoice, RenewalOption
from booking.views import BookingView
from bot.cards import deadline_line
from bot.formatting import money, seat, status, when
from bot.i18n import _


def window_line(choice: RenewalChoice, now: datetime) -> str:
    """Until when the holder may renew, or why not now."""
    if choice.state == "renewed":
        return _("Already renewed: booking {reference}.", reference=choice.new_reference or "-")
    if choice.state == "released":
        return _("This renewal has ended; the seat kept for you is back on sale.")
    if choice.open_now:
        if choice.closes_at is None:
            return _("You can renew until the organizer closes the renewals.")
        return _("You can renew until {close}.", close=when(choice.closes_at, choice.timezone))
    if choice.opens_at is not None and now < choice.opens_at:
        return _("Renewals open on {open}.", open=when(choice.opens_at, choice.timezone))
    return _("The renewal period has ended.")


def seat_line(option: RenewalOption) -> str:
    """What the holder's seat becomes in this product."""
    if option.seating != "fixed_seat":
        return _("General admission")
    if option.seat is not None:
        return _("Your seat {seat}, kept for you", seat=seat(option.seat))
    return _("Seat: the best one free at every date")


def option_line(option: RenewalOption) -> str:
    price = money(option.price_minor, option.currency)
    return f"• {option.name} · {price}\n   {seat_line(option)}"


def heading(choice: RenewalChoice) -> str:
    return _(
        "Pass {code} · {product} · {holder}",
        code=choice.pass_code,
        product=choice.from_product_name,
        holder=choice.holder_name,
    )


def choice_text(
    choice: RenewalChoice, now: datetime, headline: str = "", booking: BookingView | None = None
) -> str:
    """One renewal: the pass, the campaign, the window, and the offers while it is open; once
    renewed, the renewal ``booking``'s state and, while it is held, until when to pay."""
    parts = [headline] if headline else []
    parts += [heading(choice), _("Renewal: {campaign}", campaign=choice.campaign_name)]
    parts.append(window_line(choice, now))
    if choice.state == "renewed" and booking is not None:
        parts.append(_("Status: {status}", status=status(booking.status)))
        if line := deadline_line(booking, now):
            parts.append(line)
    if choice.state == "invited" and choice.open_now:
        parts.append(_("Choose your pass for the new season:"))
        parts += [option_line(option) for option in choice.options]
        parts.append(_("Your pass code and QR code stay the same."))
    elif choice.state == "invited" or choice.state == "released":
        parts.append(_("/passes shows your passes and those on sale."))
    return "\n".join(parts)


def list_text(found: list[RenewalChoice], now: datetime) -> str:
    lines = [_("Your passes to renew:")]
    for i, choice in enumerate(found, start=1):
        lines.append(f"{i}. {heading(choice)}")
        lines.append(f"   {choice.campaign_name} · {window_line(choice, now)}")
    return "\n".join(lines)


def none_text() -> str:
    return _(
        "You have no pass to renew at the moment. When a renewal opens for your pass, you "
        "will be told here. /passes shows your passes and those on sale."
    )


def unlinked_text() -> str:
    return _(
        "I do not know whose passes to show yet: this chat is not linked to your customer "
        "record. Open the Telegram link in one of our emails, or send /start to link this chat "
        "with a code mailed to you; then /renew shows your passes."
    )


def unlinked_alert() -> str:
    """The same, short enough for a button's alert (Telegram shows 200 characters)."""
    return _("This chat is not linked to your customer record yet: send /start to link it.")


def summary_text(choice: RenewalChoice, option: RenewalOption) -> str:
    return "\n".join(
        (
            _(
                "Renew pass {code} as {product}",
                code=choice.pass_code,
                product=option.name,
            ),
            _("Price: {price}", price=money(option.price_minor, option.currency)),
            seat_line(option),
            _("Holder: {name}", name=choice.holder_name),
            _("Your pass code and QR code stay the same."),
        )
    )
