"""Pass holders (issue 12): every pass sold, searched by holder, customer, email or pass code,
narrowed to a season and a product, with its status, seat, credit and choices left; the same
list as a CSV download. For organizers, like the other pass reports."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from booking.queries import renewal_reports as reports
from booking.queries.renewal_reports import HolderFilter, HolderRow
from booking.rules.formatting import plain_amount
from booking.services import catalog_admin
from console.web import csvout
from console.web.forms import int_or_none
from console.web.pages import Page, guarded

CSV_HEADER = (
    "pass_code", "holder", "email", "season", "product", "status", "seat", "credit", "currency",
    "choices_left", "booking", "renewed",
)  # fmt: skip


def chosen(page: Page) -> HolderFilter:
    """The filter asked for; a season or product that is not a number is ignored."""
    return HolderFilter(
        text=page.query("q").strip()[:200],
        season_id=int_or_none(page.query("season")),
        product_id=int_or_none(page.query("product")),
    )


def seat_text(page: Page, row: HolderRow) -> str:
    return row.seat.label(page.staff.language) if row.seat is not None else row.area_name


@guarded("catalog")
async def holders(page: Page) -> Response:
    asked = chosen(page)
    found = await reports.holders(page.ctx, chosen=asked, page=int_or_none(page.query("page")) or 1)
    query = {"q": asked.text, "season": page.query("season"), "product": page.query("product")}
    return page.render(
        "console/passes/holders.html",
        found=found,
        asked=asked,
        seasons=await catalog_admin.list_seasons(page.ctx),
        products=await reports.products(page.ctx),
        seats={r.pass_id: seat_text(page, r) for r in found.rows},
        query=urlencode({k: v for k, v in query.items() if v}),
    )


def csv_line(page: Page, row: HolderRow) -> Sequence[object]:
    return (
        row.code, row.holder_name, row.customer_email or "", row.season_name, row.product_name,
        row.status, seat_text(page, row),
        plain_amount(row.credit_minor, row.currency), row.currency,
        "" if row.choices_left is None else row.choices_left, row.reference,
        "yes" if row.renewed_from_id else "",
    )  # fmt: skip


@guarded("catalog")
async def holders_csv(page: Page) -> Response:
    rows = await reports.all_holders(page.ctx, chosen=chosen(page))
    return csvout.download(
        "pass-holders.csv", CSV_HEADER, csvout.once([csv_line(page, r) for r in rows])
    )


routes = [
    Route("/passes/holders", holders, methods=["GET"]),
    Route("/passes/holders.csv", holders_csv, methods=["GET"]),
]
