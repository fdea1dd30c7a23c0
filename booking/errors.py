"""Stable error codes. Each channel renders them in the user's language (see ``booking.i18n``)."""

from __future__ import annotations

from typing import Any

# code -> English template; the gettext catalogue translates the same msgids.
MESSAGES: dict[str, str] = {
    "sold_out": "Sorry, there are not enough places left for this date.",
    "seat_taken": "Sorry, seat {seat} has just been taken.",
    "deadline_passed": "The payment deadline has passed.",
    "buy_only": "This ticket can no longer be held; it can only be bought now.",
    "not_eligible_channel": "This ticket type cannot be {mode} through this channel.",
    "not_eligible_customer": "This ticket type is not available for your customer type.",
    "not_owner": "This booking does not belong to you.",
    "unknown_booking": "There is no booking {reference}.",
    "unknown_performance": "This date does not exist or is no longer on sale.",
    "unknown_tariff": "This ticket type does not exist for this date.",
    "unknown_customer": "Customer not found.",
    "already_paid": "Booking {reference} is already paid.",
    "not_held": "Booking {reference} is {status} and cannot be changed this way.",
    "cancellation_not_allowed": (
        "Paid tickets for this event cannot be cancelled; if you cannot come, they stay valid "
        "for someone going in your place."
    ),
    "reason_required": "Please give a reason.",
    "bad_reason": "Unknown cancellation reason.",
    "bad_quantity": "Please choose between {min} and {max} places.",
    "bad_seats": "Those seats cannot be booked together for this ticket type.",
    "date_in_past": "That date has already passed.",
    "date_after_performance": "That date is after the performance.",
    "date_not_later": "That date is not later than your current deadline.",
    "extension_pending": "A request for more time is already waiting for the organizer.",
    "unknown_extension": "This request does not exist or was already decided.",
    "performance_started": "This performance has already started.",
    "invalid_email": "Please give a valid email address.",
    "email_taken": "This email address belongs to another customer.",
    "telegram_taken": "This Telegram account is already linked to another customer.",
    "amount_mismatch": "The amount does not match the booking total.",
    "bad_value": "Invalid value for {field}.",
    "weak_password": "The password must have at least {min} characters.",
    "link_invalid": "This link is not valid or has expired; ask for a new booking email.",
    "link_code_invalid": "That code is not right or has expired; ask for a new one.",
    "too_many_codes": "Too many codes were asked for; please wait an hour and try again.",
    # Organizer console (French in locales/fr/LC_MESSAGES/console.po).
    "name_taken": "This name is already used.",
    "changed_meanwhile": (
        "Someone changed this meanwhile, so nothing was saved. Check the current values and "
        "try again."
    ),
    "last_admin": "At least one active administrator must remain.",
    "too_many_logins": "Too many failed sign-ins. Please wait {minutes} minutes and try again.",
    "bad_seat_file": "Line {line}: {problem}",
    "unknown_item": "This no longer exists.",
    # Issue 9, email authority (mail helper adds its codes below this line).
    # Issue 9, Telegram identity (Telegram helper adds its codes below this line).
    "already_linked": (
        "This chat is already linked to an email address; ask the organizer to change it."
    ),
    # Issue 9, sign-in and secrets (console helper adds its codes below this line).
    # Issue 10, currencies (currency helper adds its codes below this line).
    "bad_currency": (
        "{value} is not a currency in use: give its ISO 4217 code, such as CHF, EUR or JPY."
    ),
    "mixed_currencies": (
        "These places are priced in different currencies ({currencies}); a booking is in one "
        "currency, so book them separately."
    ),
    "currency_locked": (
        "The currency cannot change once the event has bookings: they were made in {currency}."
    ),
    # Issue 10, deadlines (deadline helper adds its codes below this line).
    "deadline_not_later": (
        "The new deadline must be later than the current one: a deadline is never moved earlier."
    ),
    "deadline_at_performance": (
        "The deadline is already the start of the performance; there is no more time to give."
    ),
    "not_yet_due": "Booking {reference} is not yet due; confirm to release it before its deadline.",
    # Issue 10, search (search helper adds its codes below this line).
    # Issue 10, notices (notices helper adds its codes below this line).
    # Issue 10, console fixes (console helper adds its codes below this line).
    "contact_required": "Give an email or a phone number.",  # the desk form
    # Issue 11, shared: typed values longer than booking.rules.limits allows.
    "too_long": "That is {length} characters; please keep it under {max}.",
    # Issue 11, core availability (core helper adds its codes below this line).
    "below_minimum": "This ticket type is sold from {min} places per booking.",
    "not_enough_left": "Sorry, only {left} remaining for this date.",
    # Reads right for any count (the limit may be 1): no plural form to choose.
    "too_many_holds": (
        "Bookings waiting for payment: {count}, the most allowed. Pay or cancel one before "
        "holding another."
    ),
    "bad_picture_url": "The picture must be an https:// address, or leave it empty.",
    "minimum_above_maximum": (
        "The minimum per booking ({min}) is above the maximum ({max}): nobody could book this "
        "ticket type."
    ),
    # Issue 11, booking card (card helper adds its codes below this line).
    # Issue 11, identity (identity helper adds its codes below this line).
    "move_needs_email": (
        "These bookings are linked to another Telegram account, and the code that moves them "
        "cannot be emailed right now. Try the link again later, or ask the box office."
    ),
    "email_elsewhere": (
        "{email} is already the address of another customer record, so it cannot become yours "
        "here. The box office can merge the two."
    ),
    # Issue 11, wizard (wizard helper adds its codes below this line).
    # Issue 11, mail replies (mail helper adds its codes below this line).
    # Issue 11, notices (notices helper adds its codes below this line).
    # Issue 12, pass products
    "bad_accent_colour": "Give the colour as #rrggbb, for example #1f4e79.",
    "free_field_label_required": "Give the free field a label, or turn it off.",
    "pass_needs_events": "Choose at least one event: an automatic pass includes all its dates.",
    "bad_choice_count": "Choose how many dates the holder picks: between 1 and {max}.",
    "pass_event_elsewhere": (
        "{event} is not at this area's venue in this season, so a pass cannot include it."
    ),
    "pass_area_kind": (
        "A fixed seat needs an area with numbered seats, and general admission an area without."
    ),
    "pass_currency": (
        "{event} is priced in {currency}, and this pass in {pass_currency}: a pass and the dates "
        "it includes are in one currency."
    ),
    # Issue 12, pass sale
    "holder_field_required": "This pass asks for this: please fill it in.",
    "bad_mobile": "Give the mobile number in digits, for example +41 79 123 45 67.",
    "bad_birth_date": "Give the birth date as YYYY-MM-DD, for example 1990-04-27.",
    "pass_off_sale": "This pass is not on sale.",
    "pass_no_dates": "This pass includes no upcoming date on sale.",
    "pass_no_seat": "No seat of this area is free at every date of the pass.",
    "pass_seat_taken": "Seat {seat} is taken at one of the pass's dates: choose another seat.",
    "pass_customer_on_file": (
        "{email} is already a customer's address: search for it and sell the pass to them."
    ),
    # Issue 12, choice and additions
    "pass_picks_count": "Pick between 1 and {max} dates for this pass.",
    "pass_photo_unknown": "This photo was not uploaded by this customer: upload it again.",
    "pass_code_unknown": "There is no pass {pass_code}. Check the code printed on the pass.",
    "pass_not_choice": (
        "Pass {pass_code} includes every date of its events: there is no date to pick for it."
    ),
    "pass_void": "Pass {pass_code} is cancelled or expired: no date can be added to it.",
    "pass_no_choice_left": "Pass {pass_code} has no date left to pick: every choice is used.",
    "pass_date_not_choosable": (
        "This date cannot be picked for this pass: it is not one of its events, not on sale, "
        "or already started."
    ),
    "pass_date_already_in": "Pass {pass_code} already includes this date.",
    "pass_not_automatic": (
        "New dates are added only to passes that include every date of their events; the "
        "holder of a pass with choice adds dates with the pass code."
    ),
    # Issue 12, core renewals
    "renewal_unknown": "This renewal invitation does not exist (any more).",
    "renewal_not_open": (
        "The renewal of this pass is not open yet: the invitation says when it opens."
    ),
    "renewal_window_closed": (
        "The renewal window of this pass is closed: the kept seat went back on sale."
    ),
    "renewal_done": "This pass is renewed already: see your passes for the new one.",
    "renewal_offer_unknown": "This campaign does not offer this pass: choose one it offers.",
    "renewal_not_holder": "Only the holder of this pass can renew it.",
    "renewal_bad_window": "The renewal window must open before it closes.",
    # Issue 12, bot /passes
    "photo_too_large": (
        "This photo is too large: send one of at most {max_mb} MB (a phone photo sent as a "
        "photo, not as a file, always fits)."
    ),
    "photo_not_image": "This file is not a photo we can read: send a JPEG or PNG picture.",
    # Issue 12, pass credit (booking.services.pass_credit)
    "credit_none": "There is no pass credit that can pay this booking.",
    "credit_short": (
        "Pass {pass_code} has less credit than that now (it was used meanwhile): nothing was "
        "taken from it."
    ),
    "credit_currency": (
        "The credit of pass {pass_code} is in {pass_currency} and this booking in {currency}: "
        "credit pays bookings in its own currency."
    ),
    "credit_not_holder": (
        "Only the holder of pass {pass_code} can use its credit, on their own bookings."
    ),
    "credit_pass_void": (
        "Pass {pass_code} is not paid, or was cancelled: its credit cannot be used."
    ),
    "credit_used": "Booking {reference} already uses pass credit: pay the rest as usual.",
    "credit_bad_amount": "Give an amount of credit above zero.",
    # Issue 13, resale core (booking.services.resale)
    "resale_unknown_pass": "No pass of yours has this code: check the code printed on the pass.",
    "resale_pass_void": (
        "Pass {pass_code} is not paid, or was cancelled or refunded: its tickets cannot be resold."
    ),
    "resale_no_dates": "Choose at least one date to put on resale.",
    "resale_not_in_pass": "This date is not included in pass {pass_code}.",
    "resale_started": (
        "This performance has already started or is over: its ticket can no longer be resold."
    ),
    "resale_already_listed": "Your ticket for this date is already on resale.",
    "resale_used": "Your ticket for this date was already used at the door: it cannot be resold.",
    "resale_not_allowed": "The organizer does not allow resale for {event}.",
    "resale_payout_not_offered": (
        "This payout is not offered for {event}: choose one of those offered."
    ),
    "resale_bad_iban": "This IBAN is not valid: check it against a bank statement.",
    "resale_iban_not_sepa": (
        "Transfers are paid to accounts in the SEPA area only, and this IBAN is from {country}."
    ),
    "resale_holder_required": "Give the name of the account holder.",
    "resale_unknown_listing": "This resale listing does not exist (any more).",
    "resale_sold": "This ticket is sold already: the listing can no longer be withdrawn.",
    "resale_reserved": (
        "A buyer is paying for this ticket right now: the listing cannot be withdrawn meanwhile."
    ),
    "resale_ended": "This listing was already withdrawn or closed.",
}


class BookingError(Exception):
    """A refused request. ``code`` is stable; ``params`` fill the message."""

    def __init__(self, code: str, **params: Any) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params = params

    def english(self) -> str:
        return MESSAGES[self.code].format(**self.params)

    def __str__(self) -> str:
        return f"{self.code}: {self.english()}"
