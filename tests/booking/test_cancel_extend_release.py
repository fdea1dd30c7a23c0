"""Cancelling with a reason, asking for more time, releasing holds, reminders (SPEC §3, §5)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking import outbox
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services import (
    bookings,
    cancellations,
    customers,
    extensions,
    holds,
    payments,
    releases,
    reminders,
    tickets,
)
from booking.tables.bookings import Booking, ExtensionRequest, HistoryEntry, Ticket
from booking.tables.catalog import Gauge, Seat
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView, OutboxView
from tests.builders import (
    STAFF,
    Catalog,
    as_customer,
    make_catalog,
    make_customer,
    make_held_booking,
)

ZURICH = ZoneInfo("Europe/Zurich")
# make_catalog's default rule, booked at the frozen 2026-11-23 09:00Z: 7 days, end of day.
FIRST_DEADLINE = datetime(2026, 11, 30, 23, 59, 59, tzinfo=ZURICH)


# --- reading the database back ---------------------------------------------------------------


async def _rows(ctx: Context, query) -> list[tuple]:
    async def work(session):
        return [tuple(r) for r in (await session.execute(query)).all()]

    return await ctx.db.read(work)


async def remaining(ctx: Context, cat: Catalog, area_id: int | None = None) -> int:
    query = select(Gauge.remaining).where(
        Gauge.performance_id == cat.performance_id, Gauge.area_id == (area_id or cat.ga_area)
    )
    ((value,),) = await _rows(ctx, query)
    return int(value)


async def outbox_rows(ctx: Context, booking_id: int, kind: str | None = None) -> list[tuple]:
    """(kind, channel, dedupe_key, payload) of a booking's outbox rows, oldest first."""
    query = (
        select(
            OutboxMessage.kind,
            OutboxMessage.channel,
            OutboxMessage.dedupe_key,
            OutboxMessage.payload,
        )
        .where(OutboxMessage.booking_id == booking_id)
        .order_by(OutboxMessage.id)
    )
    return [r for r in await _rows(ctx, query) if kind is None or r[0] == kind]


async def kinds(ctx: Context, booking_id: int) -> set[str]:
    return {r[0] for r in await outbox_rows(ctx, booking_id)}


async def stored(ctx: Context, booking_id: int) -> Booking:
    async def work(session):
        return await session.get(Booking, booking_id)

    return await ctx.db.read(work)


async def current(ctx: Context, booking: BookingView) -> BookingView:
    return await bookings.get_booking(ctx, actor=STAFF, reference=booking.reference)


async def refused(code: str, call) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await call
    assert caught.value.code == code
    return caught.value


async def sweep_past(ctx: Context, deadline: datetime) -> releases.SweepReport:
    ctx.clock.set(deadline + timedelta(minutes=1))
    return await releases.release_due(ctx)


async def pay(ctx: Context, booking: BookingView, event_id: str):
    return await payments.record_payment(
        ctx,
        actor=STAFF,
        reference=booking.reference,
        provider="test",
        provider_event_id=event_id,
        amount_minor=booking.total_minor,
        currency="CHF",
    )


# === cancel ===================================================================================


