"""Finding bookings: the search (paged), one booking in full, and the CSV export."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.qr import qr_png
from booking.queries import search
from booking.queries.search import BookingFilter, BookingRow
from booking.rules.formatting import plain_amount
from booking.services import checkouts, pass_credit, tickets
from booking.views import BookingView, TicketView
from console.web import csvout
from console.web.forms import Form, date_or_none, int_or_none
from console.web.pages import Page, guarded

PER_PAGE = 50
CANCEL_REASONS = ("cannot_attend", "illness", "mistake", "price", "other")
OPEN = ("held", "overdue")  # the states a pay link can still pay


def booking_filter(page: Page) -> BookingFilter:
    return BookingFilter(
        text=page.query("q")[:200],
        event_id=int_or_none(page.query("event")),
        performance_id=int_or_none(page.query("performance")),
        organization_id=int_or_none(page.query("organization")),
        organization=page.query("org")[:200],
        day=date_or_none(page.query("day")),
        status=page.query("status") or None,
        refund_due=page.query("refund") == "1",
    )


@guarded("bookings.view")
async def bookings(page: Page) -> Response:
    flt = booking_filter(page)
    number = int_or_none(page.query("page")) or 1
    found, menus = await search.search_page(page.ctx, flt=flt, page=number, per_page=PER_PAGE)
    typed = search.as_reference(flt.text)
    if typed is not None and len(found.rows) == 1 and found.rows[0].reference == typed:
        return page.redirect(f"/console/bookings/{found.rows[0].reference}")
    return page.render(
        "console/bookings/list.html",
        found=found,
        filters=dict(page.request.query_params),
        query=urlencode([(k, v) for k, v in page.request.query_params.items() if k != "page"]),
        statuses=search.STATUSES,
        events=[(e.id, e.title) for e in menus.events],
        dates=[(d.id, page.formats.at(d.starts_at, d.timezone)) for d in menus.dates],
    )


EXPORT_HEADER = (
    "reference",
    "status",
    "customer",
    "email",
    "organization",
    "event",
    "performance_utc",
    "deadline_utc",
    "total",
    "currency",
    "channel",
    "created_utc",
    "refund_due",
)


def export_line(b: BookingRow) -> Sequence[object]:
    return (
        b.reference,
        b.status,
        b.customer_name,
        b.customer_email or "",
        b.organization_name or "",
        b.event_title,
        b.starts_at.isoformat(),
        b.deadline.isoformat() if b.deadline else "",
        plain_amount(b.total_minor, b.currency),  # the currency's decimals (JPY none)
        b.currency,
        b.channel,
        b.created_at.isoformat(),
        "yes" if b.refund_due else "",
    )


@guarded("bookings.export")
async def export(page: Page) -> Response:
    flt = booking_filter(page)

    async def rows() -> AsyncIterator[Iterable[Sequence[object]]]:
        async for batch in search.export_bookings(page.ctx, flt=flt):
            yield [export_line(b) for b in batch]

    return csvout.download("bookings.csv", EXPORT_HEADER, rows())


async def detail_page(
    page: Page,
    reference: str,
    *,
    forms: dict[str, Form] | None = None,
    status: int = 200,
    problem: str = "",
) -> Response:
    """The booking with the forms of every action this role may take on it now."""
    found = await search.booking_detail(page.ctx, reference=reference)
    tz = found.booking.timezone
    forms = forms or {}
    defaults = {
        "pay": Form(None, page._, method="cash"),
        "cancel": Form(None, page._),
        "extend": Form(
            None,
            page._,
            mode="days",
            days=str(found.extension_days),
            until=page.formats.iso_day(found.booking.deadline, tz),
        ),
        "refund": Form(None, page._),
    }
    return page.render(
        "console/bookings/detail.html",
        status=status,
        d=found,
        b=found.booking,
        tz=tz,
        forms={**defaults, **forms},
        problem=problem,
        reasons=CANCEL_REASONS,
        nonce=secrets.token_urlsafe(12),  # makes a double-clicked "resend" one notice
        pay_link=await pay_link(page, found.booking),
        qr=await ticket_codes(page, found.booking),
        credit=await pass_credit.booking_credit(  # the holder's pass credit (issue 12 item 7)
            page.ctx, actor=page.staff.actor(), reference=reference
        ),
    )


async def pay_link(page: Page, booking: BookingView) -> str | None:
    """The booking's pay link, the one its emails carry, to read out or send by hand (a
    customer without working email can still pay online): only while the pay page would
    take the payment, and only to staff who may take payments."""
    if not page.can("bookings.pay") or booking.status not in OPEN:
        return None
    try:
        await checkouts.payable(page.ctx, reference=booking.reference)
    except BookingError:
        return None  # paid meanwhile, past its deadline under a firm policy, …
    token = await checkouts.pay_link_token(page.ctx, booking=booking)
    return f"{page.ctx.settings.public_url.rstrip('/')}/pay/{token}"


async def ticket_codes(page: Page, booking: BookingView) -> dict[int, tuple[str, TicketView]]:
    """Each valid ticket's QR as a PNG data URI, and what it admits, by ticket id. Inline in
    the page, never a URL of its own: a ticket's secret never appears in a path, so never in
    an access log (console.serving redacts only /pay/ and /t/)."""
    if booking.status != "confirmed":
        return {}
    found = await tickets.booking_tickets(
        page.ctx, actor=page.staff.actor(), reference=booking.reference
    )
    return {t.id: (qr_data_uri(t.ticket.url), t.ticket) for t in found}


def qr_data_uri(url: str) -> str:
    png = qr_png(url, scale=6)  # the same code the bot and the emails show
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@guarded("bookings.view")
async def printable_tickets(page: Page) -> Response:
    """One block per valid ticket with its QR, for the browser's print dialog."""
    reference = page.request.path_params["reference"]
    try:
        found = await search.booking_detail(page.ctx, reference=reference)
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))
    booking = found.booking
    issued = []
    if booking.status == "confirmed":
        issued = await tickets.booking_tickets(
            page.ctx, actor=page.staff.actor(), reference=booking.reference
        )
    return page.render(
        "console/bookings/tickets.html",
        b=booking,
        d=found,
        tickets=[(t, qr_data_uri(t.ticket.url)) for t in issued],
    )


@guarded("bookings.view")
async def booking(page: Page) -> Response:
    reference = page.request.path_params["reference"]
    try:
        return await detail_page(page, reference)
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))


routes = [
    Route("/bookings", bookings),
    Route("/bookings.csv", export),
    Route("/bookings/{reference:str}", booking),
    Route("/bookings/{reference:str}/tickets", printable_tickets),
]
