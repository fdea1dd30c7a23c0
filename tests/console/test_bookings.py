"""Bookings: search, detail, and what staff do to one (pay, cancel, extend, resend, refund),
including the refusals: bad values, a booking that changed meanwhile."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import search
from booking.queries.search import BookingFilter
from booking.services import catalog, customers, payments
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking
from tests.console.conftest import Console, ConsoleFactory, both, references
from tests.console.test_desk import desk_form


def version_of(page: str, form: str) -> str:
    """The version hidden in one action form of a booking page."""
    part = page.split(f'/{form}"', 1)[1]
    return re.search(r'name="version" value="([^"]+)"', part).group(1)  # type: ignore[union-attr]


async def open_booking(console: Console, reference: str) -> str:
    page = await console.get(f"/console/bookings/{reference}")
    assert page.status_code == 200, page.text
    return page.text


@both
async def test_search_by_reference_name_email_and_filters(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx, email="ana.lopez@example.org", name="Ana López")
    bob = await make_customer(app_ctx, email="bob@example.org", name="Bob Marley")
    first = await make_held_booking(app_ctx, cat, ana)
    second = await make_held_booking(app_ctx, cat, bob)
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=second.reference, method="cash"
    )
    console = await console_for("box_office")
    typed = first.reference.lower().replace("-", " ")  # as read over the phone
    found = await console.get("/console/bookings", q=typed)
    assert found.status_code == 303 and found.headers["location"].endswith(first.reference)
    by_name = await console.get("/console/bookings", q="lópez")
    assert references(by_name.text) == [first.reference]
    by_email = await console.get("/console/bookings", q="BOB@exa")
    assert references(by_email.text) == [second.reference]
    paid = await console.get("/console/bookings", status="confirmed", event=str(cat.event_id))
    assert references(paid.text) == [second.reference]
    day = cat.starts_at.date().isoformat()
    on_day = await console.get("/console/bookings", day=day)
    assert set(references(on_day.text)) == {first.reference, second.reference}
    nothing = await console.get("/console/bookings", q="nobody at all")
    assert "No bookings." in nothing.text


async def test_the_search_is_paged(app_ctx: Context, console_for: ConsoleFactory) -> None:
    cat = await make_catalog(app_ctx, capacity=200)
    customer = await make_customer(app_ctx)
    for _ in range(3):
        await make_held_booking(app_ctx, cat, customer, quantity=1)
    page = await search.search_bookings(app_ctx, flt=BookingFilter(), page=1, per_page=2)
    assert len(page.rows) == 2 and page.has_next and not page.has_previous
    last = await search.search_bookings(app_ctx, flt=BookingFilter(), page=2, per_page=2)
    assert len(last.rows) == 1 and not last.has_next
    console = await console_for("admin")
    listing = await console.get("/console/bookings", q="Ana")
    assert len(references(listing.text)) == 3 and "page=2" not in listing.text


async def test_the_detail_shows_items_history_and_notices(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), channel="email")
    console = await console_for("box_office")
    page = await open_booking(console, booking.reference)
    assert "Standing" in page and "Ana Test" in page and "Held" in page
    assert "Booking held" in page  # the notice queued to the customer
    assert "Record CHF\u00a090.00 paid" in page
    assert "/extend" not in page and "/cancel" not in page  # not for the box office


@both
async def test_the_box_office_takes_a_payment_and_tickets_are_issued(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), quantity=2)
    console = await console_for("box_office")
    page = await open_booking(console, booking.reference)
    paid = await console.post(
        f"/console/bookings/{booking.reference}/pay",
        {"method": "card", "version": version_of(page, "pay")},
    )
    assert paid.status_code == 303
    after = await open_booking(console, booking.reference)
    assert "tickets are issued" in after
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.status == "confirmed"
    assert len(detail.tickets) == 2 and all(t.voided_at is None for t in detail.tickets)
    assert [(p.method, p.amount_minor) for p in detail.payments] == [("card", 9000)]
    assert detail.history[-1].actor_name == "Box Office Test"
    assert any(n.kind == "payment_confirmed" for n in detail.notices)


@both
async def test_a_payment_on_a_booking_paid_meanwhile_is_refused_and_shows_it_now(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    console = await console_for("box_office")
    page = await open_booking(console, booking.reference)
    # Meanwhile the customer pays online.
    await payments.record_payment(
        app_ctx,
        actor=STAFF,
        reference=booking.reference,
        provider="stripe",
        provider_event_id="evt_1",
        amount_minor=booking.total_minor,
        currency="CHF",
    )
    again = await console.post(
        f"/console/bookings/{booking.reference}/pay",
        {"method": "cash", "version": version_of(page, "pay")},
    )
    assert again.status_code == 409
    assert "changed while you were looking at it" in again.text and "Paid" in again.text
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert [p.provider for p in detail.payments] == ["stripe"]


@both
async def test_cancel_needs_a_reason_and_keeps_what_was_typed(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), quantity=3)
    console = await console_for("organizer")
    page = await open_booking(console, booking.reference)
    path = f"/console/bookings/{booking.reference}/cancel"
    version = version_of(page, "cancel")
    no_reason = await console.post(path, {"reason": "", "note": "typed", "version": version})
    assert no_reason.status_code == 400 and "Required." in no_reason.text
    assert 'value="typed"' in no_reason.text
    other = await console.post(path, {"reason": "other", "note": "", "version": version})
    assert other.status_code == 400 and "Please give a reason." in other.text
    done = await console.post(
        path, {"reason": "other", "note": "asked by phone", "version": version}
    )
    assert done.status_code == 303
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.status == "cancelled" and detail.cancel_note == "asked by phone"
    assert detail.history[-1].detail["reason"] == "other"
    left = await catalog.performances(app_ctx, event_id=cat.event_id)
    assert left[0].remaining == 100 + 30  # every place back on sale


@both
async def test_extend_by_days_or_to_a_date_never_past_the_performance(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, starts_in=timedelta(days=20))
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), channel="email")
    console = await console_for("organizer")
    path = f"/console/bookings/{booking.reference}/extend"
    page = await open_booking(console, booking.reference)
    too_late = (cat.starts_at + timedelta(days=2)).date().isoformat()
    refused = await console.post(
        path, {"mode": "until", "until": too_late, "version": version_of(page, "extend")}
    )
    assert refused.status_code == 400
    assert "That date is after the performance." in refused.text and too_late in refused.text
    bad = await console.post(
        path, {"mode": "days", "days": "0", "version": version_of(page, "extend")}
    )
    assert bad.status_code == 400 and "Out of range." in bad.text
    done = await console.post(
        path, {"mode": "days", "days": "3", "version": version_of(page, "extend")}
    )
    assert done.status_code == 303
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.deadline == booking.deadline + timedelta(days=3)  # type: ignore[operator]
    assert any(n.kind == "deadline_extended" for n in detail.notices)
    page = await open_booking(console, booking.reference)
    on_the_day = await console.post(
        path,
        {
            "mode": "until",
            "until": cat.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Zurich"))
            .date()
            .isoformat(),
            "version": version_of(page, "extend"),
        },
    )
    assert on_the_day.status_code == 303  # the performance's own day: until it starts
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert detail.booking.deadline == cat.starts_at


async def test_resend_twice_from_one_page_queues_one_notice(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx), channel="email")
    console = await console_for("box_office")
    page = await open_booking(console, booking.reference)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"what": "booking", "nonce": nonce, "version": version_of(page, "resend")}
    for _ in range(2):  # a double click
        sent = await console.post(f"/console/bookings/{booking.reference}/resend", form)
        assert sent.status_code == 303
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert [n.kind for n in detail.notices].count("booking_held") == 2  # first + one resend
    assert [h.action for h in detail.history].count("resent") == 1
    tickets = await console.post(
        f"/console/bookings/{booking.reference}/resend",
        {"what": "tickets", "nonce": "another-nonce", "version": detail.version},
    )
    assert tickets.status_code == 400  # not paid: no tickets to send


async def test_a_late_payment_flagged_for_refund_is_settled(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    await payments.record_payment(
        app_ctx,
        actor=STAFF,
        reference=booking.reference,
        provider="stripe",
        provider_event_id="evt_wrong",
        amount_minor=1,
        currency="CHF",
    )
    console = await console_for("organizer")
    board = await console.get("/console/")
    assert "Payments to refund" in board.text
    listed = await console.get("/console/bookings", refund="1")
    assert references(listed.text) == [booking.reference]
    page = await open_booking(console, booking.reference)
    done = await console.post(
        f"/console/bookings/{booking.reference}/refund",
        {"note": "bank transfer back", "version": version_of(page, "refund")},
    )
    assert done.status_code == 303
    detail = await search.booking_detail(app_ctx, reference=booking.reference)
    assert not detail.booking.refund_due and detail.history[-1].action == "refunded"


@both
async def test_a_walk_in_booking_paid_at_once_and_a_phone_hold(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    form = await console.get("/console/bookings/new", performance=str(cat.performance_id))
    assert "Standing" in form.text and "Seated" in form.text
    paid = await console.post(
        "/console/bookings/new",
        {
            "form_key": await desk_form(console, cat),
            "performance": str(cat.performance_id),
            f"qty_{cat.ga_tariff}": "2",
            f"qty_{cat.seat_tariff}": "",
            "email": "walkin@example.org",
            "name": "Walk In",
            "phone": "+41 79 000 00 00",
            "language": "fr",
            "payment": "cash",
        },
    )
    assert paid.status_code == 303
    reference = paid.headers["location"].rsplit("/", 1)[1]
    detail = await search.booking_detail(app_ctx, reference=reference)
    assert detail.booking.status == "confirmed" and len(detail.tickets) == 2
    assert detail.row.customer_email == "walkin@example.org" and detail.booking.channel == "console"
    known = await customers.find_by_email(app_ctx, email="walkin@example.org")
    assert known is not None
    held = await console.post(
        "/console/bookings/new",
        {
            "form_key": await desk_form(console, cat),
            "performance": str(cat.performance_id),
            "customer_id": str(known.id),
            f"qty_{cat.seat_tariff}": "3",
            "payment": "hold",
        },
    )
    assert held.status_code == 303
    detail = await search.booking_detail(
        app_ctx, reference=held.headers["location"].rsplit("/", 1)[1]
    )
    assert detail.booking.status == "held" and len({i.seat for i in detail.booking.items}) == 3


async def test_a_new_booking_with_bad_values_comes_back_with_them(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx, capacity=2)
    console = await console_for("box_office")
    base = {
        "form_key": await desk_form(console, cat),
        "performance": str(cat.performance_id),
        "payment": "hold",
        "language": "en",
    }
    bad = await console.post(
        "/console/bookings/new",
        {**base, f"qty_{cat.ga_tariff}": "-1", "email": "", "name": "Someone"},
    )
    assert bad.status_code == 400
    assert "Out of range." in bad.text and 'value="Someone"' in bad.text
    assert "Give an email or a phone number." in bad.text  # a phone alone would do (test_desk)
    sold_out = await console.post(
        "/console/bookings/new",
        {**base, f"qty_{cat.ga_tariff}": "3", "email": "x@example.org", "name": "Too Many"},
    )
    assert sold_out.status_code == 400
    # Two places, three asked: it says how many are left (issue 11).
    assert "Sorry, only 2 remaining for this date." in sold_out.text
    assert 'value="3"' in sold_out.text
    bad_email = await console.post(
        "/console/bookings/new",
        {**base, f"qty_{cat.ga_tariff}": "1", "email": "not-an-email", "name": "X"},
    )
    assert bad_email.status_code == 400 and "valid email address" in bad_email.text


async def test_the_csv_export_streams_every_match_and_defuses_formulas(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    evil = await make_customer(app_ctx, email="evil@example.org", name="=HYPERLINK(1)")
    booking = await make_held_booking(app_ctx, cat, evil)
    console = await console_for("organizer")
    export = await console.get("/console/bookings.csv", q="evil@")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["reference", "status", "customer"]
    assert rows[1][0] == booking.reference and rows[1][2] == "'=HYPERLINK(1)"
    desk = await console_for("box_office")
    assert (await desk.get("/console/bookings.csv")).status_code == 403


async def test_a_customer_in_telegram_sees_an_organizer_booking_once_linked(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """SPEC §3: a booking made at the desk shows in the bot as soon as the account is linked."""
    cat = await make_catalog(app_ctx)
    console = await console_for("box_office")
    made = await console.post(
        "/console/bookings/new",
        {
            "form_key": await desk_form(console, cat),
            "performance": str(cat.performance_id),
            f"qty_{cat.ga_tariff}": "1",
            "email": "phone@example.org",
            "name": "Phone Caller",
            "language": "en",
            "payment": "hold",
        },
    )
    reference = made.headers["location"].rsplit("/", 1)[1]
    customer = await customers.find_by_email(app_ctx, email="phone@example.org")
    assert customer is not None
    await customers.link_telegram(
        app_ctx,
        actor=as_customer(customer),
        customer_id=customer.id,
        telegram_user_id=7,
        chat_id=7,
    )
    from booking.services import bookings

    mine = await bookings.my_bookings(app_ctx, customer_id=customer.id)
    assert [b.reference for b in mine] == [reference]


async def test_an_unknown_reference_gets_a_clear_page(console_for: ConsoleFactory) -> None:
    console = await console_for("box_office")
    missing = await console.get("/console/bookings/K7M-4QX")
    assert missing.status_code == 404 and "There is no booking K7M-4QX." in missing.text


async def test_a_clock_past_the_deadline_still_shows_the_hold_as_waiting(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx, policy="flexible", days_after_booking=1)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    clock.advance(timedelta(days=3))
    console = await console_for("organizer")
    page = await open_booking(console, booking.reference)
    assert "Take the payment" in page and "Give more time" in page
