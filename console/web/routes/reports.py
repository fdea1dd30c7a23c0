"""Reports: sales and holds per event and day, cancellation reasons (an SVG chart), expired
holds; each also as a CSV download."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup
from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import reports
from booking.queries.reports import DayRow, Period
from booking.rules.formatting import plain_amount
from booking.services import catalog_admin
from console.web import csvout
from console.web.charts import REASONS, reasons_chart
from console.web.forms import date_or_none, int_or_none
from console.web.labels import labeller
from console.web.pages import Page, guarded
from console.web.routes.bookings import EXPORT_HEADER, export_line


def period(page: Page) -> tuple[Period, str]:
    """The period asked for (30 days to today by default); a bad one falls back, with a note."""
    default = reports.default_period(page.ctx.clock.now(), page.ctx.settings.timezone)
    start = date_or_none(page.query("from")) or default.start
    end = date_or_none(page.query("to")) or default.end
    try:
        return Period(start, end, int_or_none(page.query("event"))), ""
    except BookingError:
        note = page._("That period is not valid (at most a year, the end after the start).")
        return Period(default.start, default.end, int_or_none(page.query("event"))), note


@guarded("reports")
async def reports_page(page: Page) -> Response:
    chosen, note = period(page)
    label = labeller(page._)
    labels = {reason: label("reason", reason) for reason in REASONS}
    reasons = await reports.cancellation_reasons(page.ctx, period=chosen)
    return page.render(
        "console/reports.html",
        period=chosen,
        note=note,
        events=[(e.id, e.settings.title) for e in await catalog_admin.list_events(page.ctx)],
        sales=await reports.sales(page.ctx, period=chosen),
        holds=await reports.holds(page.ctx, period=chosen),
        reasons=reasons,
        reason_labels=labels,
        reason_order=REASONS,
        chart=Markup(reasons_chart(reasons, labels, page._)),  # built escaped (charts.py)
        expired=await reports.expired(page.ctx, period=chosen),
        query=page.request.url.query,
    )


DAY_HEADER = ("day", "event", "bookings", "places", "amount", "currency")


def _days(rows: Sequence[DayRow]) -> list[Sequence[object]]:
    return [
        (
            r.day.isoformat(),
            r.event_title,
            r.bookings,
            r.places,
            plain_amount(r.amount_minor, r.currency),
            r.currency,
        )
        for r in rows
    ]


@guarded("reports")
async def report_csv(page: Page) -> Response:
    chosen, _ = period(page)
    name = page.request.path_params["name"]
    if name == "sales":
        return csvout.download(
            "sales.csv",
            DAY_HEADER,
            csvout.once(_days(await reports.sales(page.ctx, period=chosen))),
        )
    if name == "holds":
        return csvout.download(
            "holds.csv",
            DAY_HEADER,
            csvout.once(_days(await reports.holds(page.ctx, period=chosen))),
        )
    if name == "cancellations":
        rows = await reports.cancellation_reasons(page.ctx, period=chosen)
        return csvout.download(
            "cancellations.csv",
            ("event", "reason", "count"),
            csvout.once([(r.event_title, r.reason, r.count) for r in rows]),
        )
    if name == "expired":
        found = await reports.expired(page.ctx, period=chosen)
        return csvout.download(
            "expired.csv", EXPORT_HEADER, csvout.once([export_line(b) for b in found.rows])
        )
    return page.render("console/problem.html", status=404, message=page._("No such report."))


routes = [
    Route("/reports", reports_page),
    Route("/reports/{name:str}.csv", report_csv),
]