async def test_a_hold_can_be_cancelled_with_each_reason(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = [await make_held_booking(ctx, cat, ana, quantity=1) for _ in states.CANCEL_REASONS]
    assert await remaining(ctx, cat) == 95

    for booking, reason in zip(held, states.CANCEL_REASONS, strict=True):
        note = "  my sister is getting married  " if reason == "other" else ""
        view = await cancellations.cancel(
            ctx, actor=as_customer(ana), reference=booking.reference, reason=reason, note=note
        )
        assert view.status == "cancelled"
        row = await stored(ctx, booking.id)
        assert row.cancel_reason == reason
        assert row.cancel_note == note.strip()

    assert await remaining(ctx, cat) == 100
    history = await _rows(
        ctx,
        select(HistoryEntry.detail, HistoryEntry.actor_kind).where(
            HistoryEntry.action == "cancelled"
        ),
    )
    assert sorted(json.loads(d)["reason"] for d, _ in history) == sorted(states.CANCEL_REASONS)
    assert {who for _, who in history} == {"customer"}
    error = await refused(
        "not_held",
        cancellations.cancel(
            ctx, actor=as_customer(ana), reference=held[0].reference, reason="price"
        ),
    )
    assert error.params["status"] == "cancelled"
    assert await remaining(ctx, cat) == 100  # the places were given back once, not twice


async def test_other_needs_a_text_and_unknown_reasons_are_refused(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    def cancel(reason: str, note: str = ""):
        return cancellations.cancel(
            ctx, actor=as_customer(ana), reference=booking.reference, reason=reason, note=note
        )

    await refused("reason_required", cancel("other"))
    await refused("reason_required", cancel("other", "   "))
    await refused("bad_reason", cancel("bored"))
    await refused("bad_reason", cancel(""))

    assert (await current(ctx, booking)).status == "held"
    assert await remaining(ctx, cat) == 98


async def test_paid_tickets_cannot_be_cancelled_by_the_customer_unless_the_event_allows(ctx):
    cat = await make_catalog(ctx, cancellation_allowed=False)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await pay(ctx, booking, "evt_1")

    await refused(
        "cancellation_not_allowed",
        cancellations.cancel(
            ctx, actor=as_customer(ana), reference=booking.reference, reason="illness"
        ),
    )

    assert (await current(ctx, booking)).status == "confirmed"
    assert len(await tickets.list_tickets(ctx, actor=as_customer(ana), customer_id=ana.id)) == 2
    assert await remaining(ctx, cat) == 98


async def test_cancelling_paid_tickets_where_allowed_voids_them_and_flags_a_refund(ctx):
    cat = await make_catalog(ctx, cancellation_allowed=True)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await pay(ctx, booking, "evt_1")

    view = await cancellations.cancel(
        ctx, actor=as_customer(ana), reference=booking.reference, reason="illness"
    )

    assert view.status == "cancelled" and view.refund_due
    assert await tickets.list_tickets(ctx, actor=as_customer(ana), customer_id=ana.id) == []
    voided = await _rows(ctx, select(Ticket.voided_at).where(Ticket.booking_id == booking.id))
    assert len(voided) == 2 and all(v == ctx.clock.now() for (v,) in voided)
    assert await remaining(ctx, cat) == 100


async def test_cancelling_gives_back_standing_places_and_seats(ctx):
    cat = await make_catalog(ctx)
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")
    booking = await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=2), holds.Line(cat.seat_tariff, quantity=2)],
    )
    seat_ids = await _rows(
        ctx,
        select(Seat.id).where(
            Seat.area_id == cat.seated_area, Seat.row == "A", Seat.number.in_([1, 2])
        ),
    )

    await cancellations.cancel(
        ctx, actor=as_customer(ana), reference=booking.reference, reason="mistake"
    )

    assert await remaining(ctx, cat) == 100
    assert await remaining(ctx, cat, cat.seated_area) == 30
    again = await holds.hold(
        ctx,
        actor=as_customer(ben),
        customer_id=ben.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, seat_ids=tuple(i for (i,) in seat_ids))],
    )
    assert [i.seat for i in again.items] == [i.seat for i in booking.items if i.seat]
    assert "booking_cancelled" in await kinds(ctx, booking.id)


