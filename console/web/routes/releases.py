"""The release screen (SPEC §3): overdue holds and holds due soon, filtered, with the amounts at
stake; many selected at once are given more time or released now. Per-event policy too."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from booking.queries import release_screen
from booking.queries.release_screen import ReleaseFilter, deadline_on
from booking.services import catalog_admin, releases
from booking.services.releases import BulkResult
from console.web.forms import Form, date_or_none, int_or_none
from console.web.pages import Page, guarded

PER_PAGE = 100
FILTERS = (
    "event",
    "performance",
    "customer",
    "org",
    "organization",
    "from",
    "to",
    "show",
    "horizon",
)


def release_filter(filters: dict[str, str]) -> ReleaseFilter:
    show = filters.get("show", "all")
    return ReleaseFilter(
        event_id=int_or_none(filters.get("event", "")),
        performance_id=int_or_none(filters.get("performance", "")),
        customer=filters.get("customer", "")[:200],
        organization_id=int_or_none(filters.get("organization", "")),
        organization=filters.get("org", "")[:200],
        deadline_from=date_or_none(filters.get("from", "")),
        deadline_to=date_or_none(filters.get("to", "")),
        horizon_days=int_or_none(filters.get("horizon", "")) or 7,
        show=show if show in release_screen.SHOW else "all",
    )


async def _screen(
    page: Page, filters: dict[str, str], form: Form | None = None, *, status: int = 200
) -> Response:
    flt = release_filter(filters)
    number = int_or_none(page.query("page")) or 1
    screen = await release_screen.release_screen(page.ctx, flt=flt, page=number, per_page=PER_PAGE)
    return page.render(
        "console/releases.html",
        status=status,
        screen=screen,
        events=[e for e in screen.menus.events if e.upcoming],
        dates=[(d.id, page.formats.at(d.starts_at, d.timezone)) for d in screen.menus.dates],
        filters=filters,
        query=urlencode(filters),
        form=form or Form(None, page._, mode="days", days="7", scope="selected"),
    )


@guarded("releases")
async def releases_page(page: Page) -> Response:
    return await _screen(page, {k: page.query(k) for k in FILTERS if page.query(k)})


@guarded("releases")
async def decide(page: Page) -> Response:
    """Extend (to a date, or by N days) or release the selected holds, or all that match."""
    form = Form(page.form, page._)
    filters = {k: form.get(k) for k in FILTERS if form.get(k)}
    action = form.choice("action", ("extend", "release"))
    mode = form.choice("mode", ("days", "until"), default="days") if action == "extend" else ""
    days = form.integer("days", required=True, low=1, high=365) if mode == "days" else None
    day = form.day("until", required=True) if mode == "until" else None
    scope = form.choice("scope", ("selected", "all"), default="selected")
    references = page.values("ref")
    more = False
    if scope == "all":
        references, more = await release_screen.matching_references(
            page.ctx, flt=release_filter(filters)
        )
    if not references and form.ok:
        form.problem = page._("Select at least one booking.")
    if not form.ok:
        return await _screen(page, filters, form, status=400)
    actor = page.staff.actor()
    if action == "release" and form.get("confirm") != "1":
        return await _confirm_release(page, filters, references, more)
    if action == "release":
        result = await releases.bulk_release(
            page.ctx,
            actor=actor,
            references=references,
            include_not_due=form.get("include_not_due") == "1",
        )
    elif day is not None:
        result = await _extend_to(page, references, day)
    else:
        result = await releases.bulk_extend(
            page.ctx, actor=actor, references=references, by_days=days
        )
    _report(page, action, result, more)
    back = urlencode(filters)
    return page.redirect("/console/releases" + (f"?{back}" if back else ""))


async def _confirm_release(
    page: Page, filters: dict[str, str], references: list[str], more: bool
) -> Response:
    """Release now asks first, with the count, and names the holds that are not yet due.

    Decision: releasing is final (the places go back on sale, the customer is told), and the
    screen lists holds due soon beside overdue ones, so "all matching" easily covers holds
    whose customers still have time. The default button releases only the due ones; the
    others go only with a second, explicit button that names how many. The exact list shown
    is what the confirmation posts, so a hold added meanwhile is never released unseen.
    """
    candidates = await release_screen.release_candidates(page.ctx, references=references)
    return page.render(
        "console/releases_confirm.html",
        candidates=candidates,
        due=[c for c in candidates if c.due],
        later=[c for c in candidates if not c.due],
        gone=len(set(references) - {c.reference for c in candidates}),
        filters=filters,
        more=more,
        max_bulk=release_screen.MAX_BULK,
    )


async def _extend_to(page: Page, references: list[str], day: date) -> BulkResult:
    """A date means the end of that day at each booking's venue: one call per timezone."""
    zones = await release_screen.timezones_of(page.ctx, references=references)
    groups: dict[str, list[str]] = defaultdict(list)
    for reference in references:
        groups[zones.get(reference, page.ctx.settings.timezone)].append(reference)
    done: list[str] = []
    skipped: list[tuple[str, str]] = []
    for zone, refs in groups.items():
        until: datetime = deadline_on(day, zone)
        result = await releases.bulk_extend(
            page.ctx, actor=page.staff.actor(), references=refs, until=until
        )
        done += result.done
        skipped += result.skipped
    return BulkResult(tuple(done), tuple(skipped))


def _report(page: Page, action: str, result: BulkResult, more: bool) -> None:
    """Say what was done, and name every booking that was not (it changed meanwhile)."""
    _ = page._
    if result.done:
        text = _("Extended: {n}.") if action == "extend" else _("Released: {n}.")
        page.flash(text.format(n=len(result.done)))
    kept = [ref for ref, code in result.skipped if code == "not_yet_due"]
    if kept:
        listed = ", ".join(kept[:50])
        page.flash(_("Kept, not yet due, {n}: {list}").format(n=len(kept), list=listed), "warn")
    skipped = [(ref, code) for ref, code in result.skipped if code != "not_yet_due"]
    if skipped:
        reasons = {
            "not_held": _("no longer waiting for payment"),
            "date_in_past": _("the new deadline would already be past"),
            "date_after_performance": _("the performance is before that date"),
            "deadline_not_later": _("its deadline is already later"),
            "deadline_at_performance": _("its deadline is already the performance"),
            "unknown_booking": _("not found"),
        }
        listed = "; ".join(f"{ref} ({reasons.get(code, code)})" for ref, code in skipped[:50])
        page.flash(_("Not changed, {n}: {list}").format(n=len(skipped), list=listed), "warn")
    if more:
        page.flash(
            _("Only the first {n} matching holds were handled; apply again for the rest.").format(
                n=release_screen.MAX_BULK
            ),
            "warn",
        )


@guarded("releases")
async def policy(page: Page) -> Response:
    """Firm (expire at the deadline) or flexible (wait here for a decision), per event."""
    form = Form(page.form, page._)
    event_id = form.integer("event_id", required=True, low=1)
    chosen = form.choice("policy", catalog_admin.POLICIES)
    if form.ok and event_id is not None:
        await catalog_admin.set_event_rules(
            page.ctx, actor=page.staff.actor(), event_id=event_id, policy=chosen
        )
        page.flash(page._("Policy saved."))
    else:
        page.flash(page._("Choose an event and a policy."), "error")
    return page.redirect("/console/releases")


routes = [
    Route("/releases", releases_page, methods=["GET"]),
    Route("/releases", decide, methods=["POST"]),
    Route("/releases/policy", policy, methods=["POST"]),
]
