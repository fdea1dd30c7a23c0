"""The release screen: overdue holds and holds due soon, filters, amounts at stake, and the
bulk decisions, including holds that changed while they were selected."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import search
from booking.services import catalog, payments, reminders
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory, both, overdue_holds, references


async def outbox_kinds(ctx: Context, reference: str) -> list[str]:
    detail = await search.booking_detail(ctx, reference=reference)
    return [n.kind for n in detail.notices]


async def test_the_screen_lists_overdue_and_due_soon_with_the_amounts_at_stake(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat, late = await overdue_holds(app_ctx, clock, 2)
    soon = await make_held_booking(  # made now: due in 2 days, inside the 7-day horizon
        app_ctx, cat, await make_customer(app_ctx, email="soon@example.org", name="Soon Due")
    )
    console = await console_for("organizer")
    page = await console.get("/console/releases")
    assert page.status_code == 200
    assert references(page.text) == [*(b.reference for b in late), soon.reference]
    assert "CHF\u00a0270.00" in page.text  # 3 holds x 2 places x 45.00
    overdue = await console.get("/console/releases", show="overdue")
    assert set(references(overdue.text)) == {b.reference for b in late}
    by_customer = await console.get("/console/releases", customer="soon@")
    assert references(by_customer.text) == [soon.reference]
    by_name = await console.get("/console/releases", customer="late payer 1")
    assert references(by_name.text) == [late[1].reference]
    today = clock.now().date().isoformat()
    ranged = await console.get("/console/releases", **{"from": today, "to": today})
    assert references(ranged.text) == []  # none has its deadline today
    other = await make_catalog(app_ctx, policy="flexible", name="Other Hall")
    empty = await console.get("/console/releases", event=str(other.event_id))
    assert "Nothing waiting" in empty.text


@both
async def test_extend_three_overdue_holds_by_seven_days_and_their_reminders_are_rearmed(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    _cat, late = await overdue_holds(app_ctx, clock, 3)
    console = await console_for("organizer")
    await console.get("/console/releases")
    done = await console.post(
        "/console/releases",
        {
            "action": "extend",
            "mode": "days",
            "days": "7",
            "scope": "selected",
            "ref": [b.reference for b in late],
        },
    )
    assert done.status_code == 303
    page = await console.get(done.headers["location"])
    assert "Extended: 3." in page.text
    assert "s-overdue" not in page.text  # now held again, due in 7 days
    # 7 days from today (they are overdue), to the end of that day at the venue.
    in_a_week = (clock.now() + timedelta(days=7)).astimezone(ZoneInfo("Europe/Zurich"))
    new_deadline = in_a_week.replace(hour=23, minute=59, second=59)
    for booking in late:
        detail = await search.booking_detail(app_ctx, reference=booking.reference)
        assert detail.booking.status == "held"
        assert detail.booking.deadline == new_deadline
        assert detail.history[-1].action == "deadline_extended"
        assert detail.history[-1].actor_name == "Organizer Test"
        assert "deadline_extended" in await outbox_kinds(app_ctx, booking.reference)
    clock.set(new_deadline - timedelta(days=3) + timedelta(minutes=1))  # 3 days before it
    assert await reminders.plan_reminders(app_ctx) == 3
    for booking in late:
        assert "reminder" in await outbox_kinds(app_ctx, booking.reference)


@both
async def test_a_hold_paid_while_selected_is_reported_and_the_others_released(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat, late = await overdue_holds(app_ctx, clock, 3)
    console = await console_for("organizer")
    await console.get("/console/releases")
    # The customer pays while the organizer is choosing.
    await payments.record_payment(
        app_ctx,
        actor=STAFF,
        reference=late[0].reference,
        provider="stripe",
        provider_event_id="evt_late",
        amount_minor=late[0].total_minor,
        currency="CHF",
    )
    done = await console.post(
        "/console/releases",
        {"action": "release", "confirm": "1", "ref": [b.reference for b in late]},
    )  # confirmed (the confirmation step: tests/console/test_extension_dates.py)
    page = await console.get(done.headers["location"])
    assert "Released: 2." in page.text
    assert f"{late[0].reference} (no longer waiting for payment)" in page.text
    statuses = [
        (await search.booking_detail(app_ctx, reference=b.reference)).booking.status for b in late
    ]
    assert statuses == ["confirmed", "expired", "expired"]
    left = await catalog.performances(app_ctx, event_id=cat.event_id)
    assert left[0].remaining == 100 + 30 - 2  # only the paid hold keeps its places
    assert "booking_released" in await outbox_kinds(app_ctx, late[1].reference)


async def test_extend_to_a_date_and_apply_to_everything_the_filters_match(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat, late = await overdue_holds(app_ctx, clock, 3)
    console = await console_for("admin")
    await console.get("/console/releases")
    until = (clock.now() + timedelta(days=5)).date()
    done = await console.post(
        "/console/releases",
        {
            "action": "extend",
            "mode": "until",
            "until": until.isoformat(),
            "scope": "all",
            "show": "overdue",
            "event": str(cat.event_id),
        },
    )
    assert done.status_code == 303
    assert "show=overdue" in done.headers["location"]
    for booking in late:
        detail = await search.booking_detail(app_ctx, reference=booking.reference)
        local = detail.booking.deadline.astimezone(
            __import__("zoneinfo").ZoneInfo(detail.booking.timezone)
        )  # type: ignore[union-attr]
        assert (local.date(), local.hour, local.minute) == (until, 23, 59)


async def test_bad_choices_come_back_with_what_was_chosen(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    _cat, late = await overdue_holds(app_ctx, clock, 1)
    console = await console_for("organizer")
    await console.get("/console/releases")
    nothing = await console.post(
        "/console/releases", {"action": "extend", "mode": "days", "days": "7", "scope": "selected"}
    )
    assert nothing.status_code == 400 and "Select at least one booking." in nothing.text
    zero = await console.post(
        "/console/releases",
        {
            "action": "extend",
            "mode": "days",
            "days": "0",
            "ref": late[0].reference,
            "customer": "Late",
        },
    )
    assert zero.status_code == 400 and "Out of range." in zero.text
    assert 'value="0"' in zero.text and 'value="Late"' in zero.text  # days and filter kept
    past = await console.post(
        "/console/releases",
        {"action": "extend", "mode": "until", "until": "2020-01-01", "ref": late[0].reference},
    )
    page = await console.get(past.headers["location"])
    assert "the new deadline would already be past" in page.text
    detail = await search.booking_detail(app_ctx, reference=late[0].reference)
    assert detail.booking.status == "overdue"


async def test_the_policy_of_each_event_is_set_here(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, policy="firm")
    console = await console_for("organizer")
    page = await console.get("/console/releases")
    assert "Test Concert" in page.text
    saved = await console.post(
        "/console/releases/policy", {"event_id": str(cat.event_id), "policy": "flexible"}
    )
    assert saved.status_code == 303
    page = await console.get("/console/releases")
    assert "Policy saved." in page.text
    assert 'value="flexible" selected' in page.text
    wrong = await console.post(
        "/console/releases/policy", {"event_id": str(cat.event_id), "policy": "lenient"}
    )
    assert "Choose an event and a policy." in (await console.get(wrong.headers["location"])).text
