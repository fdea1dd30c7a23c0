"""Seasons and venues: general-admission areas, and numbered seats imported from a CSV file."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.services import catalog_admin
from booking.services.catalog import SeatSpec
from console.web.forms import Form
from console.web.pages import Page, guarded
from console.web.render import plural
from console.web.seatfile import MAX_BYTES, read_seats

# -- seasons ------------------------------------------------------------------------------------


async def _seasons(page: Page, form: Form | None = None, *, status: int = 200) -> Response:
    return page.render(
        "console/seasons.html",
        status=status,
        seasons=await catalog_admin.list_seasons(page.ctx),
        form=form or Form(None, page._),
    )


@guarded("catalog")
async def seasons(page: Page) -> Response:
    return await _seasons(page)


@guarded("catalog")
async def create_season(page: Page) -> Response:
    form = Form(page.form, page._)
    name = form.text("name", required=True, max_length=40)
    starts_on = form.day("starts_on", required=True)
    ends_on = form.day("ends_on", required=True)
    if starts_on and ends_on and ends_on < starts_on:
        form.error("ends_on", "The end must come after the start.")
    if form.ok and starts_on and ends_on:
        try:
            await catalog_admin.create_season(
                page.ctx, actor=page.staff.actor(), name=name, starts_on=starts_on, ends_on=ends_on
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="name")
    if not form.ok:
        return await _seasons(page, form, status=400)
    return page.redirect("/console/seasons", flash=page._("Season created."))


# -- venues -------------------------------------------------------------------------------------


async def _venues(page: Page, form: Form | None = None, *, status: int = 200) -> Response:
    return page.render(
        "console/venues/list.html",
        status=status,
        venues=await catalog_admin.list_venues(page.ctx),
        form=form or Form(None, page._),
    )


@guarded("catalog")
async def venues(page: Page) -> Response:
    return await _venues(page)


@guarded("catalog")
async def create_venue(page: Page) -> Response:
    form = Form(page.form, page._)
    name = form.text("name", required=True, max_length=120)
    address = form.text("address", max_length=300)
    venue_id = None
    if form.ok:
        try:
            venue_id = await catalog_admin.create_venue(
                page.ctx, actor=page.staff.actor(), name=name, address=address
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="name")
    if venue_id is None:
        return await _venues(page, form, status=400)
    return page.redirect(
        f"/console/venues/{venue_id}", flash=page._("Venue created. Now add its areas.")
    )


async def _venue(
    page: Page,
    venue_id: int,
    *,
    forms: dict[str, Form] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Response:
    try:
        venue = await catalog_admin.get_venue(page.ctx, venue_id=venue_id)
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))
    forms = dict(forms or {})
    forms.setdefault("area", Form(None, page._))
    forms.setdefault("seats", Form(None, page._))
    return page.render(
        "console/venues/detail.html",
        status=status,
        venue=venue,
        forms=forms,
        problems=problems or [],
    )


@guarded("catalog")
async def venue(page: Page) -> Response:
    return await _venue(page, int(page.request.path_params["venue_id"]))


@guarded("catalog")
async def add_area(page: Page) -> Response:
    """A general-admission area: a name and a capacity."""
    venue_id = int(page.request.path_params["venue_id"])
    form = Form(page.form, page._)
    name = form.text("name", required=True, max_length=80)
    capacity = form.integer("capacity", required=True, low=1, high=1_000_000)
    if form.ok and capacity is not None:
        try:
            await catalog_admin.add_area(
                page.ctx, actor=page.staff.actor(), venue_id=venue_id, name=name, capacity=capacity
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="name")
    if not form.ok:
        return await _venue(page, venue_id, forms={"area": form}, status=400)
    return page.redirect(f"/console/venues/{venue_id}", flash=page._("Area added."))


@guarded("catalog")
async def import_seats(page: Page) -> Response:
    """A seated area from a CSV of section, block, row, seat (best seats first)."""
    venue_id = int(page.request.path_params["venue_id"])
    form = Form(page.form, page._)
    form.values.pop("file", None)  # an upload is never echoed back
    name = form.text("name", required=True, max_length=80)
    upload = page.form.get("file") if page.form is not None else None
    problems: list[str] = []
    seats: tuple[SeatSpec, ...] = ()
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.error("file", "Choose a CSV file.")
    else:
        data = await upload.read(MAX_BYTES + 1)
        parsed = read_seats(data)
        seats = parsed.seats
        line = page._("Line {line}: {problem}")
        for number, problem, other in parsed.problems:
            text = page._(problem).format(other=other)
            problems.append(line.format(line=number, problem=text) if number else text)
        if problems:
            form.error("file", "The file has problems; nothing was imported.")
    if form.ok:
        try:
            await catalog_admin.add_area(
                page.ctx, actor=page.staff.actor(), venue_id=venue_id, name=name, seats=seats
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="name")
    if not form.ok:
        return await _venue(page, venue_id, forms={"seats": form}, problems=problems, status=400)
    text = plural(
        page.staff.language,
        "{n} seat imported into {area}.",
        "{n} seats imported into {area}.",
        len(seats),
        area=name,
    )
    return page.redirect(f"/console/venues/{venue_id}", flash=text)


routes = [
    Route("/seasons", seasons, methods=["GET"]),
    Route("/seasons", create_season, methods=["POST"]),
    Route("/venues", venues, methods=["GET"]),
    Route("/venues", create_venue, methods=["POST"]),
    Route("/venues/{venue_id:int}", venue, methods=["GET"]),
    Route("/venues/{venue_id:int}/areas", add_area, methods=["POST"]),
    Route("/venues/{venue_id:int}/seats", import_seats, methods=["POST"]),
]
