"""Season passes (issue 12, items 5 and 6): adding newly scheduled dates to every pass of an
automatic product (organizers: the count first, a confirm button, then the report with the
conflicts), and adding a date to a pass with choice by its code (everyone at the desk: the
code, then one of the dates it may still pick)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import pass_choices as choice_queries
from booking.queries import pass_products as queries
from booking.queries import passes as pass_queries
from booking.queries.passes import IncludedDate, PassDetail
from booking.services import pass_additions, pass_choices
from console.web.forms import Form, int_or_none
from console.web.labels import N_
from console.web.pages import Page, guarded

CONFLICT_WORDS = {
    "seat_taken": N_("The pass's seat is taken at this date"),
    "sold_out": N_("No place left at this date"),
}


# -- adding new dates to every pass of a product ------------------------------------------------


async def _product_id(page: Page) -> int:
    return int(page.request.path_params["product_id"])


@guarded("catalog")
async def add_dates_form(page: Page) -> Response:
    product_id = await _product_id(page)
    detail = await queries.product_detail(page.ctx, product_id=product_id)
    shown = await pass_additions.preview(page.ctx, product_id=product_id)
    return page.render("console/passes/add_dates.html", d=detail, preview=shown)


@guarded("catalog")
async def add_dates(page: Page) -> Response:
    product_id = await _product_id(page)
    detail = await queries.product_detail(page.ctx, product_id=product_id)
    report = await pass_additions.add_new_dates(
        page.ctx, actor=page.staff.actor(), product_id=product_id
    )
    words = {k: page._(v) for k, v in CONFLICT_WORDS.items()}
    return page.render(
        "console/passes/add_dates_report.html", d=detail, report=report, reasons=words
    )


# -- adding a date to a pass with choice by its code --------------------------------------------


async def _found(page: Page, code: str) -> tuple[PassDetail | None, list[IncludedDate]]:
    """The pass the typed code names (any holder: this is the box office), and its dates."""
    pass_id = await choice_queries.pass_id_by_code(page.ctx, code=code, customer_id=None)
    if pass_id is None:
        return None, []
    found = await pass_queries.pass_detail(page.ctx, pass_id=pass_id)
    return found, await choice_queries.choosable_dates(page.ctx, pass_id=pass_id)


async def _add_date_page(page: Page, form: Form, *, status: int = 200) -> Response:
    code = form.get("code").strip()[:20]
    found, dates = await _found(page, code) if code else (None, [])
    if code and found is None and "code" not in form.errors:
        error = BookingError("pass_code_unknown", pass_code=code)
        form.booking_error(error, page.error(error), field="code")
        status = 400
    left = await choice_queries.choices_left(page.ctx, pass_id=found.id) if found else None
    return page.render(
        "console/passes/add_date.html",
        status=status,
        form=form,
        found=found,
        choices_left=left,
        dates=[(str(d.performance_id), _date_text(page, d)) for d in dates],
    )


def _date_text(page: Page, d: IncludedDate) -> str:
    return f"{page.formats.at(d.starts_at, d.timezone)} · {d.event_title}"


@guarded("bookings.create")
async def add_date_form(page: Page) -> Response:
    """Step one: the code (``?code=``); with a code, step two: the dates it may pick."""
    return await _add_date_page(page, Form(None, page._, code=page.query("code")))


@guarded("bookings.create")
async def add_date(page: Page) -> Response:
    form = Form(page.form, page._)
    code = form.text("code", required=True, max_length=20)
    performance_id = int_or_none(form.get("performance_id"))
    if performance_id is None:
        form.error("performance_id", N_("Choose a date from the list."))
    if not form.ok:
        return await _add_date_page(page, form, status=400)
    try:
        added = await pass_choices.add_date(
            page.ctx, actor=page.staff.actor(), code=code, performance_id=performance_id or 0
        )
    except BookingError as exc:
        field = "code" if exc.code == "pass_code_unknown" else "performance_id"
        form.booking_error(exc, page.error(exc), field=field)
        return await _add_date_page(page, form, status=400)
    text = page._("Date added to pass {code}. Choices left: {n}.").format(
        code=added.code, n=page.formats.number(added.choices_left)
    )
    if added.other_seat and added.seat is not None:
        seat = added.seat.label(page.staff.language)
        text += " " + page._("The pass's seat was taken at that date: {seat} instead.").format(
            seat=seat
        )
    return page.redirect(f"/console/passes/{added.pass_id}", flash=text)


routes = [
    Route("/passes/products/{product_id:int}/add-dates", add_dates_form, methods=["GET"]),
    Route("/passes/products/{product_id:int}/add-dates", add_dates, methods=["POST"]),
    Route("/passes/add-date", add_date_form, methods=["GET"]),
    Route("/passes/add-date", add_date, methods=["POST"]),
]
