"""Words for the codes the core stores (statuses, roles, history actions…), in one place so
that the French catalogue can be checked for every one of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from booking.services.catalog_admin import EventSettings, TariffSettings
from console.web.render import plural, translator


def N_(message: str) -> str:
    """Marks a message for the French catalogue; it is translated where it is shown."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "status": {
        "held": N_("Held"),
        "overdue": N_("Overdue"),
        "confirmed": N_("Paid"),
        "cancelled": N_("Cancelled"),
        "expired": N_("Expired"),
        "pending": N_("Pending"),
        "approved": N_("Approved"),
        "denied": N_("Denied"),
        "sent": N_("Sent"),
        "dead": N_("Dead"),
        "skipped": N_("Skipped"),
        "discarded": N_("Discarded"),
    },
    "role": {
        "admin": N_("Administrator"),
        "organizer": N_("Organizer"),
        "box_office": N_("Box office"),
        "door": N_("Door staff"),  # signs in for the door page only (issue 12)
    },
    "channel": {
        "telegram": N_("Telegram"),
        "email": N_("Email"),
        "console": N_("Console"),
        "import": N_("Import"),
        "system": N_("System"),
    },
    "customer_type": {
        "individual": N_("Individual"),
        "group": N_("Group"),
        "b2b": N_("Business (B2B)"),
    },
    "policy": {"firm": N_("Firm"), "flexible": N_("Flexible"), "": N_("As the event")},
    "method": {
        "cash": N_("Cash"),
        "card": N_("Card"),
        "transfer": N_("Bank transfer"),
        "online": N_("Online"),
    },
    "outcome": {
        "confirmed": N_("Confirmed"),
        "reinstated": N_("Re-instated"),
        "refund_due": N_("Refund due"),
    },
    "reason": {
        "cannot_attend": N_("Cannot attend"),
        "illness": N_("Illness"),
        "mistake": N_("Booked by mistake"),
        "price": N_("Price"),
        "other": N_("Other"),
    },
    "action": {
        "held": N_("Held"),
        "bought": N_("Checkout started"),
        "confirmed": N_("Paid"),
        "overdue": N_("Deadline passed, waiting for a decision"),
        "expired": N_("Released"),
        "cancelled": N_("Cancelled"),
        "payment_confirmed": N_("Payment received"),
        "payment_reinstated": N_("Payment received, booking re-instated"),
        "payment_refund_due": N_("Payment received, refund due"),
        "deadline_extended": N_("Deadline extended"),
        "extension_requested": N_("More time asked for"),
        "extension_approved": N_("More time granted"),
        "extension_denied": N_("More time refused"),
        "resent": N_("Sent again"),
        "refunded": N_("Refund paid back"),
        "notice_retried": N_("Notice queued again"),
        "notice_discarded": N_("Notice discarded"),
        "pass_date_added": N_("Date added to the pass"),
        "pass_dates_added": N_("New dates added to the pass"),
    },
    "kind": {
        "booking_held": N_("Booking held"),
        "reminder": N_("Reminder"),
        "booking_expired": N_("Expired"),
        "booking_overdue": N_("Deadline passed"),
        "booking_released": N_("Released"),
        "booking_cancelled": N_("Cancelled"),
        "payment_confirmed": N_("Paid, tickets"),
        "payment_refund_due": N_("Refund due"),
        "extension_approved": N_("More time granted"),
        "extension_denied": N_("More time refused"),
        "deadline_extended": N_("Deadline moved"),
        "link_code": N_("Link code"),
        "holder_code": N_("Holder page code"),
        "renewal_invited": N_("Pass renewal invitation"),
        "renewal_reminder": N_("Pass renewal reminder"),
        "renewal_released": N_("Pass renewal closed, seat released"),
        "resale_closed": N_("Resale closed, not sold"),
    },
    "detail": {
        "until": N_("until"),
        "deadline": N_("deadline"),
        "reason": N_("reason"),
        "note": N_("note"),
        "message": N_("message"),
        "method": N_("method"),
        "amount": N_("amount"),
        "provider": N_("provider"),
        "places": N_("places"),
        "what": N_("what"),
        "channels": N_("channels"),
        "notice": N_("notice"),
    },
}


def labeller(gettext: Callable[[str], str]) -> Callable[[str, str | None], str]:
    """``label("status", "held")`` -> "Held" in the staff member's language; unknown codes
    are shown as they are rather than hidden."""

    def label(kind: str, value: str | None) -> str:
        text = LABELS.get(kind, {}).get(value or "")
        return gettext(text) if text else (value or "")

    return label


# -- a tariff's line: its channels and its deadline rule, in words -----------------------------

NO_CHANNEL = N_("no channel")
HELD_AND_BOUGHT = N_("held through {hold} · bought through {buy}")
SAME_DAY = N_("pay on the day of booking")
BY_THE_START = N_("pay by the start of the date")
AT_THE_START = N_("at the latest by the start")
THE_EVENTS_RULE = N_("{rule} (the event's rule)")


def channel_words(gettext: Callable[[str], str], hold: Sequence[str], buy: Sequence[str]) -> str:
    """The channels in words ("Telegram, Email, Console"); "held through … · bought through …"
    when the two lists differ."""
    label = labeller(gettext)

    def listed(channels: Sequence[str]) -> str:
        return ", ".join(label("channel", c) for c in channels) or gettext(NO_CHANNEL)

    if list(hold) == list(buy):
        return listed(hold)
    return gettext(HELD_AND_BOUGHT).format(hold=listed(hold), buy=listed(buy))


def rule_words(locale: str, after: int | None, before: int | None) -> str:
    """The deadline rule as compute_deadline applies it: the earlier of N days after booking
    and M days before the date, never after the start."""
    gettext = translator(locale)
    if before is None:
        if after is None:
            return gettext(BY_THE_START)
        return _within(locale, after)
    if after is None:
        if before == 0:
            return gettext(BY_THE_START)
        return plural(
            locale,
            "pay at the latest {n} day before the date",
            "pay at the latest {n} days before the date",
            before,
        )
    latest = (
        gettext(AT_THE_START)
        if before == 0
        else plural(
            locale,
            "at the latest {n} day before the date",
            "at the latest {n} days before the date",
            before,
        )
    )
    return f"{_within(locale, after)}, {latest}"


def _within(locale: str, after: int) -> str:
    if after == 0:
        return translator(locale)(SAME_DAY)
    return plural(locale, "pay within {n} day", "pay within {n} days", after)


def tariff_words(locale: str, tariff: TariffSettings, event: EventSettings) -> str:
    """A tariff's line: "Telegram, Email · pay within 7 days, at the latest 2 days before the
    date", with the tariff's own rule, else the event's (and it says so)."""
    gettext = translator(locale)
    channels = channel_words(gettext, tariff.hold_channels, tariff.buy_channels)
    if tariff.days_after_booking is not None or tariff.days_before_event is not None:
        rule = rule_words(locale, tariff.days_after_booking, tariff.days_before_event)
    else:
        rule = gettext(THE_EVENTS_RULE).format(
            rule=rule_words(locale, event.days_after_booking, event.days_before_event)
        )
    return f"{channels} · {rule}"
