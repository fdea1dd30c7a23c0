"""Renewal campaigns (issue 12): the campaigns with their counts; a new campaign (from last
season's product to products of a later season, a window typed in the organizer's timezone,
reminder days); one campaign's page with Launch (the number of holders shown first) and Close
now; who renewed, who has not yet, whose seat was released; each season's renewals both ways
("renewed into this season", "renewed from this season", "not yet renewed"). Every list is
also a CSV download. For organizers, like the pass products."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import renewal_reports as reports
from booking.queries.renewal_reports import CampaignRow, ProductRef, RenewalLine
from booking.services import catalog_admin, renewals
from booking.services.renewals import CampaignSettings
from booking.views import SeatPlace
from console.web import csvout
from console.web.forms import REQUIRED, Form
from console.web.labels import N_
from console.web.pages import Page, guarded

NAME_MAX = 80  # RenewalCampaign.name
REMINDERS_MAX = 5
REMINDER_DAYS_MAX = 90
DEFAULT_REMINDERS = "7, 1"

NO_OFFER = N_("Offer at least one product of a later season.")
NOT_LATER = N_("Offer only products of a season after {season}.")
# Renewing into a pass with choice would need the holder's picks; the price is in one currency.
NOT_LIKE = N_("Offer only passes that include every date of their events, priced in {currency}.")
CLOSES_FIRST = N_("The window must close after it opens.")
CLOSES_PAST = N_("This moment has already passed.")
BAD_REMINDERS = N_("Give whole days before the close, such as 7, 1 (at most five, up to 90).")

WORDS: dict[str, dict[str, str]] = {
    "campaign": {"draft": N_("Not launched"), "open": N_("Launched"), "closed": N_("Ended")},
    "line": {
        "invited": N_("Not yet renewed"),
        "renewed": N_("Renewed"),
        "released": N_("Seat released"),
    },
}

# The service's field names, as this form names its inputs.
SERVICE_FIELDS = {"closes_at": "closes_day", "opens_at": "opens_day"}

# The lists of a campaign, and of a season, each with its own CSV (name -> states or query).
CAMPAIGN_LISTS = {"renewed": ("renewed",), "waiting": ("invited",), "released": ("released",)}

CSV_HEADER = (
    "holder", "email", "pass_code", "from_product", "from_season", "old_seat", "new_product",
    "new_season", "new_seat", "state", "new_booking", "new_status",
)  # fmt: skip


def words(page: Page) -> dict[str, dict[str, str]]:
    return {kind: {k: page._(v) for k, v in texts.items()} for kind, texts in WORDS.items()}


def seat(page: Page, place: SeatPlace | None) -> str:
    return place.label(page.staff.language) if place is not None else ""


# -- the list ---------------------------------------------------------------------------------


@guarded("catalog")
async def campaigns(page: Page) -> Response:
    return page.render(
        "console/passes/renewals/list.html",
        campaigns=await reports.campaigns(page.ctx),
        seasons=await catalog_admin.list_seasons(page.ctx),
        words=words(page),
    )


# -- a new campaign ---------------------------------------------------------------------------


def read_reminders(form: Form) -> tuple[int, ...]:
    raw = form.get("reminder_days").strip()
    parts = [p for p in re.split(r"[,;\s]+", raw) if p]
    if not all(p.isdigit() and 1 <= int(p) <= REMINDER_DAYS_MAX for p in parts) or (
        len(parts) > REMINDERS_MAX
    ):
        form.error("reminder_days", BAD_REMINDERS)
        return ()
    return tuple(sorted({int(p) for p in parts}, reverse=True))


def read_moment(form: Form, prefix: str, timezone: str) -> datetime | None:
    """An optional moment at the organizer's timezone; a day without a time is refused
    rather than read as midnight."""
    day, time = f"{prefix}_day", f"{prefix}_time"
    if form.get(day).strip() and not form.get(time).strip():
        form.error(time, REQUIRED)
        return None
    moment = form.moment(day, time, timezone, required=False)
    return moment.astimezone(UTC) if moment is not None else None


def read_campaign(
    page: Page, form: Form, products: Sequence[ProductRef]
) -> CampaignSettings | None:
    by_id = {str(p.id): p for p in products}
    chosen = form.choice("from_product_id", by_id)
    name = form.text("name", required=True, max_length=NAME_MAX)
    offers = form.many("offer_product_ids", by_id)
    timezone = page.ctx.settings.timezone
    opens_at = read_moment(form, "opens", timezone)
    closes_at = read_moment(form, "closes", timezone)
    reminders = read_reminders(form)
    if not offers:
        form.error("offer_product_ids", NO_OFFER)
    elif chosen:
        start, offered = by_id[chosen], [by_id[o] for o in offers]
        if any(o.season_starts_on <= start.season_starts_on for o in offered):
            form.error("offer_product_ids", page._(NOT_LATER).format(season=start.season_name))
        elif any(o.includes != "automatic" or o.currency != start.currency for o in offered):
            form.error("offer_product_ids", page._(NOT_LIKE).format(currency=start.currency))
    if opens_at and closes_at and closes_at <= opens_at:
        form.error("closes_day", CLOSES_FIRST)
    elif closes_at and closes_at <= page.ctx.clock.now():
        form.error("closes_day", CLOSES_PAST)
    if not form.ok:
        return None
    return CampaignSettings(
        from_product_id=int(chosen),
        name=name,
        offer_product_ids=tuple(int(o) for o in offers),
        opens_at=opens_at,
        closes_at=closes_at,
        reminder_days=reminders,
    )


async def _form_page(page: Page, form: Form, *, status: int = 200) -> Response:
    products = await reports.products(page.ctx)
    return page.render(
        "console/passes/renewals/new.html",
        status=status,
        form=form,
        products=[(str(p.id), f"{p.name} · {p.season_name}") for p in products],
        timezone=page.ctx.settings.timezone,
    )


@guarded("catalog")
async def new_campaign(page: Page) -> Response:
    form = Form(None, page._, reminder_days=DEFAULT_REMINDERS, opens_time="", closes_time="")
    chosen = page.query("from")
    if chosen.isdigit():
        form.values["from_product_id"] = chosen
    return await _form_page(page, form)


@guarded("catalog")
async def create_campaign(page: Page) -> Response:
    form = Form(page.form, page._)
    settings = read_campaign(page, form, await reports.products(page.ctx))
    if settings is None:
        return await _form_page(page, form, status=400)
    try:
        campaign_id = await renewals.create_campaign(
            page.ctx, actor=page.staff.actor(), settings=settings
        )
    except BookingError as exc:
        field = str(exc.params.get("field", ""))
        form.booking_error(exc, page.error(exc), field=SERVICE_FIELDS.get(field, field) or None)
        return await _form_page(page, form, status=400)
    return page.redirect(
        f"/console/passes/renewals/{campaign_id}", flash=page._("Campaign created.")
    )


# -- one campaign -----------------------------------------------------------------------------


async def _campaign(page: Page) -> CampaignRow:
    return await reports.campaign(page.ctx, campaign_id=int(page.request.path_params["id"]))


@guarded("catalog")
async def campaign(page: Page) -> Response:
    found = await _campaign(page)
    lines = await reports.campaign_lines(page.ctx, campaign_id=found.id)
    return page.render(
        "console/passes/renewals/campaign.html",
        c=found,
        lists=[
            (name, [x for x in lines if x.state in states])
            for name, states in CAMPAIGN_LISTS.items()
        ],
        words=words(page),
        seat=lambda place: seat(page, place),
        timezone=page.ctx.settings.timezone,
    )


@guarded("catalog")
async def launch_page(page: Page) -> Response:
    found = await _campaign(page)
    return page.render(
        "console/passes/renewals/launch.html",
        c=found,
        to_invite=await reports.to_invite(page.ctx, campaign_id=found.id),
        words=words(page),
        timezone=page.ctx.settings.timezone,
    )


@guarded("catalog")
async def launch(page: Page) -> Response:
    found = await _campaign(page)
    url = f"/console/passes/renewals/{found.id}"
    try:
        report = await renewals.launch(page.ctx, actor=page.staff.actor(), campaign_id=found.id)
    except BookingError as exc:
        return page.redirect(url, flash=page.error(exc), level="error")
    text = page._("Launched. Invited: {invited}; seats kept: {kept}; not kept: {not_kept}.")
    flash = text.format(
        invited=page.formats.number(report.invited),
        kept=page.formats.number(report.seats_kept),
        not_kept=page.formats.number(report.not_kept),
    )
    return page.redirect(url, flash=flash)


@guarded("catalog")
async def close(page: Page) -> Response:
    found = await _campaign(page)
    url = f"/console/passes/renewals/{found.id}"
    try:
        released = await renewals.close(page.ctx, actor=page.staff.actor(), campaign_id=found.id)
    except BookingError as exc:
        return page.redirect(url, flash=page.error(exc), level="error")
    text = page._("Campaign closed. Kept seats back on sale: {n}.")
    return page.redirect(url, flash=text.format(n=page.formats.number(released)))


# -- a season both ways -----------------------------------------------------------------------


SEASON_READS = {
    "into": reports.renewed_into,
    "from": reports.renewed_from,
    "not-yet": reports.not_yet_renewed,
}


async def _season_lists(page: Page, season_id: int) -> dict[str, list[RenewalLine]]:
    return {name: await read(page.ctx, season_id=season_id) for name, read in SEASON_READS.items()}


async def _season_name(page: Page, season_id: int) -> str | None:
    names = {s.id: s.name for s in await catalog_admin.list_seasons(page.ctx)}
    return names.get(season_id)


@guarded("catalog")
async def season(page: Page) -> Response:
    season_id = int(page.request.path_params["season_id"])
    name = await _season_name(page, season_id)
    if name is None:
        return page.render("console/problem.html", status=404, message=page._("No such season."))
    return page.render(
        "console/passes/renewals/season.html",
        season_id=season_id,
        season_name=name,
        lists=await _season_lists(page, season_id),
        words=words(page),
        seat=lambda place: seat(page, place),
    )


# -- CSV --------------------------------------------------------------------------------------


def csv_line(page: Page, x: RenewalLine) -> Sequence[object]:
    return (
        x.holder_name, x.customer_email or "", x.pass_code, x.from_product, x.from_season,
        seat(page, x.old_seat), x.new_product, x.new_season, seat(page, x.new_seat), x.state,
        x.new_reference or "", x.new_status or "",
    )  # fmt: skip


def _csv(page: Page, filename: str, lines: Sequence[RenewalLine]) -> Response:
    return csvout.download(filename, CSV_HEADER, csvout.once([csv_line(page, x) for x in lines]))


def _no_list(page: Page) -> Response:
    return page.render("console/problem.html", status=404, message=page._("No such list."))


@guarded("catalog")
async def campaign_csv(page: Page) -> Response:
    which = page.request.path_params["which"]
    if which not in CAMPAIGN_LISTS:
        return _no_list(page)
    found = await _campaign(page)
    lines = await reports.campaign_lines(
        page.ctx, campaign_id=found.id, states=CAMPAIGN_LISTS[which]
    )
    return _csv(page, f"renewals-{found.id}-{which}.csv", lines)


@guarded("catalog")
async def season_csv(page: Page) -> Response:
    which = page.request.path_params["which"]
    season_id = int(page.request.path_params["season_id"])
    if which not in SEASON_READS or await _season_name(page, season_id) is None:
        return _no_list(page)
    lines = await SEASON_READS[which](page.ctx, season_id=season_id)
    return _csv(page, f"season-{season_id}-{which}.csv", lines)


routes = [
    Route("/passes/renewals", campaigns, methods=["GET"]),
    Route("/passes/renewals", create_campaign, methods=["POST"]),
    Route("/passes/renewals/new", new_campaign, methods=["GET"]),
    Route("/passes/renewals/{id:int}", campaign, methods=["GET"]),
    Route("/passes/renewals/{id:int}/launch", launch_page, methods=["GET"]),
    Route("/passes/renewals/{id:int}/launch", launch, methods=["POST"]),
    Route("/passes/renewals/{id:int}/close", close, methods=["POST"]),
    Route("/passes/renewals/{id:int}/{which:str}.csv", campaign_csv, methods=["GET"]),
    Route("/passes/renewals/seasons/{season_id:int}", season, methods=["GET"]),
    Route("/passes/renewals/seasons/{season_id:int}/{which:str}.csv", season_csv, methods=["GET"]),
]
