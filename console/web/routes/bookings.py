"""Finding bookings: the search (paged), one booking in full, and the CSV export."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import search
from booking.queries.search import BookingFilter, BookingRow
from console.web import csvout
from console.web.forms import Form, date_or_none, int_or_none
from console.web.pages import Page, guarded

PER_PAGE = 50
CANCEL_REASONS = ("cannot_attend", "illness", "mistake", "price", "other")


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
        f"{b.total_minor / 100:.2f}",
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
]
