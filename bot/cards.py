"""How a booking and the personal area read in the chat, with the buttons that fit its state."""

from __future__ import annotations

from collections import Counter

from aiogram.types import InlineKeyboardMarkup

from booking.views import BookingView
from bot.buttons import Keyboard
from bot.callbacks import BookingCb, MenuCb
from bot.formatting import clip, money, seat, short, status, when
from bot.i18n import _

PAGE = 8  # bookings per page of /mybookings: one screen on a phone


def items_lines(booking: BookingView) -> list[str]:
    """'2 × Standing' and one line per seat, so the customer sees exactly what they hold."""
    counts = Counter(item.tariff_name for item in booking.items)
    lines = [f"{n} × {name}" for name, n in counts.items()]
    lines += [f"  · {seat(item.seat)}" for item in booking.items if item.seat]
    return lines


def deadline_line(booking: BookingView) -> str | None:
    if booking.deadline is None or not booking.is_open:
        return None
    if booking.status == "overdue":
        return _(
            "The deadline passed on {deadline}; the organizer will decide. You can still pay "
            "or ask for more time.",
            deadline=when(booking.deadline, booking.timezone),
        )
    return _("Pay by: {deadline}", deadline=when(booking.deadline, booking.timezone))


def booking_text(booking: BookingView, headline: str = "") -> str:
    parts = [headline] if headline else []
    parts.append(
        _("Booking {reference} · {event}", reference=booking.reference, event=booking.event_title)
    )
    parts.append(when(booking.starts_at, booking.timezone))
    parts += items_lines(booking)
    parts.append(_("Total: {total}", total=money(booking.total_minor, booking.currency)))
    parts.append(_("Status: {status}", status=status(booking.status)))
    if line := deadline_line(booking):
        parts.append(line)
    if booking.refund_due:
        parts.append(_("A refund is due on this booking; the organizer will see to it."))
    return "\n".join(parts)


def booking_keyboard(booking: BookingView, *, back: bool = True) -> InlineKeyboardMarkup:
    kb = Keyboard()
    ref = booking.reference
    if booking.is_open:
        total = money(booking.total_minor, booking.currency)
        kb.button(
            text=_("Pay {total}", total=total), callback_data=BookingCb(action="pay", ref=ref)
        )
        if not booking.checkout:
            kb.button(
                text=_("Ask for more time"), callback_data=BookingCb(action="extend", ref=ref)
            )
        kb.button(text=_("Cancel booking"), callback_data=BookingCb(action="cancel", ref=ref))
    elif booking.status == "confirmed":
        kb.button(text=_("Show tickets"), callback_data=BookingCb(action="tickets", ref=ref))
        kb.button(text=_("Cancel booking"), callback_data=BookingCb(action="cancel", ref=ref))
    if back:
        kb.button(text=_("« My bookings"), callback_data=MenuCb(action="mybookings"))
    kb.adjust(1)
    return kb.as_markup()


def list_line(booking: BookingView) -> str:
    when_ = short(booking.starts_at, booking.timezone)
    line = f"{booking.reference} · {booking.event_title} · {when_} · {status(booking.status)}"
    if booking.is_open and booking.deadline is not None:
        line += " · " + _("pay by {deadline}", deadline=short(booking.deadline, booking.timezone))
    return line


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
        label = f"{booking.reference} · {clip(booking.event_title, 24)}"
        kb.button(text=label, callback_data=BookingCb(action="open", ref=booking.reference))
    kb.adjust(1)
    nav = Keyboard()
    if page > 0:
        nav.button(text=_("« Previous"), callback_data=MenuCb(action="mybookings", id=page - 1))
    if (page + 1) * PAGE < len(bookings):
        nav.button(text=_("Next »"), callback_data=MenuCb(action="mybookings", id=page + 1))
    kb.attach(nav)
    return kb.as_markup()
