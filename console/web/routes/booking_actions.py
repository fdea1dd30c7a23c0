"""What staff do to one booking: take a payment, use the holder's pass credit, cancel, extend,
resend, settle a refund.

Each form carries the booking's version as the page showed it. When the booking changed
meanwhile (paid online, expired, extended by a colleague), the action is not taken and the
page comes back with the booking as it is now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import search
from booking.queries.release_screen import deadline_on
from booking.services import booking_admin, cancellations, pass_credit, payments, releases
from console.web import told
from console.web.forms import Form
from console.web.labels import N_
from console.web.pages import Page, guarded
from console.web.routes.bookings import CANCEL_REASONS, detail_page

METHODS = ("cash", "card", "transfer")
# Refusals of the new deadline itself, shown next to the field that gave it.
DATE_REFUSALS = frozenset(
    {"date_in_past", "date_after_performance", "deadline_not_later", "deadline_at_performance"}
)
CHANGED = N_("This booking changed while you were looking at it; nothing was done. Here it is now.")

Action = Callable[[Page, str, Form], Awaitable[Response | None]]


async def _act(page: Page, name: str, action: Action) -> Response:
    """Check the version, run ``action``; on a refusal re-show the detail page with the form."""
    reference = page.request.path_params["reference"]
    form = Form(page.form, page._)
    try:
        current = await search.booking_version(page.ctx, reference=reference)
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))
    if form.get("version") != current:
        # The page shows the booking as it is now and carries its current version; the
        # form keeps what was typed, so acting again needs no retyping.
        return await detail_page(
            page, reference, forms={name: form}, status=409, problem=page._(CHANGED)
        )
    try:
        await told.mark(page)  # the flash says what this action queued for the customer
        response = await action(page, reference, form)
    except BookingError as exc:
        form.booking_error(exc, page.error(exc))
        response = None
    if response is not None:
        return response
    return await detail_page(page, reference, forms={name: form}, status=400)


def _back(page: Page, reference: str, text: str) -> Response:
    return page.redirect(f"/console/bookings/{reference}", flash=text)


@guarded("bookings.pay")
async def pay(page: Page) -> Response:
    async def action(page: Page, reference: str, form: Form) -> Response | None:
        method = form.choice("method", METHODS)
        if not form.ok:
            return None
        result = await payments.record_box_office_payment(
            page.ctx, actor=page.staff.actor(), reference=reference, method=method
        )
        text = {
            "confirmed": N_("Payment recorded; the tickets are issued."),
            "reinstated": N_("Payment recorded; the booking was re-instated and tickets issued."),
            "refund_due": N_("Payment recorded but the places could not be confirmed: refund due."),
            "duplicate": N_("This payment was already recorded."),
        }[result.outcome]
        if result.outcome == "duplicate":
            return _back(page, reference, page._(text))
        return _back(page, reference, await told.said(page, reference, page._(text)))

    return await _act(page, "pay", action)


@guarded("bookings.cancel")
async def cancel(page: Page) -> Response:
    async def action(page: Page, reference: str, form: Form) -> Response | None:
        reason = form.choice("reason", CANCEL_REASONS)
        note = form.text("note", max_length=500)
        if reason == "other" and not note:
            form.error("note", "Please give a reason.")
        if not form.ok:
            return None
        await cancellations.cancel(
            page.ctx, actor=page.staff.actor(), reference=reference, reason=reason, note=note
        )
        done = page._("The booking is cancelled.")
        return _back(page, reference, await told.said(page, reference, done))

    return await _act(page, "cancel", action)


@guarded("bookings.extend")
async def extend(page: Page) -> Response:
    async def action(page: Page, reference: str, form: Form) -> Response | None:
        detail = await search.booking_detail(page.ctx, reference=reference)
        mode = form.choice("mode", ("days", "until"))
        days = until = None
        if mode == "days":
            days = form.integer("days", required=True, low=1, high=365)
        elif mode == "until":
            day = form.day("until", required=True)
            if day is not None:
                until = deadline_on(day, detail.booking.timezone, detail.booking.starts_at)
                if until > detail.booking.starts_at:  # the bulk screen caps; one booking says so
                    error = BookingError("date_after_performance")
                    form.booking_error(error, page.error(error))
        if not form.ok:
            return None
        result = await releases.bulk_extend(
            page.ctx, actor=page.staff.actor(), references=[reference], until=until, by_days=days
        )
        if result.skipped:
            # Refused (e.g. not later than the current deadline): said next to the field used.
            status = detail.booking.status
            error = BookingError(result.skipped[0][1], reference=reference, status=status)
            field = ("days" if days else "until") if error.code in DATE_REFUSALS else None
            form.booking_error(error, page.error(error), field=field)
            return None
        return _back(page, reference, await told.said(page, reference, page._("New deadline set.")))

    return await _act(page, "extend", action)


@guarded("bookings.resend")
async def resend(page: Page) -> Response:
    async def action(page: Page, reference: str, form: Form) -> Response | None:
        what = form.choice("what", booking_admin.RESEND)
        if not form.ok:
            return None
        await booking_admin.resend(
            page.ctx,
            actor=page.staff.actor(),
            reference=reference,
            what=what,
            nonce=form.get("nonce"),
        )
        return _back(page, reference, await told.said(page, reference, page._("Resend asked.")))

    return await _act(page, "resend", action)


@guarded("bookings.refund")
async def refund(page: Page) -> Response:
    async def action(page: Page, reference: str, form: Form) -> Response | None:
        note = form.text("note", max_length=500)
        if not form.ok:
            return None
        await booking_admin.settle_refund(
            page.ctx, actor=page.staff.actor(), reference=reference, note=note
        )
        return _back(page, reference, page._("Refund marked as paid back."))

    return await _act(page, "refund", action)


@guarded("bookings.pay")
async def use_credit(page: Page) -> Response:
    """The box office pays the booking with its holder's pass credit (issue 12 item 7): all
    that is due, and the booking is paid; or a part, and the rest is what the desk, the pay
    link and Telegram then ask for."""

    async def action(page: Page, reference: str, form: Form) -> Response | None:
        pass_id = form.integer("pass_id", required=True, low=1)
        if not form.ok or pass_id is None:
            return None
        done = await pass_credit.apply(
            page.ctx, actor=page.staff.actor(), reference=reference, pass_id=pass_id
        )
        used = page.formats.money(done.used_minor, done.booking.currency)
        if done.outcome == "paid":
            text = page._("Paid with {amount} of credit from pass {code}; the tickets are issued.")
            text = text.format(amount=used, code=done.pass_code)
            return _back(page, reference, await told.said(page, reference, text))
        due = page.formats.money(done.due_minor, done.booking.currency)
        text = page._("{amount} of credit from pass {code} applied; {due} left to pay.")
        return _back(page, reference, text.format(amount=used, code=done.pass_code, due=due))

    return await _act(page, "credit", action)


routes = [
    Route("/bookings/{reference:str}/pay", pay, methods=["POST"]),
    Route("/bookings/{reference:str}/credit", use_credit, methods=["POST"]),
    Route("/bookings/{reference:str}/cancel", cancel, methods=["POST"]),
    Route("/bookings/{reference:str}/extend", extend, methods=["POST"]),
    Route("/bookings/{reference:str}/resend", resend, methods=["POST"]),
    Route("/bookings/{reference:str}/refund", refund, methods=["POST"]),
]
