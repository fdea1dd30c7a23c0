"""Deadlines never move earlier from the console (issue 10, point 3): the inbox, the booking
page, the release screen one by one and in bulk refuse a date that is not later than the
current deadline, tell nobody anything, and say why; "by N days" ends at 23:59:59 at the venue;
"release now" confirms with the count and names the holds that are not yet due."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import search
from booking.services import extensions, releases
from booking.views import BookingView
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking
from tests.console.conftest import Console, ConsoleFactory, both, overdue_holds

ZURICH = ZoneInfo("Europe/Zurich")
NOT_LATER = "The new deadline must be later than the current one"
NOT_LATER_FR = "Le nouveau délai doit être postérieur au délai actuel"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZURICH)


async def state(ctx: Context, booking: BookingView) -> tuple[datetime | None, list[str]]:
    """The booking's deadline and the kinds of the notices queued for it."""
    detail = await search.booking_detail(ctx, reference=booking.reference)
    return detail.booking.deadline, [n.kind for n in detail.notices]


async def extended_to(ctx: Context, booking: BookingView, until: datetime) -> None:
    done = await releases.bulk_extend(ctx, actor=STAFF, references=[booking.reference], until=until)
    assert done.done == (booking.reference,)


def version_of(page: str, form: str) -> str:
    part = page.split(f'/{form}"', 1)[1]
    return re.search(r'name="version" value="([^"]+)"', part).group(1)  # type: ignore[union-attr]


async def flashes(console: Console, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    return (await console.get(response.headers["location"])).text


# --- the inbox ------------------------------------------------------------------------------


@both
async def test_approving_with_an_earlier_date_is_refused_in_the_inbox(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """Y9C-X94: 20 Dec became 10 Dec, and the customer was told "More time granted"."""
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx)
    booking = await make_held_booking(app_ctx, cat, ana, channel="email")
    await extended_to(app_ctx, booking, local(2026, 12, 20, 23, 59, 59))
    request = await extensions.request_extension(
        app_ctx, actor=as_customer(ana, "email"), reference=booking.reference
    )
    console = await console_for("organizer")
    await console.get("/console/extensions")

    refused = await console.post(
        f"/console/extensions/{request.id}/approve", {"until": "2026-12-10"}
    )

    assert refused.status_code == 400
    assert NOT_LATER in refused.text
    assert 'min="2026-12-21"' in refused.text  # the browser offers only later days
    deadline, told = await state(app_ctx, booking)
    assert deadline == local(2026, 12, 20, 23, 59, 59)
    assert "extension_approved" not in told
    assert [r.id for r in await extensions.list_requests(app_ctx)] == [request.id]
    await console.post("/console/language", {"language": "fr"})
    await console.get("/console/extensions")
    french = await console.post(
        f"/console/extensions/{request.id}/approve", {"until": "2026-12-10"}
    )
    assert french.status_code == 400 and NOT_LATER_FR in french.text


# --- the booking page -----------------------------------------------------------------------


@both
async def test_until_the_end_of_an_earlier_day_is_refused_on_the_booking_page(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), channel="email")
    await extended_to(app_ctx, booking, local(2026, 12, 15, 23, 59, 59))
    console = await console_for("organizer")
    page = (await console.get(f"/console/bookings/{booking.reference}")).text

    refused = await console.post(
        f"/console/bookings/{booking.reference}/extend",
        {"mode": "until", "until": "2026-12-03", "version": version_of(page, "extend")},
    )

    assert refused.status_code == 400
    error = re.search(r'<p class="error" id="extend-until-error">([^<]+)</p>', refused.text)
    assert error is not None and NOT_LATER in error.group(1)  # next to the date
    deadline, told = await state(app_ctx, booking)
    assert deadline == local(2026, 12, 15, 23, 59, 59)
    assert told.count("deadline_extended") == 1  # only the first, real extension


async def test_by_days_on_an_overdue_hold_ends_at_the_end_of_the_local_day_on_the_booking_page(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx, policy="flexible")
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), channel="email")
    clock.set(local(2026, 12, 2, 7, 4))  # overdue since 30 Nov
    await releases.release_due(app_ctx)
    console = await console_for("organizer")
    page = (await console.get(f"/console/bookings/{booking.reference}")).text

    done = await console.post(
        f"/console/bookings/{booking.reference}/extend",
        {"mode": "days", "days": "3", "version": version_of(page, "extend")},
    )

    assert done.status_code == 303
    deadline, _told = await state(app_ctx, booking)
    assert deadline == local(2026, 12, 5, 23, 59, 59)  # not Sat 5 Dec 07:04


# --- the release screen ---------------------------------------------------------------------


