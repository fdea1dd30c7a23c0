"""Paying: idempotent confirmation, tickets with QR codes, money never dropped (SPEC §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.context import Context
from booking.errors import BookingError
from booking.qr import qr_png, qr_svg
from booking.services import payments, releases, tickets
from booking.tables.bookings import Payment, Ticket
from booking.tables.catalog import Gauge
from booking.views import BookingView
from tests.builders import (
    STAFF,
    Catalog,
    as_customer,
    make_catalog,
    make_customer,
    make_held_booking,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def pay(ctx: Context, booking: BookingView, event_id: str, *, amount: int | None = None):
    return await payments.record_payment(
        ctx,
        actor=STAFF,
        reference=booking.reference,
        provider="test",
        provider_event_id=event_id,
        amount_minor=booking.total_minor if amount is None else amount,
        currency="chf",
    )


async def remaining(ctx: Context, cat: Catalog) -> int:
    query = select(Gauge.remaining).where(
        Gauge.performance_id == cat.performance_id, Gauge.area_id == cat.ga_area
    )
    return int(await ctx.db.read(lambda s: _scalar(s, query)))


async def ticket_secrets(ctx: Context, booking_id: int) -> list[str]:
    query = select(Ticket.secret).where(Ticket.booking_id == booking_id).order_by(Ticket.id)

    async def work(session):
        return list((await session.execute(query)).scalars())

    return await ctx.db.read(work)


async def payments_of(ctx: Context, booking_id: int) -> list[tuple[str, str, int]]:
    """(outcome, method, amount) of every payment row recorded for a booking."""
    query = (
        select(Payment.outcome, Payment.method, Payment.amount_minor)
        .where(Payment.booking_id == booking_id)
        .order_by(Payment.id)
    )

    async def work(session):
        return [tuple(r) for r in (await session.execute(query)).all()]

    return await ctx.db.read(work)


async def _scalar(session, query):
    return (await session.execute(query)).scalar_one()


async def expire(ctx: Context, booking: BookingView) -> None:
    assert booking.deadline is not None
    ctx.clock.set(booking.deadline + timedelta(minutes=1))
    assert (await releases.release_due(ctx)).expired >= 1


# --- confirming and tickets ------------------------------------------------------------------


async def test_payment_confirms_and_issues_one_ticket_per_item_with_unguessable_secrets(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana, quantity=3)

    result = await pay(ctx, booking, "evt_1")

    assert result.outcome == "confirmed"
    assert result.booking.status == "confirmed" and not result.booking.refund_due
    secrets = await ticket_secrets(ctx, booking.id)
    assert len(secrets) == 3 == len(set(secrets))
    assert all(len(s) >= 32 for s in secrets)  # 192 random bits, url-safe
    shown = await tickets.list_tickets(ctx, actor=as_customer(ana), customer_id=ana.id)
    assert sorted(t.secret for t in shown) == sorted(secrets)
    assert {t.reference for t in shown} == {booking.reference}
    assert await remaining(ctx, cat) == 97  # a sale keeps the places the hold took
    other = await make_held_booking(ctx, cat, ana, quantity=2)
    await pay(ctx, other, "evt_2")
    assert not set(await ticket_secrets(ctx, other.id)) & set(secrets)


def test_ticket_qr_code_renders_as_png_and_svg():
    png = qr_png("s3cr3t-ticket-secret")
    svg = qr_svg("s3cr3t-ticket-secret")

    assert png.startswith(PNG_SIGNATURE)
    assert b"<svg" in svg and svg.rstrip().endswith(b"</svg>")
    assert qr_png("another-secret") != png


async def test_the_same_provider_event_twice_confirms_once(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    first = await pay(ctx, booking, "evt_same")
    again = await pay(ctx, booking, "evt_same")

    assert (first.outcome, again.outcome) == ("confirmed", "duplicate")
    assert again.booking.status == "confirmed"
    assert len(await ticket_secrets(ctx, booking.id)) == 2
    assert await payments_of(ctx, booking.id) == [("confirmed", "online", 9000)]


async def test_a_wrong_amount_is_kept_for_refund_and_the_booking_stays_held(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    result = await pay(ctx, booking, "evt_short", amount=booking.total_minor - 100)

    assert result.outcome == "refund_due"
    assert result.booking.status == "held" and result.booking.refund_due
    assert await ticket_secrets(ctx, booking.id) == []
    assert await payments_of(ctx, booking.id) == [("refund_due", "online", 8900)]
    assert await remaining(ctx, cat) == 98


# --- late payments ---------------------------------------------------------------------------


async def test_a_payment_after_expiry_reinstates_the_booking_when_places_are_free(ctx):
    cat = await make_catalog(ctx, capacity=5)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana, quantity=2)
    await expire(ctx, booking)
    assert await remaining(ctx, cat) == 5

    result = await pay(ctx, booking, "evt_late")

    assert result.outcome == "reinstated"
    assert result.booking.status == "confirmed" and not result.booking.refund_due
    assert len(await ticket_secrets(ctx, booking.id)) == 2
    assert await remaining(ctx, cat) == 3


async def test_a_payment_after_expiry_when_sold_out_meanwhile_is_kept_for_refund(ctx):
    cat = await make_catalog(ctx, capacity=2)
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")
    late = await make_held_booking(ctx, cat, ana, quantity=2)
    await expire(ctx, late)
    taken = await make_held_booking(ctx, cat, ben, quantity=2)

    result = await pay(ctx, late, "evt_too_late")

    assert result.outcome == "refund_due"
    assert result.booking.status == "expired" and result.booking.refund_due
    assert await payments_of(ctx, late.id) == [("refund_due", "online", 9000)]  # never dropped
    assert await ticket_secrets(ctx, late.id) == []
    assert await remaining(ctx, cat) == 0  # ben keeps his places
    assert (await pay(ctx, taken, "evt_ben")).outcome == "confirmed"


async def test_a_second_payment_for_a_confirmed_booking_is_kept_for_refund(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)
    await pay(ctx, booking, "evt_1")

    second = await pay(ctx, booking, "evt_2")

    assert second.outcome == "refund_due"
    assert second.booking.status == "confirmed" and second.booking.refund_due
    assert len(await ticket_secrets(ctx, booking.id)) == 2  # no second set of tickets
    assert [p[0] for p in await payments_of(ctx, booking.id)] == ["confirmed", "refund_due"]


# --- box office ------------------------------------------------------------------------------


async def test_staff_records_a_box_office_payment_for_the_full_total(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana, quantity=2)

    result = await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=booking.reference.lower(), method="cash"
    )

    assert result.outcome == "confirmed"
    assert await payments_of(ctx, booking.id) == [("confirmed", "cash", 9000)]
    assert len(await ticket_secrets(ctx, booking.id)) == 2


async def test_box_office_payment_refuses_an_unknown_method_and_customers(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana)

    with pytest.raises(BookingError) as bad_method:
        await payments.record_box_office_payment(
            ctx, actor=STAFF, reference=booking.reference, method="bitcoin"
        )
    with pytest.raises(BookingError) as customer:
        await payments.record_box_office_payment(
            ctx, actor=as_customer(ana), reference=booking.reference, method="cash"
        )

    assert (bad_method.value.code, bad_method.value.params) == ("bad_value", {"field": "method"})
    assert customer.value.code == "not_owner"

    async def count(session):
        return (await session.execute(select(func.count()).select_from(Payment))).scalar_one()

    assert await ctx.db.read(count) == 0