async def test_an_organization_contact_may_act_on_a_colleagues_booking_an_outsider_not(ctx):
    cat = await make_catalog(ctx)
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    ana = await make_customer(ctx, email="ana@acme.example")
    ben = await make_customer(ctx, email="ben@acme.example")
    for person in (ana, ben):
        await customers.add_contact(ctx, actor=STAFF, organization_id=org, customer_id=person.id)
    outsider = await make_customer(ctx, email="eve@example.org")
    bens = await make_held_booking(ctx, cat, await customers.get_customer(ctx, customer_id=ben.id))

    await refused(
        "not_owner",
        cancellations.cancel(
            ctx, actor=as_customer(outsider), reference=bens.reference, reason="price"
        ),
    )
    await refused(
        "not_owner",
        extensions.request_extension(ctx, actor=as_customer(outsider), reference=bens.reference),
    )
    assert (await current(ctx, bens)).status == "held"
    asked = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=bens.reference, until=date(2026, 12, 5)
    )
    view = await cancellations.cancel(
        ctx, actor=as_customer(ana, "email"), reference=bens.reference, reason="cannot_attend"
    )

    assert asked.status == "pending"
    assert view.status == "cancelled" and view.customer_id == ben.id
    who = await _rows(
        ctx,
        select(HistoryEntry.actor_id, HistoryEntry.channel).where(
            HistoryEntry.booking_id == bens.id, HistoryEntry.action == "cancelled"
        ),
    )
    assert who == [(ana.id, "email")]


# === extensions ===============================================================================


async def test_a_requested_date_means_the_end_of_that_day_and_one_request_waits_at_a_time(
    ctx,
):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    request = await extensions.request_extension(
        ctx,
        actor=as_customer(ana),
        reference=booking.reference,
        until=date(2026, 12, 4),
        reason="salary comes on the 3rd",
    )

    expected = datetime(2026, 12, 4, 23, 59, 59, tzinfo=ZURICH)
    assert request.status == "pending"
    assert request.requested_until == expected == request.proposed_until
    assert request.current_deadline == FIRST_DEADLINE
    assert (await current(ctx, booking)).deadline == FIRST_DEADLINE  # nothing granted yet
    assert [r.id for r in await extensions.list_requests(ctx)] == [request.id]
    await refused(
        "extension_pending",
        extensions.request_extension(
            ctx,
            actor=as_customer(ana, "email"),
            reference=booking.reference,
            until=date(2026, 12, 2),
        ),
    )
    assert len(await extensions.list_requests(ctx)) == 1


async def test_approval_grants_the_event_default_extra_days_and_tells_the_customer(ctx):
    cat = await make_catalog(ctx)  # the event's extension_days default: 7
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference
    )
    assert request.proposed_until == FIRST_DEADLINE + timedelta(days=7)

    decided = await extensions.approve_extension(ctx, actor=STAFF, request_id=request.id)

    assert decided.status == "approved"
    assert decided.granted_until == FIRST_DEADLINE + timedelta(days=7)
    assert (await current(ctx, booking)).deadline == FIRST_DEADLINE + timedelta(days=7)
    assert await extensions.list_requests(ctx) == []
    (notice,) = await outbox_rows(ctx, booking.id, "extension_approved")
    assert json.loads(notice[3])["until"] == decided.granted_until.isoformat()
    await refused(
        "unknown_extension", extensions.deny_extension(ctx, actor=STAFF, request_id=request.id)
    )


async def test_the_default_proposal_never_runs_past_the_performance(ctx):
    cat = await make_catalog(ctx, starts_in=timedelta(days=10))  # starts 3 days after deadline
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference
    )

    decided = await extensions.approve_extension(ctx, actor=STAFF, request_id=request.id)

    assert request.proposed_until == cat.starts_at == decided.granted_until
    assert (await current(ctx, booking)).deadline == cat.starts_at


async def test_a_denial_keeps_the_deadline_and_tells_the_customer_why(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference, until=date(2026, 12, 10)
    )

    await refused(
        "not_owner", extensions.deny_extension(ctx, actor=as_customer(ana), request_id=request.id)
    )
    decided = await extensions.deny_extension(
        ctx, actor=STAFF, request_id=request.id, message="The show is nearly sold out."
    )

    assert decided.status == "denied" and decided.granted_until is None
    assert (await current(ctx, booking)).deadline == FIRST_DEADLINE
    (notice,) = await outbox_rows(ctx, booking.id, "extension_denied")
    assert json.loads(notice[3])["message"] == "The show is nearly sold out."
    assert "extension_approved" not in await kinds(ctx, booking.id)
    # a decided request no longer blocks a new one
    again = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference, until=date(2026, 12, 3)
    )
    assert again.status == "pending"


