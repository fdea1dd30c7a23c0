"""The screens of the /events wizard: text and buttons of each step, from the catalogue.

Each function reads through ``bot.listings`` (the catalogue) or ``seating`` and returns a
``Screen``; the routers decide which one to show and save the step first. ``present`` shows a
screen in place of the message whose button was pressed, the event card's picture included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from booking.context import Context
from booking.services import seating
from booking.services.catalog import Offer, PerformanceView
from booking.services.seating import SeatOption
from bot import keyboards
from bot.availability import left_note, quantities
from bot.callbacks import WizardCb
from bot.common import show
from bot.formatting import clip, money, short, when
from bot.i18n import _, ngettext
from bot.listings import Listings
from bot.prompts import controls
from bot.seat_lines import seat_lines

log = logging.getLogger(__name__)
CAPTION_MAX = 1024  # Telegram's limit for the text under a photo


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str = ""  # a picture URL shown above the text (the event card), "" for none

    def above(self, notice: str) -> Screen:
        """The same screen with a notice (a refusal, "this has changed") on top."""
        return replace(self, text=f"{notice}\n\n{self.text}") if notice else self


async def present(target: Message | CallbackQuery, screen: Screen) -> None:
    """Show ``screen`` as the one message of this step.

    A text message cannot become a photo, and a photo's text (its caption) is not a message
    text (editMessageText refuses it): whenever the kind changes, the new screen is sent and
    the pressed message deleted, so the chat keeps one live wizard message with working
    buttons. Between two text screens, the message is edited as everywhere else.
    """
    message = target.message if isinstance(target, CallbackQuery) else None
    pressed_photo = isinstance(message, Message) and bool(message.photo)
    if not screen.photo and not pressed_photo:
        await show(target, screen.text, screen.markup)
        return
    chat = target.chat.id if isinstance(target, Message) else target.from_user.id
    bot = target.bot
    assert bot is not None
    if screen.photo:
        await bot.send_photo(chat, screen.photo, caption=screen.text, reply_markup=screen.markup)
    else:
        await bot.send_message(chat, screen.text, reply_markup=screen.markup)
    if isinstance(message, Message):
        try:
            await message.delete()
        except TelegramBadRequest as exc:  # too old to delete (48 hours): it just stays
            log.info("could not delete message %s (%s)", message.message_id, exc)


async def events_screen(listings: Listings, offset: int) -> tuple[Screen, int | None]:
    """The list of upcoming events; with exactly one event, its dates (and its id)."""
    found = await listings.upcoming_events(offset, keyboards.EVENTS_PAGE + 1)
    if not found:
        return Screen(_("Nothing is on sale right now. Please come back soon!")), None
    if offset == 0 and len(found) == 1:
        return await dates_screen(listings, found[0].id, back=False), found[0].id
    more = len(found) > keyboards.EVENTS_PAGE
    shown = found[: keyboards.EVENTS_PAGE]
    return Screen(_("What is on — choose an event:"), keyboards.events(shown, offset, more)), None


async def dates_screen(listings: Listings, event_id: int, *, back: bool = True) -> Screen:
    """The event card: title, venue, description (and picture), then its dates as buttons,
    sold-out ones marked."""
    found = await listings.performances(event_id)
    if not found:
        return Screen(_("This event has no date on sale any more. /events shows what is on."))
    first = found[0]
    venue = " · ".join(part for part in (first.venue_name, first.venue_address) if part)
    head = [line for line in (first.event_title, venue) if line]
    if any(p.remaining > 0 for p in found):
        ask = _("Choose a date:")
    else:
        ask = _("Every date is sold out.")
    description = first.description.strip()
    if first.picture_url:  # the caption has a hard limit: the description gives way
        room = CAPTION_MAX - len("\n".join([*head, ask])) - 4
        description = clip(description, room) if room > 1 else ""
    lines = [*head, *([description, ""] if description else []), ask]
    return Screen("\n".join(lines), keyboards.dates(found, back=back), first.picture_url)


async def performance(
    listings: Listings, event_id: int, performance_id: int
) -> PerformanceView | None:
    found = await listings.performances(event_id)
    return next((p for p in found if p.id == performance_id), None)


async def offers(listings: Listings, performance_id: int, customer_type: str) -> list[Offer]:
    return await listings.offers(performance_id, customer_type)


def offer_line(offer: Offer, timezone: str, checkout_minutes: int) -> str:
    price = money(offer.price_minor, offer.currency)
    if offer.remaining <= 0:
        terms = _("sold out")
    elif not quantities(offer):
        terms = _("too few places left for its minimum of {min}", min=offer.min_quantity)
    elif offer.can_hold and offer.deadline is not None:
        terms = _("hold until {deadline}", deadline=short(offer.deadline, timezone))
    else:
        terms = _("pay now only (within {minutes} minutes)", minutes=checkout_minutes)
    line = f"{offer.name} · {offer.area_name} · {price} — {terms}"
    left = left_note(offer.remaining, offer.show_remaining_below)
    return f"{line} · {left}" if left and quantities(offer) else line


def heading(perf: PerformanceView) -> str:
    return f"{perf.event_title} · {when(perf.starts_at, perf.timezone)}"


async def tariffs_screen(listings: Listings, perf: PerformanceView, customer_type: str) -> Screen:
    found = await offers(listings, perf.id, customer_type)
    head = heading(perf)
    if not found:
        return Screen(
            head + "\n" + _("No tickets can be booked here for this date."),
            keyboards.tariffs([], perf.event_id),
        )
    minutes = listings.ctx.settings.checkout_minutes
    lines = [
        head,
        *(offer_line(o, perf.timezone, minutes) for o in found),
        _("Choose your tickets:"),
    ]
    return Screen("\n".join(lines), keyboards.tariffs(found, perf.event_id))


def minimum_note(offer: Offer) -> str:
    return ngettext(
        "This ticket type is booked from {n} place.",
        "This ticket type is booked from {n} places.",
        offer.min_quantity,
    )


def too_many(offer: Offer) -> str:
    """Why no more places can be added: what is left, or the maximum per booking."""
    if offer.remaining < offer.max_quantity:
        return ngettext("Only {n} place is left.", "Only {n} places are left.", offer.remaining)
    return ngettext(
        "At most {n} place can be booked at once.",
        "At most {n} places can be booked at once.",
        offer.max_quantity,
    )


def _offer_head(offer: Offer, perf: PerformanceView) -> list[str]:
    """The event and date, the ticket type and what limits how many: the lines above every
    question about a number of places."""
    lines = [heading(perf), f"{offer.name} · {money(offer.price_minor, offer.currency)}"]
    if left := left_note(offer.remaining, offer.show_remaining_below):
        lines.append(left)
    if offer.min_quantity > 1:
        lines.append(minimum_note(offer))
    return lines


def quantity_screen(offer: Offer, perf: PerformanceView) -> Screen:
    lines = [*_offer_head(offer, perf), _("How many places?")]
    if offer.seated:
        lines.append(_("Pick a number for the best seats side by side, or choose your seats."))
    return Screen("\n".join(lines), keyboards.quantity_choices(offer, perf.id))


def typed_quantity_screen(offer: Offer, perf: PerformanceView) -> Screen:
    """ "Other number…": the question, with Back (to the number buttons) and Cancel."""
    lines = [*_offer_head(offer, perf), quantity_hint(quantities(offer))]
    return Screen("\n".join(lines), typed_quantity_controls(offer))


def typed_quantity_controls(offer: Offer) -> InlineKeyboardMarkup:
    return controls(WizardCb(action="tariff", id=offer.tariff_id))


def quantity_hint(possible: range) -> str:
    if len(possible) == 1:
        return _("Please type {n}: it is the only number possible now.", n=possible.start)
    return _(
        "Please type a number of places from {min} to {max}.",
        min=possible.start,
        max=possible.stop - 1,
    )


def typed_quantity(text: str, offer: Offer) -> int | str:
    """The typed number when it can be held now, else what is wrong with it (and what to
    type instead), checked here rather than by a refusal after the summary."""
    possible = quantities(offer)
    typed = text.strip()
    if not (typed.isdigit() and len(typed) <= 6):
        return quantity_hint(possible)
    number = int(typed)
    if number in possible:
        return number
    why = minimum_note(offer) if number < offer.min_quantity else too_many(offer)
    return f"{why} {quantity_hint(possible)}"


def summary_screen(
    offer: Offer,
    perf: PerformanceView,
    data: dict[str, Any],
    chosen: list[SeatOption],
    *,
    can_pay: bool,
    checkout_minutes: int,
) -> Screen:
    count = len(chosen) or int(data.get("qty", 0))
    total = money(offer.price_minor * count, offer.currency)
    lines = [
        heading(perf),
        f"{count} × {offer.name} ({offer.area_name})",
        *(f"  · {line}" for line in seat_lines(chosen)),
        _("Total: {total}", total=total),
    ]
    if offer.can_hold and offer.deadline is not None:
        lines.append(
            _(
                "You can hold these places until {deadline} and pay later.",
                deadline=when(offer.deadline, perf.timezone),
            )
        )
    elif offer.can_buy and can_pay:
        lines.append(
            _(
                "These tickets can only be bought now: the places are kept {minutes} "
                "minutes while you pay.",
                minutes=checkout_minutes,
            )
        )
    else:
        lines.append(
            _(
                "These tickets cannot be held any more and online payment is not "
                "available here; the box office can still sell them."
            )
        )
    markup = keyboards.summary(offer, int(data["draft"]), total, perf.timezone, can_pay=can_pay)
    return Screen("\n".join(lines), markup)


async def seat_map(ctx: Context, data: dict[str, Any]) -> list[SeatOption]:
    return await seating.seat_map(
        ctx, performance_id=int(data["performance"]), tariff_id=int(data["tariff"])
    )


def sections_of(seats: list[SeatOption]) -> list[str]:
    return list(dict.fromkeys(s.section for s in seats))


def rows_of(seats: list[SeatOption], section: str) -> list[str]:
    return list(dict.fromkeys(s.row for s in seats if s.section == section))


def chosen_seats(seats: list[SeatOption], data: dict[str, Any]) -> list[SeatOption]:
    wanted = {int(i) for i in data.get("seats", [])}
    return [s for s in seats if s.id in wanted]
