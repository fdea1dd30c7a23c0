"""The inbox of requests for more time: approve with the proposed (editable) date, deny with a
message, the customer told either way; auto-approval per event."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import search
from booking.services import extensions
from tests.builders import as_customer, make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory, both


async def a_request(ctx: Context, *, reason: str = "Salary on the 25th", until: date | None = None):  # type: ignore[no-untyped-def]
    cat = await make_catalog(ctx, starts_in=timedelta(days=30))
    customer = await make_customer(ctx, email="asks@example.org", name="Asks Politely")
    booking = await make_held_booking(ctx, cat, customer, channel="email")
    request = await extensions.request_extension(
        ctx,
        actor=as_customer(customer, "email"),
        reference=booking.reference,
        reason=reason,
        until=until,
    )
    return cat, booking, request


@both
async def test_approve_with_the_proposed_date_and_the_customer_is_told(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _cat, booking, request = await a_request(app_ctx)
    console = await console_for("organizer")
    inbox = await console.get("/console/extensions")
    assert "Asks Politely" in inbox.text and "Salary on the 25th" in inbox.text
    proposed = request.proposed_until.astimezone(ZoneInfo("Europe/Zurich")).date().isoformat()
    assert re.search(rf'name="until" type="date" value="{proposed}"', inbox.text)
    approved = await console.post(f"/console/extensions/{request.id}/approve", {"until": proposed})
    assert approved.status_code == 303
    page = await console.get("/console/extensions")
    assert f"Approved: {booking.reference}" in page.text and "No request is waiting." in page.text
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.deadline == request.proposed_until
    assert detail.history[-1].action == "extension_approved"
    assert detail.history[-1].actor_name == "Organizer Test"
    assert any(n.kind == "extension_approved" and n.channel == "email" for n in detail.notices)


async def test_an_edited_date_past_the_performance_is_refused_next_to_the_field(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat, booking, request = await a_request(app_ctx)
    console = await console_for("organizer")
    await console.get("/console/extensions")
    late = (cat.starts_at + timedelta(days=3)).date().isoformat()
    refused = await console.post(f"/console/extensions/{request.id}/approve", {"until": late})
    assert refused.status_code == 400
    assert (
        "That date is after the performance." in refused.text and f'value="{late}"' in refused.text
    )
    empty = await console.post(f"/console/extensions/{request.id}/approve", {"until": ""})
    assert empty.status_code == 400 and "Required." in empty.text
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.deadline == booking.deadline and detail.pending_extension is not None


async def test_deny_with_a_message_and_a_second_click_is_told_it_was_decided(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _cat, booking, request = await a_request(app_ctx)
    console = await console_for("organizer")
    await console.get("/console/extensions")
    denied = await console.post(
        f"/console/extensions/{request.id}/deny", {"message": "The hall is sold out soon."}
    )
    assert denied.status_code == 303
    again = await console.post(f"/console/extensions/{request.id}/approve", {"until": "2026-12-01"})
    page = await console.get(again.headers["location"])
    assert "This request does not exist or was already decided." in page.text
    assert "The hall is sold out soon." in page.text  # in the latest decisions
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.deadline == booking.deadline
    assert any(n.kind == "extension_denied" for n in detail.notices)


async def test_auto_approval_is_set_per_event(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx, starts_in=timedelta(days=30))
    console = await console_for("organizer")
    await console.get("/console/extensions")
    bad = await console.post(
        "/console/extensions/settings",
        {"event_id": str(cat.event_id), "auto_extend_days": "-1", "extension_days": "7"},
    )
    assert "Enter whole numbers of days" in (await console.get(bad.headers["location"])).text
    saved = await console.post(
        "/console/extensions/settings",
        {"event_id": str(cat.event_id), "auto_extend_days": "3", "extension_days": "3"},
    )
    assert saved.status_code == 303
    customer = await make_customer(app_ctx)
    booking = await make_held_booking(app_ctx, cat, customer)
    request = await extensions.request_extension(
        app_ctx, actor=as_customer(customer), reference=booking.reference
    )
    assert request.status == "approved"  # +3 days, within the automatic limit
    assert "No request is waiting." in (await console.get("/console/extensions")).text
