"""What each outbox notice says, rendered at delivery in the recipient's language.

Channels may wrap these texts in their own templates (HTML mail, Telegram formatting); the
words themselves live here, once, in the gettext catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.i18n import gettext_for, ngettext_for
from booking.rules.formatting import money, when
from booking.views import BookingView, OutboxView


def N_(message: str) -> str:
    return message


SUBJECTS: dict[str, str] = {
    "booking_held": N_("Your booking {reference} is held until {deadline}"),
    "reminder": N_("Reminder: booking {reference} must be paid by {deadline}"),
    "booking_expired": N_("Booking {reference} has expired"),
    "booking_overdue": N_("Booking {reference}: the payment deadline has passed"),
    "booking_released": N_("Booking {reference} has been released"),
    "booking_cancelled": N_("Booking {reference} is cancelled"),
    "payment_confirmed": N_("Booking {reference} is paid: your tickets"),
    "payment_refund_due": N_("Booking {reference}: we received your payment"),
    "extension_approved": N_("Booking {reference}: more time granted until {until}"),
    "extension_denied": N_("Booking {reference}: your request for more time"),
    "deadline_extended": N_("Booking {reference}: new deadline {until}"),
    "link_code": N_("Your Guichet code: {code}"),
    "telegram_moved": N_("Your bookings were linked to another Telegram account"),
    "email_changed": N_("The email address of your bookings was changed"),
    # Issue 12, core renewals
    "renewal_invited": N_("Renew your pass {pass_code}: {campaign}"),
    "renewal_reminder": N_("Reminder: renew your pass {pass_code} by {closes_at}"),
    "renewal_released": N_("Pass {pass_code}: the renewal is closed"),
    # Issue 13, resale
    "resale_closed": N_("Pass {pass_code}: {listed_event} on {listed_date} was not resold"),
}

BODIES: dict[str, str] = {
    "resale_closed": N_(
        "Nobody bought your place for {listed_event} on {listed_date} before it began, so its "
        "resale is closed and nothing is paid out. Your pass {pass_code} admits you that day "
        "again."
    ),
    "reminder": N_(
        "Your places for {event} on {date} are held until {deadline}. Total: {total}. "
        "Pay now to keep them, or ask for more time."
    ),
    "booking_expired": N_(
        "The deadline of booking {reference} for {event} passed without payment, so the "
        "places were released."
    ),
    "booking_overdue": N_(
        "The deadline of booking {reference} for {event} has passed. The organizer will "
        "decide whether to keep your places; you can still pay or ask for more time."
    ),
    "booking_released": N_(
        "The organizer released booking {reference} for {event}; the places are back on sale."
    ),
    "booking_cancelled": N_("Booking {reference} for {event} on {date} is cancelled."),
    "payment_confirmed": N_(
        "Thank you! Booking {reference} for {event} on {date} is paid ({total}). "
        "Your tickets follow; show the QR code at the entrance."
    ),
    "payment_refund_due": N_(
        "We received a payment for booking {reference}, but the places could not be "
        "confirmed. The organizer will refund you; nothing is lost."
    ),
    "extension_approved": N_("Good news: you now have until {until} to pay booking {reference}."),
    "extension_denied": N_(
        "The organizer could not give more time for booking {reference}. "
        "The deadline stays {deadline}. {message}"
    ),
    "deadline_extended": N_("The organizer moved the deadline of booking {reference} to {until}."),
    "link_code": N_(
        "Your code to link Telegram to your bookings is {code}. It is valid for 15 minutes. "
        "If you did not ask for it, ignore this message."
    ),
    "email_changed": N_(
        "The address of your Guichet bookings was just changed from this one to "
        "{new_address} in Telegram, confirmed with a code mailed to the new address. This "
        "address gets no more messages about them. If this was not you, contact the "
        "organizer right away."
    ),
    "telegram_moved": N_(
        "Your Guichet bookings were just linked to another Telegram account, confirmed with "
        "the code mailed to your address. The Telegram account linked before no longer sees "
        "them. If this was not you, contact the organizer right away."
    ),
}


# Bodies that count places: (singular, plural), chosen with ngettext on the number of places.
PLURAL_BODIES: dict[str, tuple[str, str]] = {
    "booking_held": (
        N_(
            "{places} place for {event} on {date} is held for you. Total: {total}. "
            "Please pay before {deadline}, or the place will be released."
        ),
        N_(
            "{places} places for {event} on {date} are held for you. Total: {total}. "
            "Please pay before {deadline}, or the places will be released."
        ),
    ),
}

# A season pass's booking (``BookingView.pass_name``): it belongs to the pass's first date,
# so these name the pass where the others name that date's event.
PASS_BODIES: dict[str, str] = {
    "reminder": N_(
        "Your season pass {pass_name} is held until {deadline}. Total: {total}. "
        "Pay now to keep it, or ask for more time."
    ),
    "booking_expired": N_(
        "The deadline of booking {reference} for the season pass {pass_name} passed without "
        "payment, so its places were released."
    ),
    "booking_overdue": N_(
        "The deadline of booking {reference} for the season pass {pass_name} has passed. The "
        "organizer will decide whether to keep it; you can still pay or ask for more time."
    ),
    "booking_released": N_(
        "The organizer released booking {reference} for the season pass {pass_name}; its "
        "places are back on sale."
    ),
    "booking_cancelled": N_("Booking {reference} for the season pass {pass_name} is cancelled."),
    "payment_confirmed": N_(
        "Thank you! Booking {reference} for the season pass {pass_name} is paid ({total}). "
        "Your pass follows; its QR code admits you at each of its dates."
    ),
}
PASS_SUBJECTS: dict[str, str] = {
    "payment_confirmed": N_("Booking {reference} is paid: your season pass"),
}
PASS_PLURAL_BODIES: dict[str, tuple[str, str]] = {
    "booking_held": (
        N_(
            "Your season pass {pass_name} ({places} date from {date}) is held for you. "
            "Total: {total}. Please pay before {deadline}, or it will be released."
        ),
        N_(
            "Your season pass {pass_name} ({places} dates from {date}) is held for you. "
            "Total: {total}. Please pay before {deadline}, or it will be released."
        ),
    ),
}

# Renewal notices (issue 12): (with the window's closing date, without one: open until the
# organizer closes it), then what they say of the seat kept for the holder, when one is.
RENEWAL_BODIES: dict[str, tuple[str, str]] = {
    "renewal_invited": (
        N_(
            "Your pass {pass_code}: renew it for {campaign} until {closes_at}, with the same "
            "pass code and QR code."
        ),
        N_("Your pass {pass_code}: renew it for {campaign}, with the same pass code and QR code."),
    ),
    "renewal_reminder": (
        N_("Your pass {pass_code} can still be renewed for {campaign} until {closes_at}."),
        N_("Your pass {pass_code} can still be renewed for {campaign}."),
    ),
    "renewal_released": (
        # Closed by hand maybe before its date: the same words either way.
        N_("The renewal of pass {pass_code} for {campaign} is closed."),
        N_("The renewal of pass {pass_code} for {campaign} is closed."),
    ),
}
SEAT_KEPT: dict[str, tuple[str, str]] = {
    "renewal_invited": (
        N_("Your seat is kept for you until then."),
        N_("Your seat is kept for you while the renewal is open."),
    ),
    "renewal_reminder": (
        N_("Your seat is kept for you until then."),
        N_("Your seat is kept for you while the renewal is open."),
    ),
    "renewal_released": (
        N_("The seat kept for you is back on sale."),
        N_("The seat kept for you is back on sale."),
    ),
}

# A colleague acted for the owner: who it was, from the name written at enqueue time (a
# customer's own action gets no "by you").
BY_COLLEAGUE: dict[str, str] = {
    "booking_cancelled": N_("Cancelled by {by}."),
    "payment_confirmed": N_("Paid by {by}."),
    "payment_refund_due": N_("Paid by {by}."),
}


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    text: str


def fields(booking: BookingView | None, payload: dict[str, object], locale: str) -> dict[str, str]:
    values = {k: str(v) for k, v in payload.items() if v is not None}
    values.setdefault("message", "")
    closes = payload.get("closes_at")  # a renewal's window, in the old pass's timezone
    if isinstance(closes, str):
        zone = booking.timezone if booking is not None else "UTC"
        values["closes_at"] = when(datetime.fromisoformat(closes), zone, locale)
    listed = payload.get("listed_at")  # a resale listing's date, in its event's timezone
    if isinstance(listed, str):
        zone = str(payload.get("listed_tz") or "UTC")
        values["listed_date"] = when(datetime.fromisoformat(listed), zone, locale)
    if booking is None:
        return values
    tz = booking.timezone
    until = payload.get("until")
    values |= {
        "reference": booking.reference,
        "event": booking.event_title,
        "date": when(booking.starts_at, tz, locale),
        "deadline": when(booking.deadline, tz, locale) if booking.deadline else "-",
        "total": money(booking.total_minor, booking.currency, locale),
        "places": str(len(booking.items)),
        "pass_name": booking.pass_name,
        "until": when(datetime.fromisoformat(until), tz, locale) if isinstance(until, str) else "-",
    }
    return values


def render(message: OutboxView) -> Notice:
    """Subject and text of a notice, in the recipient's language."""
    locale = message.locale
    values = fields(message.booking, message.payload, locale)
    of_pass = message.booking is not None and bool(message.booking.pass_name)
    subjects = PASS_SUBJECTS if of_pass and message.kind in PASS_SUBJECTS else SUBJECTS
    subject = gettext_for(locale, subjects.get(message.kind, "{reference}"))
    text = body(message, locale)
    return Notice(subject.format_map(_Missing(values)), text.format_map(_Missing(values)).strip())