async def test_only_a_first_request_within_the_automatic_limit_is_approved_at_once(ctx):
    cat = await make_catalog(ctx, auto_extend_days=3)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    too_long = await make_held_booking(ctx, cat, ana)

    first = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference, until=date(2026, 12, 2)
    )
    second = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference, until=date(2026, 12, 4)
    )
    beyond = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=too_long.reference, until=date(2026, 12, 4)
    )

    granted = datetime(2026, 12, 2, 23, 59, 59, tzinfo=ZURICH)
    assert (first.status, first.granted_until) == ("approved", granted)
    assert second.status == "pending"
    assert (await current(ctx, booking)).deadline == granted
    assert [r[0] for r in await outbox_rows(ctx, booking.id) if r[0].startswith("extension")] == [
        "extension_approved"
    ]
    assert beyond.status == "pending"
    assert (await current(ctx, too_long)).deadline == FIRST_DEADLINE


async def test_a_date_in_the_past_or_after_the_performance_or_for_a_checkout_is_refused(ctx):
    cat = await make_catalog(ctx)  # starts 2026-12-23 10:00 in Zurich
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    bought = await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=1)],
        buy=True,
    )

    def ask(day: date, reference: str = booking.reference):
        return extensions.request_extension(
            ctx, actor=as_customer(ana), reference=reference, until=day
        )

    await refused("date_in_past", ask(date(2026, 11, 22)))
    await refused("date_after_performance", ask(date(2026, 12, 23)))  # 23:59 is after 10:00
    await refused("date_after_performance", ask(date(2027, 1, 15)))
    await refused("not_held", ask(date(2026, 11, 24), bought.reference))  # pay now means now

    assert await _rows(ctx, select(func.count()).select_from(ExtensionRequest)) == [(0,)]
    assert (await ask(date(2026, 12, 22))).status == "pending"


# === release ==================================================================================


async def test_a_firm_hold_expires_at_its_deadline_and_gives_its_places_back(ctx):
    cat = await make_catalog(ctx, policy="firm")
    ana = await make_customer(ctx)
    booking = await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=2), holds.Line(cat.seat_tariff, quantity=1)],
    )

    ctx.clock.set(FIRST_DEADLINE - timedelta(seconds=1))
    assert (await releases.release_due(ctx)).expired == 0
    ctx.clock.set(FIRST_DEADLINE)
    report = await releases.release_due(ctx)

    assert (report.expired, report.overdue) == (1, 0)
    assert (await current(ctx, booking)).status == "expired"
    assert await remaining(ctx, cat) == 100
    assert await remaining(ctx, cat, cat.seated_area) == 30
    assert "booking_expired" in await kinds(ctx, booking.id)
    assert (await releases.release_due(ctx)).expired == 0  # a second sweep is a no-op


