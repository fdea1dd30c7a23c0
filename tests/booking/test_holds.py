"""Holding places: reserve now, pay before the deadline (SPEC §2, §3, §11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.actors import Channel
from booking.context import Context
from booking.errors import BookingError
from booking.services import catalog, customers, holds
from booking.tables.bookings import Booking, HistoryEntry, Item
from booking.tables.catalog import Gauge, Seat, SeatClaim
from booking.tables.outbox import OutboxMessage
from booking.views import BookingView, CustomerView
from tests.builders import (
    STAFF,
    Catalog,
    as_customer,
    make_catalog,
    make_customer,
    make_held_booking,
)

# --- reading the database back (our own tables, no mocks) ------------------------------------


async def remaining(ctx: Context, cat: Catalog, area_id: int) -> int:
    query = select(Gauge.remaining).where(
        Gauge.performance_id == cat.performance_id, Gauge.area_id == area_id
    )
    return int(await ctx.db.read(lambda s: _scalar(s, query)))


async def count(ctx: Context, table: type) -> int:
    return int(await ctx.db.read(lambda s: _scalar(s, select(func.count()).select_from(table))))


async def _scalar(session, query):
    return (await session.execute(query)).scalar_one()


async def seat_ids(ctx: Context, cat: Catalog, *labels: str) -> tuple[int, ...]:
    """Seat ids by "A3"-style labels (row letter, seat number) in the Stalls."""

    async def work(session):
        rows = await session.execute(select(Seat).where(Seat.area_id == cat.seated_area))
        by_label = {f"{s.row}{s.number}": s.id for s in rows.scalars()}
        return tuple(by_label[label] for label in labels)

    return await ctx.db.read(work)


async def notices(ctx: Context, booking_id: int) -> set[tuple[str, str]]:
    """(kind, channel) of every outbox row queued for a booking."""
    query = select(OutboxMessage.kind, OutboxMessage.channel).where(
        OutboxMessage.booking_id == booking_id
    )
    return set(await ctx.db.read(lambda s: _all(s, query)))


async def _all(session, query):
    return [tuple(row) for row in (await session.execute(query)).all()]


async def refused(code: str, call) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await call
    assert caught.value.code == code
    return caught.value


def seat_numbers(booking) -> list[str]:
    """Row B, seat 4 -> "B4", in item order."""
    return [f"{item.seat.row}{item.seat.number}" for item in booking.items]


# --- general admission and seats -------------------------------------------------------------


async def test_general_admission_hold_decrements_the_gauge(ctx):
    cat = await make_catalog(ctx, capacity=100)
    ana = await make_customer(ctx)

    booking = await make_held_booking(ctx, cat, ana, quantity=3)

    assert booking.status == "held"
    assert len(booking.items) == 3
    assert all(item.seat is None for item in booking.items)
    assert booking.total_minor == 3 * 4500
    assert booking.deadline is not None and booking.deadline > ctx.clock.now()
    assert await remaining(ctx, cat, cat.ga_area) == 97
    assert await remaining(ctx, cat, cat.seated_area) == 30


async def test_chosen_seats_are_held_and_claimed(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    wanted = await seat_ids(ctx, cat, "B4", "B5")

    booking = await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, seat_ids=wanted)],
    )

    assert seat_numbers(booking) == ["B4", "B5"]
    assert booking.total_minor == 2 * 6500
    assert await remaining(ctx, cat, cat.seated_area) == 28
    assert await count(ctx, SeatClaim) == 2


async def test_best_available_seats_are_adjacent_in_one_row(ctx):
    cat = await make_catalog(ctx)  # rows A, B, C of 10 seats
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")
    await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, seat_ids=await seat_ids(ctx, cat, "A3"))],
    )

    four = await holds.hold(
        ctx,
        actor=as_customer(ben),
        customer_id=ben.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, quantity=4)],
    )
    # Row A still has 5 free seats, but only A4..A10 are side by side... and 7 are wanted.
    seven = await holds.hold(
        ctx,
        actor=as_customer(ben),
        customer_id=ben.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, quantity=7)],
    )

    assert seat_numbers(four) == ["A4", "A5", "A6", "A7"]
    assert seat_numbers(seven) == [f"B{n}" for n in range(1, 8)]


async def test_sold_out_general_admission_is_refused(ctx):
    cat = await make_catalog(ctx, capacity=3)
    ana = await make_customer(ctx)
    await make_held_booking(ctx, cat, ana, quantity=2)

    # One left: asking for two says so (issue 11); none left is "sold_out".
    error = await refused("not_enough_left", make_held_booking(ctx, cat, ana, quantity=2))
    assert error.params == {"left": 1}

    assert await remaining(ctx, cat, cat.ga_area) == 1
    assert await make_held_booking(ctx, cat, ana, quantity=1)
    assert await remaining(ctx, cat, cat.ga_area) == 0
    await refused("sold_out", make_held_booking(ctx, cat, ana, quantity=1))


async def test_more_seats_together_than_a_row_has_is_sold_out_and_takes_nothing(ctx):
    cat = await make_catalog(ctx, max_per_order=20)  # 30 seats, but rows of 10
    ana = await make_customer(ctx)

    await refused(
        "sold_out",
        holds.hold(
            ctx,
            actor=as_customer(ana),
            customer_id=ana.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.seat_tariff, quantity=11)],
        ),
    )

    assert await remaining(ctx, cat, cat.seated_area) == 30
    assert await count(ctx, Booking) == 0


async def test_a_seat_someone_holds_is_refused_by_name(ctx):
    cat = await make_catalog(ctx)
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")
    a1 = await seat_ids(ctx, cat, "A1")
    await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, seat_ids=a1)],
    )

    error = await refused(
        "seat_taken",
        holds.hold(
            ctx,
            actor=as_customer(ben),
            customer_id=ben.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.seat_tariff, seat_ids=a1)],
        ),
    )

    assert error.params["seat"] == "A1"


# --- what a hold may contain -----------------------------------------------------------------


async def test_no_places_or_more_than_the_event_allows_per_order_is_a_bad_quantity(ctx):
    cat = await make_catalog(ctx, max_per_order=4)
    ana = await make_customer(ctx)

    error = await refused("bad_quantity", make_held_booking(ctx, cat, ana, quantity=5))
    await refused("bad_quantity", make_held_booking(ctx, cat, ana, quantity=0))

    assert error.params["max"] == 4
    assert await remaining(ctx, cat, cat.ga_area) == 100
    assert (await make_held_booking(ctx, cat, ana, quantity=4)).status == "held"


async def test_a_tariff_of_another_event_is_unknown(ctx):
    cat = await make_catalog(ctx)
    other = await make_catalog(ctx, name="Autre Salle")
    ana = await make_customer(ctx)

    await refused(
        "unknown_tariff",
        holds.hold(
            ctx,
            actor=as_customer(ana),
            customer_id=ana.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(other.ga_tariff, quantity=1)],
        ),
    )
    assert await remaining(ctx, cat, cat.ga_area) == 100


# --- who may hold, and through which channel -------------------------------------------------


async def restricted_tariff(ctx: Context, cat: Catalog, **rules) -> int:
    return await catalog.create_tariff(
        ctx,
        actor=STAFF,
        event_id=cat.event_id,
        area_id=cat.ga_area,
        name="Restricted",
        price_minor=3000,
        **rules,
    )


async def hold_one(
    ctx: Context,
    cat: Catalog,
    customer: CustomerView,
    tariff: int,
    *,
    channel: Channel = "telegram",
    buy: bool = False,
) -> BookingView:
    return await holds.hold(
        ctx,
        actor=as_customer(customer, channel),
        customer_id=customer.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(tariff, quantity=1)],
        buy=buy,
    )


async def test_a_channel_that_may_not_hold_the_tariff_is_refused(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    tariff = await restricted_tariff(ctx, cat, hold_channels=("console",))

    error = await refused("not_eligible_channel", hold_one(ctx, cat, ana, tariff))

    assert error.params["mode"] == "held"
    staff_made = await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(tariff, quantity=1)],
    )
    assert (staff_made.status, staff_made.channel) == ("held", "console")


async def test_a_buy_only_channel_can_buy_but_not_hold(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    tariff = await restricted_tariff(
        ctx, cat, hold_channels=("console",), buy_channels=("telegram", "console")
    )

    await refused("not_eligible_channel", hold_one(ctx, cat, ana, tariff))
    bought = await hold_one(ctx, cat, ana, tariff, buy=True)
    error = await refused(
        "not_eligible_channel", hold_one(ctx, cat, ana, tariff, channel="email", buy=True)
    )

    assert bought.checkout and bought.status == "held"
    assert error.params["mode"] == "bought"


async def test_a_customer_type_the_tariff_is_not_for_cannot_hold_it_but_may_buy(ctx):
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)  # individual
    firm = await make_customer(ctx, email="buyer@corp.example", customer_type="b2b")
    tariff = await restricted_tariff(ctx, cat, customer_types=("b2b",))

    await refused("not_eligible_customer", hold_one(ctx, cat, ana, tariff))

    assert (await hold_one(ctx, cat, firm, tariff)).status == "held"
    assert (await hold_one(ctx, cat, ana, tariff, buy=True)).checkout


async def test_when_the_deadline_has_passed_the_tariff_can_only_be_bought_now(ctx):
    cat = await make_catalog(ctx, starts_in=timedelta(days=5), days_before_event=10)
    ana = await make_customer(ctx)

    await refused("buy_only", make_held_booking(ctx, cat, ana))
    bought = await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=2)],
        buy=True,
    )

    assert bought.status == "held" and bought.checkout
    assert bought.deadline == ctx.clock.now() + timedelta(minutes=ctx.settings.checkout_minutes)
    assert await remaining(ctx, cat, cat.ga_area) == 98
    assert await notices(ctx, bought.id) == set()  # no "held until …" notice for a checkout


async def test_checkout_ends_at_the_start_and_a_started_performance_cannot_be_held_or_bought(
    ctx,
):
    cat = await make_catalog(ctx, starts_in=timedelta(minutes=5))
    ana = await make_customer(ctx)

    bought = await hold_one(ctx, cat, ana, cat.ga_tariff, buy=True)
    ctx.clock.set(cat.starts_at)

    assert bought.deadline == cat.starts_at  # not the usual 20 minutes
    await refused("performance_started", make_held_booking(ctx, cat, ana))
    await refused("performance_started", hold_one(ctx, cat, ana, cat.ga_tariff, buy=True))
    assert await remaining(ctx, cat, cat.ga_area) == 99


async def test_a_customer_cannot_hold_for_another_customer(ctx):
    cat = await make_catalog(ctx)
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")

    await refused(
        "not_owner",
        holds.hold(
            ctx,
            actor=as_customer(ben),
            customer_id=ana.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.ga_tariff, quantity=1)],
        ),
    )
    assert await count(ctx, Booking) == 0


# --- nothing half done -----------------------------------------------------------------------


async def test_a_refused_hold_leaves_nothing_behind(ctx):
    cat = await make_catalog(ctx)
    ana, ben = await make_customer(ctx), await make_customer(ctx, email="ben@example.org")
    c5 = await seat_ids(ctx, cat, "C5")
    await holds.hold(
        ctx,
        actor=as_customer(ana),
        customer_id=ana.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, seat_ids=c5)],
    )
    before = {
        t: await count(ctx, t) for t in (Booking, Item, SeatClaim, HistoryEntry, OutboxMessage)
    }

    # The standing places would be free; the seat is not: the whole order is refused.
    await refused(
        "seat_taken",
        holds.hold(
            ctx,
            actor=as_customer(ben, "email"),
            customer_id=ben.id,
            performance_id=cat.performance_id,
            lines=[holds.Line(cat.ga_tariff, quantity=2), holds.Line(cat.seat_tariff, seat_ids=c5)],
        ),
    )

    assert await remaining(ctx, cat, cat.ga_area) == 100
    assert await remaining(ctx, cat, cat.seated_area) == 29
    assert {t: await count(ctx, t) for t in before} == before


# --- the "held" notice -----------------------------------------------------------------------


async def test_held_notice_goes_by_email_or_telegram_but_never_back_to_the_chat_used(ctx):
    cat = await make_catalog(ctx)
    mailer = await make_customer(ctx, email="mail.only@example.org")
    ana = await make_customer(ctx)
    await customers.link_telegram(
        ctx, actor=as_customer(ana), customer_id=ana.id, telegram_user_id=111, chat_id=111
    )

    by_email = await make_held_booking(ctx, cat, mailer, channel="email")
    in_chat = await make_held_booking(ctx, cat, ana, channel="telegram")
    linked_by_mail = await make_held_booking(ctx, cat, ana, channel="email")

    assert await notices(ctx, by_email.id) == {("booking_held", "email")}
    assert await notices(ctx, in_chat.id) == set()  # the bot answered in the chat already
    assert await notices(ctx, linked_by_mail.id) == {("booking_held", "telegram")}


async def test_organization_contacts_get_the_held_notice_on_both_channels(ctx):
    cat = await make_catalog(ctx)
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    contact = await make_customer(ctx, email="buyer@acme.example")
    contact = await customers.add_contact(
        ctx, actor=STAFF, organization_id=org, customer_id=contact.id
    )
    await customers.link_telegram(
        ctx, actor=STAFF, customer_id=contact.id, telegram_user_id=222, chat_id=222
    )

    booking = await holds.hold(
        ctx,
        actor=STAFF,
        customer_id=contact.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.ga_tariff, quantity=10)],
    )

    assert booking.organization_id == org
    assert await notices(ctx, booking.id) == {
        ("booking_held", "telegram"),
        ("booking_held", "email"),
    }
