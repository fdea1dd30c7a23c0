"""The screens of the /events wizard: text and buttons of each step, from the catalogue.

Each function reads through ``bot.listings`` (the catalogue) or ``seating`` and returns a
``Screen``; the routers decide which one to show and save the step first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from booking.context import Context
from booking.services import seating
from booking.services.catalog import Offer, PerformanceView
from booking.services.seating import SeatOption
from bot import keyboards
from bot.formatting import money, short, when
from bot.i18n import _
from bot.listings import Listings


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None

    def above(self, notice: str) -> Screen:
        """The same screen with a notice (a refusal, "this has changed") on top."""
        return Screen(f"{notice}\n\n{self.text}", self.markup) if notice else self


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
    found = await listings.performances(event_id)
    if not found:
        return Screen(_("This event has no date on sale any more. /events shows what is on."))
    lines = [found[0].event_title]
    sold_out = [p for p in found if p.remaining <= 0]
    lines += [_("{date} — sold out", date=short(p.starts_at, p.timezone)) for p in sold_out]
    lines.append(
        _("Choose a date:") if len(sold_out) < len(found) else _("Every date is sold out.")
    )
    return Screen("\n".join(lines), keyboards.dates(found, back=back))


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
    elif offer.can_hold and offer.deadline is not None:
        terms = _("hold until {deadline}", deadline=short(offer.deadline, timezone))
    else:
        terms = _("pay now only (within {minutes} minutes)", minutes=checkout_minutes)
    return f"{offer.name} · {offer.area_name} · {price} — {terms}"


async def tariffs_screen(listings: Listings, perf: PerformanceView, customer_type: str) -> Screen:
    found = await offers(listings, perf.id, customer_type)
    head = f"{perf.event_title} · {when(perf.starts_at, perf.timezone)}"
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


def quantity_screen(offer: Offer, performance_id: int) -> Screen:
    price = money(offer.price_minor, offer.currency)
    text = _("{tariff} · {price}\nHow many places?", tariff=offer.name, price=price)
    if offer.seated:
        text += "\n" + _("Pick a number for the best seats side by side, or choose your seats.")
    markup = keyboards.quantities(
        offer.remaining, seated=offer.seated, performance_id=performance_id
    )
    return Screen(text, markup)


def seat_label(seat: SeatOption) -> str:
    return _(
        "{section}, row {row}, seat {number}",
        section=seat.section,
        row=seat.row,
        number=seat.number,
    )


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
        f"{perf.event_title} · {when(perf.starts_at, perf.timezone)}",
        f"{count} × {offer.name} ({offer.area_name})",
        *(f"  · {seat_label(s)}" for s in chosen),
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