def body(message: OutboxView, locale: str) -> str:
    """The body's words; "1 place" or "3 places" where it counts them; who acted when a
    colleague did."""
    if message.kind in RENEWAL_BODIES:
        return _renewal_body(message, locale)
    of_pass = message.booking is not None and bool(message.booking.pass_name)
    plurals = PASS_PLURAL_BODIES if of_pass else PLURAL_BODIES
    if message.kind in plurals:
        singular, plural = plurals[message.kind]
        places = len(message.booking.items) if message.booking else 0
        return ngettext_for(locale, singular, plural, places)
    texts = PASS_BODIES if of_pass and message.kind in PASS_BODIES else BODIES
    text = gettext_for(locale, texts.get(message.kind, ""))
    if message.kind in BY_COLLEAGUE and message.payload.get("by"):
        text += "\n" + gettext_for(locale, BY_COLLEAGUE[message.kind])
    return text


def _renewal_body(message: OutboxView, locale: str) -> str:
    """A renewal notice: with or without the window's closing date, and the kept seat."""
    dated = 0 if isinstance(message.payload.get("closes_at"), str) else 1
    text = gettext_for(locale, RENEWAL_BODIES[message.kind][dated])
    if message.payload.get("seat_kept"):
        text += " " + gettext_for(locale, SEAT_KEPT[message.kind][dated])
    return text


class _Missing(dict[str, str]):
    """A placeholder nobody filled reads as a dash rather than crashing a delivery."""

    def __missing__(self, key: str) -> str:
        return "-"
