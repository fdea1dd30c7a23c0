"""The screens of /passes: the customer's passes, the card's caption, the products on sale,
each step of a purchase and of adding a date. Texts and buttons only; bot.routers.passes reads
the core and decides which screen to show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup

from booking.queries.pass_products import PassProductRow
from booking.queries.passes import IncludedDate, PassDetail, SeatChoice
from booking.rules.pass_products import PassProductSettings
from bot.buttons import Keyboard
from bot.callbacks import BookingCb
from bot.formatting import clip, money, seat, short, status, when
from bot.i18n import N_, _, ngettext
from bot.pass_callbacks import PassCb
from bot.prompts import controls
from bot.wizard import Screen

BACK = PassCb(action="back")
SEATS_PER_ROW = 6
DATES_SHOWN = 40  # buttons of one screen; a season with more dates shows its first ones
# What each holder field asks, in the update's language (marked here, translated when shown).
QUESTIONS = {
    "title": N_("Which title goes on the pass (for example Ms, Mr, Dr)?"),
    "first_name": N_("The holder's first name?"),
    "last_name": N_("The holder's last name?"),
    "company": N_("The holder's company?"),
    "email": N_("The holder's email address?"),
    "address": N_("The holder's address (street and number, town)?"),
    "postcode": N_("The holder's postcode?"),
    "mobile": N_("The holder's mobile number (for example +41 79 123 45 67)?"),
    "birth_date": N_("The holder's birth date, as YYYY-MM-DD (for example 1990-04-27)?"),
    "photo": N_(
        "A photo of the holder for the card: send it as a photo, or as an image file of at "
        "most 5 MB."
    ),
}


def _zone(found: PassDetail, fallback: str) -> str:
    return found.dates[0].timezone if found.dates else fallback


def status_line(found: PassDetail, timezone: str) -> str:
    """Paid, or held with its deadline, or what it became (cancelled, expired)."""
    if found.status in ("held", "overdue") and found.deadline is not None:
        return _(
            "Held, not paid yet: pay by {deadline}",
            deadline=when(found.deadline, _zone(found, timezone)),
        )
    return _("Status: {status}", status=status(found.status))


def pass_lines(found: PassDetail, timezone: str) -> list[str]:
    """One pass as the list and the card show it: product, season, status, seat, code, credit,
    the choices left of a pass with choice."""
    lines = [
        f"{found.product.row.settings.name} · {found.season_name}",
        status_line(found, timezone),
        _("Holder: {name}", name=found.holder_name),
    ]
    if found.seat is not None:
        lines.append(_("Seat: {seat}", seat=seat(found.seat)))
    lines.append(_("Pass code: {code}", code=found.code))
    lines.append(_("Credit: {amount}", amount=money(found.credit_minor, found.currency)))
    if found.choices_left is not None:
        lines.append(
            ngettext("{n} date left to pick", "{n} dates left to pick", found.choices_left)
        )
    dates = ngettext("{n} date included", "{n} dates included", len(found.dates))
    lines.append(dates)
    return lines


def usable(found: PassDetail) -> bool:
    """A pass whose card and dates still mean something: held or paid."""
    return found.status in ("held", "overdue", "confirmed")


def can_add(found: PassDetail) -> bool:
    return usable(found) and bool(found.choices_left)


def passes_screen(found: Sequence[PassDetail], timezone: str, *, notice: str = "") -> Screen:
    kb = Keyboard()
    if not found:
        lines = [_("You have no season pass yet.")]
    else:
        lines = [_("Your season passes:")]
        for one in found:
            lines += ["", *pass_lines(one, timezone)]
            _pass_buttons(kb, one)
    kb.button(text=_("Buy a pass"), callback_data=PassCb(action="shop"))
    kb.button(text=_("Add a date with a pass code"), callback_data=PassCb(action="code"))
    kb.adjust(1)
    return Screen("\n".join(lines), kb.as_markup()).above(notice)


def _pass_buttons(kb: Keyboard, one: PassDetail) -> None:
    if not usable(one):
        return
    kb.button(
        text=_("Show card {code}", code=one.code), callback_data=PassCb(action="card", id=one.id)
    )
    if one.status in ("held", "overdue"):
        kb.button(
            text=_(
                "Pay {code} · {total}", code=one.code, total=money(one.total_minor, one.currency)
            ),
            callback_data=BookingCb(action="pay", ref=one.reference),
        )
    if can_add(one):
        kb.button(
            text=_("Add a date to {code}", code=one.code),
            callback_data=PassCb(action="add", id=one.id),
        )


def card_caption(found: PassDetail, timezone: str) -> str:
    lines = [*pass_lines(found, timezone), _("Show this code at the entrance of every date.")]
    return "\n".join(lines)[:1024]  # Telegram's caption limit


def to_passes() -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("« My passes"), callback_data=PassCb(action="list"))
    return kb.as_markup()


# -- buying ------------------------------------------------------------------------------------


def products_screen(found: Sequence[PassProductRow]) -> Screen:
    kb = Keyboard()
    for row in found:
        settings = row.settings
        label = f"{clip(settings.name, 30)} · {money(settings.price_minor, settings.currency)}"
        kb.button(text=label, callback_data=PassCb(action="product", id=row.id))
    kb.button(text=_("« My passes"), callback_data=PassCb(action="list"))
    kb.adjust(1)
    if not found:
        return Screen(_("No season pass is on sale here right now."), kb.as_markup())
    lines = [_("Season passes on sale:")]
    lines += [product_line(row) for row in found]
    lines.append(_("Choose a pass:"))
    return Screen("\n".join(lines), kb.as_markup())


def product_line(row: PassProductRow) -> str:
    settings = row.settings
    what = (
        ngettext("{n} date of your choice", "{n} dates of your choice", settings.choice_count or 0)
        if settings.includes == "choice"
        else ngettext("{n} date", "{n} dates", row.performances)
    )
    price = money(settings.price_minor, settings.currency)
    return f"{settings.name} · {row.season_name} · {row.area_name} · {what} · {price}"


def head(row: PassProductRow) -> str:
    return f"{row.settings.name} · {row.season_name}"


def step_line(at: int, total: int) -> str:
    return _("Step {n} of {total}", n=at + 1, total=total)


def seat_screen(row: PassProductRow, free: int) -> Screen:
    kb = Keyboard()
    kb.button(text=_("Best available"), callback_data=PassCb(action="best"))
    kb.button(text=_("Choose my seat"), callback_data=PassCb(action="pick"))
    kb.adjust(1)
    lines = [
        head(row),
        ngettext(
            "{n} seat is free at every date of this pass.",
            "{n} seats are free at every date of this pass.",
            free,
        ),
        _("The same seat is yours at every date. Take the best one available, or choose it:"),
    ]
    return Screen("\n".join(lines), controls(BACK, extra=kb))


def sections_screen(names: Sequence[str]) -> Screen:
    kb = Keyboard()
    for i, name in enumerate(names):
        kb.button(text=clip(name, 40), callback_data=PassCb(action="section", id=i))
    kb.adjust(2)
    return Screen(_("Choose a section:"), controls(PassCb(action="seatback"), extra=kb))


def rows_screen(section: str, rows: Sequence[str], *, one_section: bool) -> Screen:
    """A section's rows; "« Back" to the sections, or to the seat question when the area has
    only this section."""
    kb = Keyboard()
    for i, name in enumerate(rows):
        kb.button(text=_("Row {row}", row=name), callback_data=PassCb(action="row", id=i))
    kb.adjust(4)
    text = _("{section}: choose a row.", section=section)
    back = PassCb(action="seatback" if one_section else "pick")
    return Screen(text, controls(back, extra=kb))


def seats_screen(section: str, row: str, seats: Sequence[SeatChoice]) -> Screen:
    kb = Keyboard()
    for one in seats:
        kb.button(text=str(one.place.number), callback_data=PassCb(action="seat", id=one.id))
    kb.adjust(SEATS_PER_ROW)
    text = _(
        "{section}, row {row}: tap your seat (these are free at every date).",
        section=section,
        row=row,
    )
    return Screen(text, controls(PassCb(action="rowsback"), extra=kb))


def dates_screen(
    row: PassProductRow, dates: Sequence[IncludedDate], picks: Sequence[int]
) -> Screen:
    most = row.settings.choice_count or 0
    kb = Keyboard()
    for one in dates[:DATES_SHOWN]:
        mark = "✓ " if one.performance_id in picks else ""
        label = f"{mark}{clip(one.event_title, 24)} · {short(one.starts_at, one.timezone)}"
        kb.button(text=label, callback_data=PassCb(action="toggle", id=one.performance_id))
    kb.adjust(1)
    if picks:
        done = Keyboard()
        done.button(text=_("Done"), callback_data=PassCb(action="picked"))
        kb.attach(done)
    lines = [
        head(row),
        ngettext(
            "Pick up to {n} date (at least one): tap to add or remove.",
            "Pick up to {n} dates (at least one): tap to add or remove.",
            most,
        ),
        ngettext("{n} picked.", "{n} picked.", len(picks)),
    ]
    return Screen("\n".join(lines), controls(BACK, extra=kb))


def field_screen(
    settings: PassProductSettings, name: str, at: int, total: int, *, notice: str = ""
) -> Screen:
    """The question of one holder field, with Skip when it is optional."""
    if name == "free":
        question = _("{label}?", label=settings.free_field_label)
    else:
        question = _(QUESTIONS[name])
    lines = [step_line(at, total), question]
    kb = Keyboard()
    if settings.mode(name) == "optional":
        lines.append(_("(Optional: press “Skip” to leave it out.)"))
        kb.button(text=_("Skip"), callback_data=PassCb(action="skip"))
    return Screen("\n".join(lines), controls(BACK, extra=kb)).above(notice)


def summary_screen(
    row: PassProductRow,
    *,
    seat_label: str,
    dates: Sequence[IncludedDate],
    answers: Mapping[str, str],
    photo: bool,
    draft: int,
    can_pay: bool,
    labels: Mapping[str, str],
) -> Screen:
    settings = row.settings
    total = money(settings.price_minor, settings.currency)
    lines = [head(row), _("Price: {total}", total=total)]
    if seat_label:
        lines.append(_("Seat: {seat}", seat=seat_label))
    if settings.includes == "choice":
        lines.append(_("Your dates:"))
    else:
        lines.append(ngettext("{n} date included:", "{n} dates included:", len(dates)))
    lines += [f"  · {d.event_title} · {short(d.starts_at, d.timezone)}" for d in dates]
    for name, value in answers.items():
        lines.append(_("{label}: {value}", label=labels.get(name, name), value=value))
    if photo:
        lines.append(_("Photo: received"))
    lines.append(
        _("Hold it and pay later (the deadline is shown once it is held), or pay now.")
        if can_pay
        else _("Hold it and pay at the box office before the deadline shown once it is held.")
    )
    kb = Keyboard()
    kb.button(text=_("Hold, pay later"), callback_data=PassCb(action="hold", id=draft))
    if can_pay:
        kb.button(
            text=_("Pay now {total}", total=total), callback_data=PassCb(action="buy", id=draft)
        )
    kb.adjust(1)
    return Screen("\n".join(lines), controls(BACK, extra=kb))


def held_text(code: str, deadline: datetime | None, timezone: str) -> str:
    if deadline is None:
        return _("Pass {code} is held for you.", code=code)
    return _(
        "Pass {code} is held for you until {deadline}. Pay before then to keep it.",
        code=code,
        deadline=when(deadline, timezone),
    )


def held_keyboard(reference: str, total: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(
        text=_("Pay {total}", total=total), callback_data=BookingCb(action="pay", ref=reference)
    )
    kb.button(text=_("« My passes"), callback_data=PassCb(action="list"))
    kb.adjust(1)
    return kb.as_markup()


# -- adding a date -----------------------------------------------------------------------------


def code_screen(*, notice: str = "") -> Screen:
    text = _("Type the pass code printed on the pass (for example K7M-4QX):")
    return Screen(text, controls(PassCb(action="list"))).above(notice)


def add_dates_screen(found: PassDetail, dates: Sequence[IncludedDate]) -> Screen:
    kb = Keyboard()
    for one in dates[:DATES_SHOWN]:
        label = f"{clip(one.event_title, 24)} · {short(one.starts_at, one.timezone)}"
        kb.button(text=label, callback_data=PassCb(action="date", id=one.performance_id))
    kb.adjust(1)
    left = ngettext("{n} date left to pick", "{n} dates left to pick", found.choices_left or 0)
    lines = [f"{found.product.row.settings.name} · {found.code}", left]
    lines.append(_("Choose the date to add:") if dates else _("No date can be added right now."))
    return Screen("\n".join(lines), controls(PassCb(action="list"), extra=kb))


def added_text(code: str, title: str, at: datetime, timezone: str, left: int) -> str:
    lines = [
        _(
            "{event} · {date} is added to pass {code}.",
            event=title,
            date=when(at, timezone),
            code=code,
        ),
        ngettext("{n} date left to pick.", "{n} dates left to pick.", left),
    ]
    return "\n".join(lines)


def after_add(pass_id: int, *, more: bool) -> InlineKeyboardMarkup:
    kb = Keyboard()
    if more:
        kb.button(text=_("Add another date"), callback_data=PassCb(action="add", id=pass_id))
    kb.button(text=_("« My passes"), callback_data=PassCb(action="list"))
    kb.adjust(1)
    return kb.as_markup()
