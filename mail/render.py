"""Notices as emails: subject, plain text and HTML from ``templates/mail/<kind>.*``.

The words of each notice come from ``booking.notices`` (the core's catalogue); the templates
wrap them with what only email has: the booking details, the pay link, the reply keywords,
the Telegram link, QR tickets. Their own strings are in the gettext catalogue too
(``booking/locales/fr/LC_MESSAGES/mail.po``), so every user-visible word is translated.

Rendering is pure: ``MailContent`` is gathered first by the channel (services, links).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from booking.errors import MESSAGES, BookingError
from booking.i18n import error_text, gettext_for, translations
from booking.notices import Notice
from booking.rules.formatting import money, pick_locale, when
from booking.views import BookingView, CustomerView, OutboxView, TicketView

_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")  # templates may leave several in a row
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# The kinds the mail channel answers inbound mail with (the core's notices are the others).
ANSWER_KINDS = (
    "mail_help",
    "mail_pay_link",
    "mail_refusal",
    "mail_status",
    "mail_extension_requested",
    "mail_done",
    "mail_not_owner",
    "mail_forged",
    "mail_too_large",
)


def N_(message: str) -> str:
    return message


# Refusals only email has (the core's error codes render through booking.i18n.error_text).
REFUSALS: dict[str, str] = {
    "date_unreadable": N_(
        "We could not read the date after EXTEND. Write it like this: EXTEND 24/12 or "
        "EXTEND 24 December, then your reason."
    ),
    "cancel_reason_missing": N_(
        "Please write the reason after CANCEL, for example: CANCEL I cannot come that day."
    ),
    "which_booking": N_(
        "We could not tell which booking you mean. Please reply to the email of that booking."
    ),
    "renew_unavailable": N_(
        "Pass renewal by email is not available yet; please ask the organizer."
    ),
}
DONE: dict[str, str] = {
    "cancelled": N_("Done: booking {reference} is cancelled."),
    "extension_requested": N_("Done: the request for more time was sent to the organizer."),
    "extension_approved": N_("Done: the deadline of booking {reference} is now {until}."),
}
STATUS_LABELS: dict[str, str] = {
    "held": N_("held, to be paid"),
    "overdue": N_("payment overdue"),
    "confirmed": N_("paid"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
}


@dataclass(frozen=True, slots=True)
class Ticket:
    view: TicketView
    png: bytes
    cid: str  # Content-ID of the inline image, without angle brackets
    filename: str


@dataclass(frozen=True, slots=True)
class MailContent:
    """Everything a template may show, gathered before rendering."""

    message: OutboxView
    notice: Notice
    pay_url: str | None = None
    telegram_url: str | None = None
    tickets: tuple[Ticket, ...] = ()
    bookings: tuple[BookingView, ...] = ()  # STATUS answers
    pay_urls: dict[str, str] = field(default_factory=dict)  # per reference, STATUS answers


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Line:
    count: int
    tariff: str
    unit_price: str
    seats: tuple[str, ...]


def render(content: MailContent) -> Rendered:
    message = content.message
    locale = pick_locale(message.locale)
    env = environment(locale)
    kind = message.kind if (TEMPLATES / "mail" / f"{message.kind}.txt").exists() else "generic"
    values = _values(content, locale)
    subject = env.get_template(f"mail/{kind}.subject").render(values)
    return Rendered(
        subject=" ".join(subject.split())[:250],  # one line: a newline would end the header
        text=_BLANK_LINES.sub("\n\n", env.get_template(f"mail/{kind}.txt").render(values)).strip()
        + "\n",
        html=env.get_template(f"mail/{kind}.html").render(values),
    )


@cache
def environment(locale: str) -> Environment:
    """One Jinja environment per language, with that language's gettext installed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a typo in a template fails the test, not a customer
        keep_trailing_newline=False,
        auto_reload=False,  # templates do not change while the process runs; saves a stat each
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["todatetime"] = datetime.fromisoformat
    return env


def refusal_text(payload: dict[str, Any], locale: str) -> str:
    code = str(payload.get("code") or "")
    params = payload.get("params") or {}
    if code in MESSAGES:
        try:
            return error_text(BookingError(code, **params), locale)
        except (KeyError, IndexError):  # a parameter missing from an old row
            return gettext_for(locale, MESSAGES[code])
    return gettext_for(locale, REFUSALS.get(code, REFUSALS["which_booking"]))


def lines(booking: BookingView, locale: str) -> list[Line]:
    """Items grouped by tariff and price: "2 × Standing, CHF 45.00 each"."""
    counts = Counter((i.tariff_name, i.price_minor) for i in booking.items)
    seats: dict[tuple[str, int], list[str]] = {}
    for item in booking.items:
        if item.seat:
            key = (item.tariff_name, item.price_minor)
            seats.setdefault(key, []).append(item.seat.label(locale))
    return [
        Line(n, name, money(price, booking.currency, locale), tuple(seats.get((name, price), [])))
        for (name, price), n in counts.items()
    ]


def _values(content: MailContent, locale: str) -> dict[str, Any]:
    message = content.message
    booking = message.booking
    payload = dict(message.payload)

    def fmt_money(minor: int, currency: str) -> str:
        return money(minor, currency, locale)

    def fmt_when(at: Any, timezone: str) -> str:
        return when(at, timezone, locale) if at is not None else "-"

    return {
        "kind": message.kind,
        "customer": message.customer,
        "first_name": _first_name(message.customer),
        "booking": booking,
        "lines": lines(booking, locale) if booking else [],
        "total": fmt_money(booking.total_minor, booking.currency) if booking else "",
        "deadline": fmt_when(booking.deadline, booking.timezone) if booking else "",
        "starts": fmt_when(booking.starts_at, booking.timezone) if booking else "",
        "notice": content.notice,
        "payload": payload,
        "pay_url": content.pay_url,
        "pay_urls": content.pay_urls,
        "telegram_url": content.telegram_url,
        "tickets": content.tickets,
        "bookings": content.bookings,
        "money": fmt_money,
        "when": fmt_when,
        "re_subject": _re_subject(str(payload.get("subject") or "")),
        "locale": locale,
        "status_label": lambda status: gettext_for(locale, STATUS_LABELS.get(status) or status),
        "refusal": refusal_text(payload, locale) if message.kind == "mail_refusal" else "",
        "done": _done(payload, booking, locale) if message.kind == "mail_done" else "",
    }


def _done(payload: dict[str, Any], booking: BookingView | None, locale: str) -> str:
    text = gettext_for(locale, DONE.get(str(payload.get("action")), DONE["cancelled"]))
    until = payload.get("until")
    return text.format(
        reference=booking.reference if booking else "-",
        until=when(datetime.fromisoformat(until), booking.timezone, locale)
        if booking and isinstance(until, str)
        else "-",
    )


def _first_name(customer: CustomerView) -> str:
    return (customer.name or "").split(" ")[0] if customer.name else ""


def _re_subject(subject: str) -> str:
    """ "Re: <their subject>", once, so the answer lands in the same thread in every client."""
    subject = " ".join(subject.split())
    while subject[:3].lower() in ("re:", "aw:") or subject[:4].lower() == "fwd:":
        subject = subject.split(":", 1)[1].strip()
    return f"Re: {subject}" if subject else ""