async def test_a_flexible_hold_becomes_overdue_and_keeps_its_places(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    report = await sweep_past(ctx, FIRST_DEADLINE)

    assert (report.expired, report.overdue) == (0, 1)
    assert (await current(ctx, booking)).status == "overdue"
    assert await remaining(ctx, cat) == 98
    assert "booking_overdue" in await kinds(ctx, booking.id)


async def test_extending_an_overdue_hold_reopens_it_and_rearms_its_reminders(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    ctx.clock.set(FIRST_DEADLINE - timedelta(hours=20))
    await reminders.plan_reminders(ctx)
    await sweep_past(ctx, FIRST_DEADLINE)

    result = await releases.bulk_extend(ctx, actor=STAFF, references=[booking.reference], by_days=5)

    # 5 days from today (it is overdue), to the end of that day at the venue.
    new_deadline = datetime(2026, 12, 6, 23, 59, 59, tzinfo=ZURICH).astimezone(UTC)
    assert result.done == (booking.reference,) and result.skipped == ()
    view = await current(ctx, booking)
    assert (view.status, view.deadline) == ("held", new_deadline)
    assert await remaining(ctx, cat) == 98
    assert "deadline_extended" in await kinds(ctx, booking.id)
    for moment in (new_deadline - timedelta(days=3), new_deadline - timedelta(hours=23)):
        ctx.clock.set(moment)
        await reminders.plan_reminders(ctx)
    keys = [r[2] for r in await outbox_rows(ctx, booking.id, "reminder")]
    assert keys == [
        f"reminder:{booking.id}:{FIRST_DEADLINE.astimezone(UTC).isoformat()}:1440:email",
        f"reminder:{booking.id}:{new_deadline.isoformat()}:4320:email",
        f"reminder:{booking.id}:{new_deadline.isoformat()}:1440:email",
    ]


async def test_releasing_an_overdue_hold_frees_its_places(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await sweep_past(ctx, FIRST_DEADLINE)

    result = await releases.bulk_release(ctx, actor=STAFF, references=[booking.reference])

    assert result.done == (booking.reference,)
    assert (await current(ctx, booking)).status == "expired"
    assert await remaining(ctx, cat) == 100
    assert "booking_released" in await kinds(ctx, booking.id)


async def test_a_bulk_action_skips_a_booking_paid_meanwhile_and_applies_to_the_rest(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    people = [await make_customer(ctx, email=f"p{i}@example.org") for i in range(3)]
    first, paid, third = [await make_held_booking(ctx, cat, p) for p in people]
    await sweep_past(ctx, FIRST_DEADLINE)
    refs = [first.reference, paid.reference, third.reference]
    assert (await pay(ctx, paid, "evt_paid")).outcome == "confirmed"  # while on the screen

    late = cat.starts_at + timedelta(days=3)
    extended = await releases.bulk_extend(ctx, actor=STAFF, references=refs, until=late)
    deadlines = {(await current(ctx, b)).deadline for b in (first, third)}
    # Extended, they are no longer due: releasing them anyway is the organizer's explicit call.
    released = await releases.bulk_release(ctx, actor=STAFF, references=refs, include_not_due=True)

    assert extended.done == (first.reference, third.reference)
    assert extended.skipped == ((paid.reference, "not_held"),)
    assert deadlines == {cat.starts_at}  # "extend to" never runs past the performance
    assert released.done == (first.reference, third.reference)
    assert released.skipped == ((paid.reference, "not_held"),)
    assert (await current(ctx, paid)).status == "confirmed"
    assert await remaining(ctx, cat) == 98  # only the paid places stay taken
    assert "booking_released" not in await kinds(ctx, paid.id)


async def test_overdue_holds_close_when_the_performance_starts(ctx):
    cat = await make_catalog(ctx, policy="flexible", starts_in=timedelta(days=10))
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await sweep_past(ctx, FIRST_DEADLINE)
    assert (await current(ctx, booking)).status == "overdue"

    ctx.clock.set(cat.starts_at - timedelta(seconds=1))
    assert (await releases.release_due(ctx)).expired == 0
    ctx.clock.set(cat.starts_at)
    report = await releases.release_due(ctx)

    assert report.expired == 1
    assert (await current(ctx, booking)).status == "expired"
    assert await remaining(ctx, cat) == 100
    assert "booking_expired" in await kinds(ctx, booking.id)


async def test_a_flexible_hold_due_at_the_start_closes_instead_of_waiting_on_the_organizer(ctx):
    # The deadline is capped by the start, so it falls due when the performance begins.
    cat = await make_catalog(ctx, policy="flexible", starts_in=timedelta(days=2))
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    assert booking.deadline == cat.starts_at

    report = await sweep_past(ctx, cat.starts_at)

    assert (report.expired, report.overdue) == (1, 0)
    assert (await current(ctx, booking)).status == "expired"
    assert await remaining(ctx, cat) == 100
    assert "booking_overdue" not in await kinds(ctx, booking.id)


# === reminders and their delivery =============================================================


class RecordingChannel:
    """A delivery channel fake (our boundary): records messages, or raises what it is told."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.delivered: list[OutboxView] = []

    async def deliver(self, message: OutboxView) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(message)

    def kinds(self) -> list[str]:
        return [m.kind for m in self.delivered]


async def test_default_offsets_give_one_three_day_and_one_day_reminder_per_booking(ctx):
    cat = await make_catalog(ctx)
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")
    early = await make_held_booking(ctx, cat, ana)
    ctx.clock.advance(timedelta(days=1, hours=5))
    late = await make_held_booking(ctx, cat, ben)
    assert late.deadline == early.deadline + timedelta(days=1)

    while ctx.clock.now() < late.deadline + timedelta(hours=6):
        for _ in range(2):  # a restart, or a second worker
            await reminders.plan_reminders(ctx)
        ctx.clock.advance(timedelta(hours=5))

    for booking in (early, late):
        rows = await outbox_rows(ctx, booking.id, "reminder")
        offsets = sorted(json.loads(payload)["offset_minutes"] for *_, payload in rows)
        assert offsets == [1440, 4320]


async def test_delivery_skips_a_reminder_whose_booking_was_paid_meanwhile(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    ctx.clock.set(FIRST_DEADLINE - timedelta(hours=20))
    assert await reminders.plan_reminders(ctx) == 1
    await pay(ctx, booking, "evt_1")
    email = RecordingChannel()
    ctx.channels["email"] = email

    report = await outbox.deliver_due(ctx)

    assert sorted(email.kinds()) == ["booking_held", "payment_confirmed"]
    assert (report.sent, report.skipped) == (2, 1)
    statuses = await _rows(ctx, select(OutboxMessage.kind, OutboxMessage.status))
    assert ("reminder", "skipped") in statuses
    assert (await outbox.deliver_due(ctx)).sent == 0  # nothing is delivered twice


async def only_message(ctx: Context) -> OutboxMessage:
    async def work(session):
        return (await session.execute(select(OutboxMessage))).scalar_one()

    return await ctx.db.read(work)


async def test_a_channel_that_says_retry_later_gets_the_message_again_after_a_backoff(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await make_held_booking(ctx, cat, ana, channel="email")
    email = RecordingChannel(outbox.RetryLater("smtp down"), outbox.RetryLater("429", after=300))
    ctx.channels["email"] = email
    start = ctx.clock.now()

    first = await outbox.deliver_due(ctx)
    message = await only_message(ctx)
    assert first.retried == 1 and email.delivered == []
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == start + outbox.backoff(1) == start + timedelta(seconds=30)
    assert message.last_error == "smtp down"

    ctx.clock.set(start + timedelta(seconds=29))
    assert (await outbox.deliver_due(ctx)).retried == 0  # not due yet
    ctx.clock.set(start + timedelta(seconds=30))
    assert (await outbox.deliver_due(ctx)).retried == 1  # told to wait 300 s this time
    assert (await only_message(ctx)).next_attempt_at == ctx.clock.now() + timedelta(seconds=300)
    ctx.clock.advance(timedelta(seconds=300))
    last = await outbox.deliver_due(ctx)

    assert last.sent == 1 and email.kinds() == ["booking_held"]
    message = await only_message(ctx)
    assert (message.status, message.attempts, message.sent_at) == ("sent", 2, ctx.clock.now())


async def test_a_message_that_keeps_failing_is_dead_after_the_maximum_attempts(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await make_held_booking(ctx, cat, ana, channel="email")
    attempts = ctx.settings.outbox_max_attempts
    email = RecordingChannel(*(outbox.RetryLater("smtp down") for _ in range(attempts + 1)))
    ctx.channels["email"] = email

    for _ in range(attempts - 1):
        assert (await outbox.deliver_due(ctx)).retried == 1
        ctx.clock.advance(timedelta(hours=1))  # past the longest backoff
    final = await outbox.deliver_due(ctx)

    assert final.dead == 1
    message = await only_message(ctx)
    assert (message.status, message.attempts) == ("dead", attempts)
    ctx.clock.advance(timedelta(days=1))
    assert (await outbox.deliver_due(ctx)).retried == 0 and email.delivered == []


async def test_an_unreachable_telegram_chat_marks_the_customer_and_falls_back_to_email(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await customers.link_telegram(
        ctx, actor=as_customer(ana), customer_id=ana.id, telegram_user_id=4242, chat_id=4242
    )
    booking = await make_held_booking(ctx, cat, ana, channel="email")
    telegram = RecordingChannel(outbox.Unreachable("bot was blocked by the user"))
    email = RecordingChannel()
    ctx.channels.update(telegram=telegram, email=email)

    first = await outbox.deliver_due(ctx)
    second = await outbox.deliver_due(ctx)

    assert first.dead == 1 and telegram.delivered == []
    assert second.sent == 1 and email.kinds() == ["booking_held"]
    assert email.delivered[0].booking is not None
    assert email.delivered[0].booking.reference == booking.reference

    async def customer(session):
        return await session.get(Customer, ana.id)

    assert (await ctx.db.read(customer)).telegram_unreachable
    rows = await outbox_rows(ctx, booking.id)
    assert [(kind, channel) for kind, channel, *_ in rows] == [
        ("booking_held", "telegram"),
        ("booking_held", "email"),
    ]
    # from now on, notices go by email only
    await cancellations.cancel(ctx, actor=STAFF, reference=booking.reference, reason="price")
    assert [c for k, c, *_ in await outbox_rows(ctx, booking.id) if k == "booking_cancelled"] == [
        "email"
    ]


# === found while writing these tests ==========================================================


async def test_approving_a_long_overdue_request_by_default_gives_days_from_today(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await sweep_past(ctx, FIRST_DEADLINE + timedelta(days=9))  # nobody looked for 9 days
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana), reference=booking.reference
    )

    decided = await extensions.approve_extension(ctx, actor=STAFF, request_id=request.id)

    # 7 days from today (not from the long-gone deadline), to the end of that day.
    assert decided.granted_until == datetime(2026, 12, 17, 23, 59, 59, tzinfo=ZURICH)  # 10 + 7
    assert (await current(ctx, booking)).status == "held"


async def test_a_reminder_delivered_after_the_hold_went_overdue_is_skipped(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    ctx.clock.set(FIRST_DEADLINE - timedelta(hours=20))
    await reminders.plan_reminders(ctx)
    email = RecordingChannel(*(outbox.RetryLater("smtp down") for _ in range(50)))
    ctx.channels["email"] = email
    while ctx.clock.now() < FIRST_DEADLINE:  # the mail server is down until after the deadline
        await outbox.deliver_due(ctx)
        ctx.clock.advance(timedelta(hours=4))
    await releases.release_due(ctx)
    assert (await current(ctx, booking)).status == "overdue"
    email.failures.clear()

    await outbox.deliver_due(ctx)

    assert "reminder" not in email.kinds()
    assert email.kinds().count("booking_overdue") == 1


async def test_a_hold_that_goes_overdue_again_after_an_extension_is_notified_again(ctx):
    cat = await make_catalog(ctx, policy="flexible")
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await sweep_past(ctx, FIRST_DEADLINE)
    await releases.bulk_extend(ctx, actor=STAFF, references=[booking.reference], by_days=2)
    new_deadline = (await current(ctx, booking)).deadline
    assert new_deadline is not None

    assert (await sweep_past(ctx, new_deadline)).overdue == 1

    assert len(await outbox_rows(ctx, booking.id, "booking_overdue")) == 2


async def test_asking_for_an_earlier_date_never_shortens_the_hold(ctx):
    cat = await make_catalog(ctx, auto_extend_days=3)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    with pytest.raises(BookingError) as refused:
        await extensions.request_extension(
            ctx, actor=as_customer(ana), reference=booking.reference, until=date(2026, 11, 25)
        )
    assert refused.value.code == "date_not_later"

    assert (await current(ctx, booking)).deadline == FIRST_DEADLINE