async def test_extending_one_hold_to_an_earlier_date_on_the_release_screen_changes_nothing(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    _cat, (late,) = await overdue_holds(app_ctx, clock, 1)
    await extended_to(app_ctx, late, local(2026, 12, 5, 23, 59, 59))
    console = await console_for("organizer")
    await console.get("/console/releases")

    page = await flashes(
        console,
        await console.post(
            "/console/releases",
            {"action": "extend", "mode": "until", "until": "2026-12-03", "ref": late.reference},
        ),
    )

    assert "Extended:" not in page
    assert f"Not changed, 1: {late.reference} (its deadline is already later)" in page
    deadline, told = await state(app_ctx, late)
    assert deadline == local(2026, 12, 5, 23, 59, 59)
    assert told.count("deadline_extended") == 1


@both
async def test_bulk_extend_skips_and_names_a_hold_whose_deadline_is_already_later(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    _cat, late = await overdue_holds(app_ctx, clock, 3)
    await extended_to(app_ctx, late[0], local(2026, 12, 10, 23, 59, 59))
    console = await console_for("organizer")
    await console.get("/console/releases")

    page = await flashes(
        console,
        await console.post(
            "/console/releases",
            {
                "action": "extend",
                "mode": "until",
                "until": "2026-12-05",
                "ref": [b.reference for b in late],
            },
        ),
    )

    assert "Extended: 2." in page
    assert f"Not changed, 1: {late[0].reference} (its deadline is already later)" in page
    assert (await state(app_ctx, late[0]))[0] == local(2026, 12, 10, 23, 59, 59)
    for booking in late[1:]:
        assert (await state(app_ctx, booking))[0] == local(2026, 12, 5, 23, 59, 59)


async def test_bulk_by_days_on_overdue_holds_ends_at_23_59_59_at_the_venue(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    _cat, late = await overdue_holds(app_ctx, clock, 2)  # now 26 Nov 10:00 in Zurich
    console = await console_for("organizer")
    await console.get("/console/releases")

    await console.post(
        "/console/releases",
        {"action": "extend", "mode": "days", "days": "7", "ref": [b.reference for b in late]},
    )

    for booking in late:
        assert (await state(app_ctx, booking))[0] == local(2026, 12, 3, 23, 59, 59)


# --- release now ----------------------------------------------------------------------------


@both
async def test_release_now_confirms_the_count_and_names_the_holds_not_yet_due(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat, late = await overdue_holds(app_ctx, clock, 2)
    fresh = await make_held_booking(  # due in 2 days: on the screen, not yet due
        app_ctx, cat, await make_customer(app_ctx, email="f@example.org", name="Still In Time")
    )
    refs = [*(b.reference for b in late), fresh.reference]
    console = await console_for("organizer")
    await console.get("/console/releases")

    asked = await console.post(
        "/console/releases", {"action": "release", "scope": "selected", "ref": refs}
    )

    assert asked.status_code == 200  # a confirmation, nothing released yet
    assert "Holds selected: 3" in asked.text
    assert "Not yet due: 1" in asked.text
    listed = asked.text.split("not-yet-due", 1)[1].split("</table>", 1)[0]
    assert fresh.reference in listed and "Still In Time" in listed
    assert all(b.reference not in listed for b in late)
    assert "Release the 2 that are due" in asked.text
    assert {(await state(app_ctx, b))[1].count("booking_released") for b in late} == {0}

    page = await flashes(
        console,
        await console.post(
            "/console/releases",
            {"action": "release", "confirm": "1", "include_not_due": "0", "ref": refs},
        ),
    )

    assert "Released: 2." in page
    assert f"Kept, not yet due, 1: {fresh.reference}" in page
    statuses = [(await search.booking_detail(app_ctx, reference=r)).booking.status for r in refs]
    assert statuses == ["expired", "expired", "held"]
    assert "booking_released" not in (await state(app_ctx, fresh))[1]

    page = await flashes(
        console,
        await console.post(
            "/console/releases",
            {"action": "release", "confirm": "1", "include_not_due": "1", "ref": [fresh.reference]},
        ),
    )
    assert "Released: 1." in page
    assert (await search.booking_detail(app_ctx, reference=fresh.reference)).booking.status == (
        "expired"
    )


async def test_release_all_matching_confirms_with_the_number_of_holds_it_covers(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    _cat, late = await overdue_holds(app_ctx, clock, 3)
    console = await console_for("organizer")
    await console.get("/console/releases")

    asked = await console.post(
        "/console/releases", {"action": "release", "scope": "all", "show": "overdue"}
    )

    assert asked.status_code == 200
    assert "Holds selected: 3" in asked.text and "Not yet due: 0" in asked.text
    assert all(f'name="ref" value="{b.reference}"' in asked.text for b in late)
    assert 'name="show" value="overdue"' in asked.text  # back to the same filters afterwards
