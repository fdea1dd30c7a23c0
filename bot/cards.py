"""How a booking and the personal area read in the chat, with the buttons that fit its state."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup

from booking.item_lines import item_lines
from booking.views import BookingView
from bot.buttons import Keyboard
from bot.callbacks import BookingCb, MenuCb
from bot.formatting import clip, day, money, short, status, when
from bot.i18n import _, ngettext
from bot.seat_lines import seat_lines

PAGE = 8  # bookings per page of /mybookings: one screen on a phone


def items_lines(booking: BookingView) -> list[str]:
    """'2 × Standing' and its seats, one line per row, so the customer sees what they hold."""
    lines = []
    for line in item_lines(booking.items):
        lines.append(f"{line.count} × {line.tariff}")
        lines += [f"  · {row}" for row in seat_lines(line.seats)]
    return lines


def can_ask_more_time(booking: BookingView, now: datetime) -> bool:
    """Whether "Ask for more time" can lead to a request the service takes."""
    return booking.more_time_days(now) is not None


def deadline_line(booking: BookingView, now: datetime) -> str | None:
    if booking.deadline is None or not booking.is_open:
        return None
    if booking.status == "overdue":
        if can_ask_more_time(booking, now):
            return _(
                "The deadline passed on {deadline}; the organizer will decide. You can still pay "
                "or ask for more time.",
                deadline=when(booking.deadline, booking.timezone),
            )
        return _(
            "The deadline passed on {deadline}; the organizer will decide. You can still pay.",
            deadline=when(booking.deadline, booking.timezone),
        )
    return _("Pay by: {deadline}", deadline=when(booking.deadline, booking.timezone))


def pending_line(booking: BookingView) -> str | None:
    """A request for more time is waiting: say so, since the card offers no second one."""
    if not (booking.extension_pending and booking.is_open):
        return None
    if booking.pending_until is None:
        return _("More time asked, waiting for the organizer.")
    local = booking.pending_until.astimezone(ZoneInfo(booking.timezone)).date()
    return _("More time asked until {date}, waiting for the organizer.", date=day(local))


def no_cancel_line(booking: BookingView) -> str | None:
    """Paid tickets of an event that forbids cancelling: no button, and what can be done."""
    if booking.status != "confirmed" or booking.customer_may_cancel:
        return None
    return _(
        "Paid tickets for this event cannot be cancelled. If you cannot come, your tickets "
        "stay valid for someone going in your place."
    )


def booking_text(booking: BookingView, headline: str = "", *, now: datetime) -> str:
    parts = [headline] if headline else []
    parts.append(
        _("Booking {reference} · {event}", reference=booking.reference, event=booking.title)
    )
    parts.append(when(booking.starts_at, booking.timezone))
    parts += items_lines(booking)
    if booking.booked_by:
        parts.append(_("Booked by {name}", name=booking.booked_by))
    parts.append(_("Total: {total}", total=money(booking.total_minor, booking.currency)))
    parts.append(_("Status: {status}", status=status(booking.status)))
    for line in (deadline_line(booking, now), pending_line(booking), no_cancel_line(booking)):
        if line:
            parts.append(line)
    if booking.refund_due:
        parts.append(_("A refund is due on this booking; the organizer will see to it."))
    return "\n".join(parts)


def booking_keyboard(
    booking: BookingView, *, now: datetime, back: bool = True
) -> InlineKeyboardMarkup:
    """Only the actions that can succeed at ``now``."""
    kb = Keyboard()
    ref = booking.reference
    if booking.is_open:
        total = money(booking.total_minor, booking.currency)
        kb.button(
            text=_("Pay {total}", total=total), callback_data=BookingCb(action="pay", ref=ref)
        )
        if can_ask_more_time(booking, now):
            kb.button(
                text=_("Ask for more time"), callback_data=BookingCb(action="extend", ref=ref)
            )
    elif booking.status == "confirmed":
        kb.button(text=_("Show tickets"), callback_data=BookingCb(action="tickets", ref=ref))
    if booking.customer_may_cancel:
        kb.button(text=_("Cancel booking"), callback_data=BookingCb(action="cancel", ref=ref))
    if back:
        kb.button(text=_("« My bookings"), callback_data=MenuCb(action="mybookings"))
    kb.adjust(1)
    return kb.as_markup()


def list_line(booking: BookingView) -> str:
    """Three short lines at most: what and when; places, amount, state; seats and, for an
    organization, who booked it."""
    when_ = short(booking.starts_at, booking.timezone)
    places = ngettext("{n} place", "{n} places", len(booking.items))
    facts = [places, money(booking.total_minor, booking.currency), status(booking.status)]
    if booking.is_open and booking.deadline is not None:
        facts.append(_("pay by {deadline}", deadline=short(booking.deadline, booking.timezone)))
    if booking.extension_pending and booking.is_open:
        facts.append(_("more time asked"))
    lines = [f"{booking.reference} · {booking.title} · {when_}", " · ".join(facts)]
    if seats := seat_lines(item.seat for item in booking.items if item.seat):
        lines.append("; ".join(seats))
    if booking.booked_by:
        lines.append(_("Booked by {name}", name=booking.booked_by))
    return "\n   ".join(lines)


def bookings_text(bookings: list[BookingView], page: int) -> str:
    if not bookings:
        return _(
            "You have no bookings yet. /events shows what is on; if you booked by email, at "
            "the box office or by phone, /start links those bookings to this chat."
        )
    shown = bookings[page * PAGE : (page + 1) * PAGE]
    lines = [_("Your bookings, what needs you first:")]
    lines += [f"{page * PAGE + i}. {list_line(b)}" for i, b in enumerate(shown, start=1)]
    return "\n".join(lines)


def bookings_keyboard(bookings: list[BookingView], page: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for booking in bookings[page * PAGE : (page + 1) * PAGE]:
        label = f"{booking.reference} · {clip(booking.title, 24)}"
        kb.button(text=label, callback_data=BookingCb(action="open", ref=booking.reference))
    kb.adjust(1)
    nav = Keyboard()
    if page > 0:
        nav.button(text=_("« Previous"), callback_data=MenuCb(action="mybookings", id=page - 1))
    if (page + 1) * PAGE < len(bookings):
        nav.button(text=_("Next »"), callback_data=MenuCb(action="mybookings", id=page + 1))
    kb.attach(nav)
    return kb.as_markup()
