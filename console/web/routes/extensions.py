"""The inbox of requests for more time: approve (the date pre-filled, editable, never past the
performance) or deny with a message, one click each; per-event auto-approval."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import inbox, release_screen
from booking.queries.release_screen import deadline_on
from booking.services import catalog_admin, extensions
from console.web import told
from console.web.forms import Form
from console.web.pages import Page, guarded


async def _inbox(
    page: Page, *, forms: dict[int, Form] | None = None, status: int = 200
) -> Response:
    pending = await inbox.inbox(page.ctx)
    forms = dict(forms or {})
    for row in pending:
        forms.setdefault(
            row.id,
            Form(None, page._, until=page.formats.iso_day(row.proposed_until, row.timezone)),
        )
    return page.render(
        "console/extensions.html",
        status=status,
        pending=pending,
        earliest={row.id: earliest_day(page, row).isoformat() for row in pending},
        decided=await inbox.inbox(page.ctx, status="decided"),
        forms=forms,
        events=await release_screen.event_policies(page.ctx),
    )


def earliest_day(page: Page, row: inbox.InboxRow) -> date:
    """The first day the date field offers: a deadline only ever moves later (the service
    refuses anything else; the browser need not offer it), and never to a past day."""
    tz = ZoneInfo(row.timezone)
    today = page.ctx.clock.now().astimezone(tz).date()
    if row.current_deadline is None:
        return today
    return max(row.current_deadline.astimezone(tz).date() + timedelta(days=1), today)


@guarded("extensions")
async def extensions_page(page: Page) -> Response:
    return await _inbox(page)


async def _request(page: Page) -> inbox.InboxRow | None:
    request_id = int(page.request.path_params["request_id"])
    return next((r for r in await inbox.inbox(page.ctx) if r.id == request_id), None)


@guarded("extensions")
async def approve(page: Page) -> Response:
    row = await _request(page)
    if row is None:
        return page.redirect(
            "/console/extensions",
            flash=page.error(BookingError("unknown_extension")),
            level="warn",
        )
    await told.mark(page)
    form = Form(page.form, page._)
    day = form.day("until", required=True)
    if day is not None:
        try:
            await extensions.approve_extension(
                page.ctx,
                actor=page.staff.actor(),
                request_id=row.id,
                until=deadline_on(day, row.timezone, row.starts_at),
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="until")
    if not form.ok:
        return await _inbox(page, forms={row.id: form}, status=400)
    text = page._("Approved: {reference} now has until {date}.")
    date = page.formats.day(day, row.timezone)
    flash = await told.said(page, row.reference, text.format(reference=row.reference, date=date))
    return page.redirect("/console/extensions", flash=flash)


@guarded("extensions")
async def deny(page: Page) -> Response:
    row = await _request(page)
    if row is None:
        return page.redirect(
            "/console/extensions",
            flash=page.error(BookingError("unknown_extension")),
            level="warn",
        )
    form = Form(page.form, page._)
    message = form.text("message", max_length=500)
    if not form.ok:
        return await _inbox(page, forms={row.id: form}, status=400)
    await told.mark(page)
    await extensions.deny_extension(
        page.ctx, actor=page.staff.actor(), request_id=row.id, message=message
    )
    text = page._("Denied: {reference}.").format(reference=row.reference)
    return page.redirect("/console/extensions", flash=await told.said(page, row.reference, text))


@guarded("extensions")
async def settings(page: Page) -> Response:
    """Auto-approve a first request of up to N days (0: never), and the default proposal."""
    form = Form(page.form, page._)
    event_id = form.integer("event_id", required=True, low=1)
    auto = form.integer("auto_extend_days", required=True, low=0, high=365)
    default = form.integer("extension_days", required=True, low=1, high=365)
    if not form.ok or event_id is None:
        page.flash(page._("Enter whole numbers of days (0 to switch auto-approval off)."), "error")
        return page.redirect("/console/extensions")
    await catalog_admin.set_event_rules(
        page.ctx,
        actor=page.staff.actor(),
        event_id=event_id,
        auto_extend_days=auto,
        extension_days=default,
    )
    return page.redirect("/console/extensions", flash=page._("Settings saved."))


routes = [
    Route("/extensions", extensions_page),
    Route("/extensions/settings", settings, methods=["POST"]),
    Route("/extensions/{request_id:int}/approve", approve, methods=["POST"]),
    Route("/extensions/{request_id:int}/deny", deny, methods=["POST"]),
]
