"""Notices as emails: subject, plain text and HTML from ``templates/mail/<kind>.*``.

The words of each notice come from ``booking.notices`` (the core's catalogue); the templates
wrap them with what only email has: the booking details, the pay link, the reply keywords,
the Telegram link, QR tickets. Their own strings are in the gettext catalogue too
(``booking/locales/fr/LC_MESSAGES/mail.po``), so every user-visible word is translated.

Rendering is pure: ``MailContent`` is gathered first by the channel (services, links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from booking.errors import MESSAGES, BookingError
from booking.i18n import error_text, gettext_for, translations
from booking.item_lines import item_lines
from booking.notices import Notice
from booking.pass_pdf import PassFile
from booking.queries.renewals import RenewalChoice
from booking.rules.formatting import money, pick_locale, when
from booking.rules.text import single_line
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
    "mail_which_command",
    "mail_not_allowed",
    "mail_renewed",
    "mail_renew_options",
)
# The renewal notices (booking.notices, enqueued with the OLD pass's booking): they carry the
# signed renewal link and say that a reply RENEW renews.
RENEWAL_KINDS = frozenset({"renewal_invited", "renewal_reminder", "renewal_released"})
RENEW_INVITING = frozenset({"renewal_invited", "renewal_reminder", "mail_renew_options"})


def N_(message: str) -> str:
    return message


# Refusals only email has (the core's error codes render through booking.i18n.error_text).
REFUSALS: dict[str, str] = {
    "date_unreadable": N_(
        "We could not read the date after {word}. Write it day first, like this: {example}, "
        "then your reason."
    ),
    "cancel_reason_missing": N_(
        "Please write the reason after CANCEL, for example: CANCEL I cannot come that day."
    ),
    "which_booking": N_(
        "We could not tell which booking you mean. Please reply to the email of that booking."
    ),
    "renew_not_pass": N_(
        "This booking is not a season pass, so there is nothing to renew. Reply {word} to "
        "the email about your pass."
    ),
    "renew_already": N_("Pass {code} is renewed already: its booking is {reference}."),
}
DONE: dict[str, str] = {
    "cancelled": N_("Done: booking {reference} is cancelled."),
    "extension_requested": N_("Done: the request for more time was sent to the organizer."),
    "extension_approved": N_("Done: the deadline of booking {reference} is now {until}."),
}
# The reply keywords, each with how to write it (SPEC §10): the help, the clarifying
# question and every notice that lists them read this one table.
KEYWORD_WORDS: dict[str, str] = {
    "pay": N_("PAY"),
    "cancel": N_("CANCEL"),
    "extend": N_("EXTEND"),
    "status": N_("STATUS"),
    "renew": N_("RENEW"),
    "help": N_("HELP"),
}
KEYWORD_USES: dict[str, str] = {
    "pay": N_("to receive the payment link"),
    "cancel": N_(
        "then your reason on the same line, to cancel and release the places. "
        "For example: {example}"
    ),
    "extend": N_(
        "to ask the organizer for more time; you may add the day you need and your reason. "
        "For example: {example}"
    ),
    "status": N_("to list your bookings and their deadlines"),
    "renew": N_("in a reply to your pass's renewal email, to renew it for the new season"),
    "help": N_("for this list"),
}
EXTEND_ANY_DAY = N_(
    "to ask the organizer for more time; you may add the day you need and your reason"
)
CANCEL_EXAMPLE = N_("{word} I cannot come that day")
# Numeric dates are read day first (mail.commands); a reader from elsewhere must be told.
DAY_FIRST = N_("Dates are written day first: {example} is {day}.")
_DAY_FIRST_EXAMPLE = date(2000, 10, 12)  # 12/10: the day and the month could be swapped
# The example date of EXTEND: a week after the deadline (the usual "a little more time"),
# never past the last day that can be asked for.
_EXAMPLE_DAYS = 7
SUBJECT_MAX = 150  # their subject in our "Re:"; mail clients show about 70 characters
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
class RenewOption:
    name: str
    price: str
    seat: str  # "Stalls · row A · seat 3", or "" (best available, or general admission)
    same_seat: bool
    seating: str  # "fixed_seat" | "ga"


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
    pass_file: PassFile | None = None  # a paid pass booking: its PDF, attached
    renewal: RenewalChoice | None = None  # renewal notices and answers
    renew_url: str | None = None  # the renewal page's signed link
    now: datetime = field(kw_only=True)  # when the mail is rendered (the channel's clock)


@dataclass(frozen=True, slots=True)
class Keyword:
    verb: str  # "cancel"
    word: str  # in the reader's language: "CANCEL", "ANNULER"
    use: str  # "then your reason on the same line…"


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


def refusal_text(
    payload: dict[str, Any], locale: str, booking: BookingView | None, now: datetime
) -> str:
    code = str(payload.get("code") or "")
    params = payload.get("params") or {}
    if code in MESSAGES:
        try:
            return error_text(BookingError(code, **params), locale)
        except (KeyError, IndexError):  # a parameter missing from an old row
            return gettext_for(locale, MESSAGES[code])
    text = gettext_for(locale, REFUSALS.get(code, REFUSALS["which_booking"]))
    if code == "date_unreadable":
        return text.format(
            word=_word("extend", locale), example=_extend_example(booking, locale, now)
        )
    if code == "renew_not_pass":
        return text.format(word=_word("renew", locale))
    if code == "renew_already":
        return text.format(code=params.get("code", "-"), reference=params.get("reference", "-"))
    return text


def keywords(
    booking: BookingView | None, locale: str, now: datetime, only: tuple[str, ...] = ()
) -> list[Keyword]:
    """The reply commands that can be carried out now (``only``: those the customer named),
    each with how to write it. About no booking (a new message), every command is listed:
    the help says they work in a reply to a booking email."""
    return [
        Keyword(v, _word(v, locale), _use(v, booking, locale, now))
        for v in only or _possible(booking, now)
    ]


def _possible(booking: BookingView | None, now: datetime) -> tuple[str, ...]:
    """Offer only what would succeed: PAY while the booking waits for payment, CANCEL where
    the customer may cancel, EXTEND while some later day can still be asked for."""
    if booking is None:
        return tuple(KEYWORD_WORDS)
    can = {
        "pay": booking.is_open,
        "cancel": booking.customer_may_cancel,
        "extend": extend_day(booking, now) is not None,
    }
    return (*(verb for verb, possible in can.items() if possible), "status", "help")


def _word(verb: str, locale: str) -> str:
    return gettext_for(locale, KEYWORD_WORDS[verb])


def _use(verb: str, booking: BookingView | None, locale: str, now: datetime) -> str:
    if verb == "cancel":
        example = gettext_for(locale, CANCEL_EXAMPLE).format(word=_word(verb, locale))
        return gettext_for(locale, KEYWORD_USES[verb]).format(example=example)
    if verb == "extend":
        if booking is None or extend_day(booking, now) is None:
            return gettext_for(locale, EXTEND_ANY_DAY)
        example = _extend_example(booking, locale, now)
        return gettext_for(locale, KEYWORD_USES[verb]).format(example=example)
    return gettext_for(locale, KEYWORD_USES.get(verb, KEYWORD_USES["help"]))


def extend_day(booking: BookingView, now: datetime) -> date | None:
    """A day EXTEND would be accepted with for this booking (after its deadline, before its
    performance), or None when no request can be made now."""
    days = booking.more_time_days(now)
    if days is None:
        return None
    first, last = days
    return min(first + timedelta(days=_EXAMPLE_DAYS), last)


def _extend_example(booking: BookingView | None, locale: str, now: datetime) -> str:
    """ "EXTEND 5/12", written as the customer would (day first, no year when it is the next
    such day); about no booking, only the word."""
    word = _word("extend", locale)
    day = extend_day(booking, now) if booking is not None else None
    if day is None:
        return word
    year = f"/{day.year}" if (day - now.date()).days > 300 else ""  # "5/12" means the next 5/12
    return f"{word} {day.day}/{day.month}{year}"


def day_first(locale: str) -> str:
    """ "Dates are written day first: 12/10 is 12 October." (Babel names the month.)"""
    day = format_date(_DAY_FIRST_EXAMPLE, "d MMMM", locale=locale)
    example = f"{_DAY_FIRST_EXAMPLE.day}/{_DAY_FIRST_EXAMPLE.month}"
    return gettext_for(locale, DAY_FIRST).format(example=example, day=day)


def safe_subject(text: str, limit: int = SUBJECT_MAX) -> str:
    """A customer's subject made safe to put back in ours, or "" when nothing usable is left.

    The parser decodes with replacement, so bytes it could not read arrive as U+FFFD: those
    are dropped, like control and format characters (``single_line``), and the length is
    bounded at a word. A subject that was mostly undecodable, or has no letter or digit
    left, is unusable: the answer then has a subject of our own."""
    visible = [c for c in text if not c.isspace()]
    if visible and visible.count("\ufffd") * 4 >= len(visible):
        return ""
    cleaned = single_line(text.replace("\ufffd", " "), 10 * limit)
    if not any(c.isalnum() for c in cleaned):
        return ""
    if len(cleaned) > limit:
        cleaned = cleaned[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"
    return cleaned


def lines(booking: BookingView, locale: str) -> list[Line]:
    """Items grouped by tariff and price: "2 × Standing, CHF 45.00 each"."""
    return [
        Line(
            line.count,
            line.tariff,
            money(line.unit_price_minor, booking.currency, locale),
            # A pass holds one seat at every date: "seat 3" once, not once per date.
            tuple(dict.fromkeys(seat.label(locale) for seat in line.seats)),
        )
        for line in item_lines(booking.items)
    ]


def _values(content: MailContent, locale: str) -> dict[str, Any]:
    message = content.message
    booking = message.booking
    payload = dict(message.payload)

    def fmt_money(minor: int, currency: str) -> str:
        return money(minor, currency, locale)

    def fmt_when(at: Any, timezone: str) -> str:
        return when(at, timezone, locale) if at is not None else "-"

    listed = keywords(booking, locale, content.now, _options(payload) or _renew_words(message))
    renewal = content.renewal

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
        "refusal": refusal_text(payload, locale, booking, content.now)
        if message.kind == "mail_refusal"
        else "",
        "keywords": listed,
        "options": ", ".join(_word(v, locale) for v in _options(payload)),
        # Only beside EXTEND, the one command that takes a date.
        "day_first": day_first(locale) if any(k.verb == "extend" for k in listed) else "",
        "done": _done(payload, booking, locale) if message.kind == "mail_done" else "",
        "pass_file": content.pass_file,
        "renewal": renewal,
        "renew_url": content.renew_url,
        "renew_options": renew_options(renewal, locale) if renewal else [],
        "closes": _closes(renewal, locale),
        "renew_word": _word("renew", locale),
    }


def _renew_words(message: OutboxView) -> tuple[str, ...]:
    """An invitation lists RENEW first (the old pass's booking is paid: PAY, EXTEND and
    CANCEL would be noise there)."""
    return ("renew", "status", "help") if message.kind in RENEW_INVITING else ()


def renew_options(renewal: RenewalChoice, locale: str) -> list[RenewOption]:
    return [
        RenewOption(
            name=o.name,
            price=money(o.price_minor, o.currency, locale),
            seat=o.seat.label(locale) if o.seat else "",
            same_seat=o.same_seat,
            seating=o.seating,
        )
        for o in renewal.options
    ]


def _closes(renewal: RenewalChoice | None, locale: str) -> str:
    if renewal is None or renewal.closes_at is None:
        return ""
    return when(renewal.closes_at, renewal.timezone, locale)


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


def _options(payload: dict[str, Any]) -> tuple[str, ...]:
    """The commands an ambiguous reply named (``mail_which_command``), known ones only."""
    named = payload.get("options")
    return tuple(v for v in named if v in KEYWORD_WORDS) if isinstance(named, list) else ()


def _re_subject(subject: str) -> str:
    """ "Re: <their subject>", once, so the answer lands in the same thread in every client;
    "" when theirs is unusable (``safe_subject``), so the template gives our own."""
    subject = safe_subject(subject)
    while subject[:3].lower() in ("re:", "aw:") or subject[:4].lower() == "fwd:":
        subject = subject.split(":", 1)[1].strip()
    return f"Re: {subject}" if subject else ""
