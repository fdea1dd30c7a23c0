"""Adding newly scheduled dates to every pass of an automatic product (SQLite and PostgreSQL):
the count shown first, each live pass's fixed seat claimed where free, conflicts listed where
not, a place taken from the gauge, priced 0, admitted at the door, and running it twice adds
nothing (issue 12, item 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.services import (
    cancellations,
    catalog,
    checkin,
    holds,
    pass_additions,
    pass_products,
    payments,
)
from booking.tables.bookings import Booking, HistoryEntry, Item
from booking.tables.catalog import Gauge, SeatClaim
from booking.tables.passes import Pass
from tests.booking.test_pass_choice import choice_product
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import PRICE, refused, remaining, rows, seat_id, sell
from tests.builders import STAFF, as_customer, make_customer

DOOR = Actor(kind="staff", name="Door Test", channel="console")


async def new_date(ctx: Context, event_id: int, days: int = 20) -> int:
    return await catalog.add_performance(
        ctx, actor=STAFF, event_id=event_id, starts_at=ctx.clock.now() + timedelta(days=days)
    )


async def item_count(ctx: Context) -> int:
    return int((await rows(ctx, select(func.count()).select_from(Item)))[0][0])


async def three_passes(ctx: Context) -> tuple[dict[str, int], int, list[int]]:
    """An automatic product of opera and jazz at a fixed seat; passes at A1 (Ana), A2 (Ben),
    and A3 (Cléo, cancelled)."""
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(
        ctx, actor=STAFF, settings=product(ids, price_minor=PRICE)
    )
    sold = []
    for email, name in (("ana@example.org", "Ana"), ("ben@example.org", "Ben"),
                        ("cleo@example.org", "Cléo")):  # fmt: skip
        who = await make_customer(ctx, email=email, name=name)
        sold.append(await sell(ctx, product_id, who.id, answers={"first_name": name}))
    await cancellations.cancel(ctx, actor=STAFF, reference=sold[2].reference, reason="price")
    return ids, product_id, [s.id for s in sold]


async def test_the_count_comes_first_then_seats_where_free_and_conflicts(ctx: Context) -> None:
    ids, product_id, (ana, ben, _cleo) = await three_passes(ctx)
    nothing = await pass_additions.preview(ctx, product_id=product_id)
    assert (nothing.new_dates, nothing.passes, nothing.items_to_add) == ((), 0, 0)
    late_jazz = await new_date(ctx, ids["jazz"])
    late_opera = await new_date(ctx, ids["opera"], days=30)
    # Ben's seat A2 is sold at the late jazz date on its own: his pass cannot have it there.
    a2 = await seat_id(ctx, ids["Stalls"], "A", 2)
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["jazz"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    someone = await make_customer(ctx, email="someone@example.org")
    await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id, performance_id=late_jazz,
        lines=[holds.Line(regular, seat_ids=(a2,))],
    )  # fmt: skip
    before = await remaining(ctx, ids["Stalls"])

    shown = await pass_additions.preview(ctx, product_id=product_id)
    assert [d.performance_id for d in shown.new_dates] == [late_jazz, late_opera]
    assert (shown.passes, shown.items_to_add) == (2, 4)  # the cancelled pass is left out
    assert shown.new_dates[0].event_title == "Jazz"

    report = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)

    assert (report.dates_added, report.passes, report.items_added) == (2, 2, 3)
    (conflict,) = report.conflicts
    assert (conflict.pass_id, conflict.holder, conflict.reason) == (ben, "Ben", "seat_taken")
    assert conflict.date.performance_id == late_jazz
    assert conflict.seat is not None and (conflict.seat.row, conflict.seat.number) == ("A", 2)
    code = (await rows(ctx, select(Pass.code).where(col(Pass.id) == ben)))[0][0]
    assert conflict.pass_code == code
    added = await rows(
        ctx,
        select(Pass.id, Item.performance_id, Item.seat_id, Item.price_minor)
        .join(Item, col(Item.booking_id) == Pass.booking_id)
        .where(col(Item.performance_id).in_([late_jazz, late_opera]))
        .order_by(col(Pass.id), col(Item.performance_id)),
    )
    a1 = await seat_id(ctx, ids["Stalls"], "A", 1)
    assert added == [
        (ana, late_jazz, a1, 0),
        (ana, late_opera, a1, 0),
        (ben, late_opera, a2, 0),
    ]
    claims = await rows(
        ctx,
        select(SeatClaim.performance_id, SeatClaim.seat_id, SeatClaim.pass_id).where(
            col(SeatClaim.pass_id).is_not(None),
            col(SeatClaim.performance_id).in_([late_jazz, late_opera]),
        ),
    )
    assert sorted(claims) == sorted(
        [(late_jazz, a1, ana), (late_opera, a1, ana), (late_opera, a2, ben)]
    )
    after = await remaining(ctx, ids["Stalls"])
    assert after[late_jazz] == before[late_jazz] - 1
    assert after[late_opera] == before[late_opera] - 2
    totals = await rows(
        ctx,
        select(Booking.total_minor)
        .join(Pass, col(Pass.booking_id) == Booking.id)
        .where(col(Pass.id).in_([ana, ben])),
    )
    assert {t for (t,) in totals} == {PRICE}  # the added dates cost nothing
    history = await rows(
        ctx, select(HistoryEntry.action).where(col(HistoryEntry.action) == "pass_dates_added")
    )
    assert len(history) == 2


async def test_running_it_twice_adds_nothing(ctx: Context) -> None:
    ids, product_id, _passes = await three_passes(ctx)
    late = await new_date(ctx, ids["jazz"])
    first = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)
    items, gauges = await item_count(ctx), await remaining(ctx, ids["Stalls"])

    second = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)

    assert first.items_added == 2
    assert (second.items_added, second.passes, second.conflicts) == (0, 0, ())
    assert (await item_count(ctx), await remaining(ctx, ids["Stalls"])) == (items, gauges)
    assert (await pass_additions.preview(ctx, product_id=product_id)).items_to_add == 0
    per_date = await rows(
        ctx, select(func.count()).select_from(Item).where(col(Item.performance_id) == late)
    )
    assert per_date[0][0] == 2


async def test_a_paid_pass_is_admitted_at_the_added_date(ctx: Context) -> None:
    ids, product_id, (ana, _ben, _cleo) = await three_passes(ctx)
    reference = (
        await rows(
            ctx,
            select(Booking.reference)
            .join(Pass, col(Pass.booking_id) == Booking.id)
            .where(col(Pass.id) == ana),
        )
    )[0][0]
    await payments.record_box_office_payment(ctx, actor=STAFF, reference=reference, method="cash")
    late = await new_date(ctx, ids["jazz"])
    secret = (await rows(ctx, select(Pass.secret).where(col(Pass.id) == ana)))[0][0]

    await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)

    answer = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=late)
    assert answer.outcome == "admitted"


async def test_a_full_date_is_a_conflict_and_takes_nothing(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await pass_products.create_product(
        ctx, actor=STAFF, settings=product(ids, seating="ga", area_id=ids["Floor"])
    )
    ana = await make_customer(ctx)
    await sell(ctx, product_id, ana.id)
    late = await new_date(ctx, ids["opera"])

    async def full(session: AsyncSession) -> None:
        await session.execute(
            update(Gauge).where(col(Gauge.performance_id) == late).values(remaining=0)
        )

    await ctx.db.write(full)
    items = await item_count(ctx)

    report = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)

    assert report.items_added == 0
    assert [(c.reason, c.seat, c.date.performance_id) for c in report.conflicts] == [
        ("sold_out", None, late)
    ]
    assert await item_count(ctx) == items


async def test_only_staff_and_only_automatic_products(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    choice = await choice_product(ctx, ids)
    automatic = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    ana = await make_customer(ctx)

    not_auto = await refused(pass_additions.add_new_dates(ctx, actor=STAFF, product_id=choice))
    assert not_auto.code == "pass_not_automatic"
    customer = await refused(
        pass_additions.add_new_dates(ctx, actor=as_customer(ana), product_id=automatic)
    )
    assert customer.code == "not_owner"
    unknown = await refused(pass_additions.add_new_dates(ctx, actor=STAFF, product_id=999_999))
    assert unknown.code == "unknown_item"


async def test_a_seat_taken_after_the_read_is_still_refused_by_its_claim(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read of claimed seats only sorts the passes; the unique claim decides. With that
    read gone stale (it says every seat is free), the writes in one go are refused, rolled
    back, and the passes are tried one by one: the same report, nothing sold twice."""
    ids, product_id, (ana, ben, _cleo) = await three_passes(ctx)
    late = await new_date(ctx, ids["jazz"])
    a2 = await seat_id(ctx, ids["Stalls"], "A", 2)
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["jazz"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    someone = await make_customer(ctx, email="someone@example.org")
    await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id, performance_id=late,
        lines=[holds.Line(regular, seat_ids=(a2,))],
    )  # fmt: skip
    before = await remaining(ctx, ids["Stalls"])

    async def stale(session: AsyncSession, performance_id: int) -> set[int]:
        return set()

    monkeypatch.setattr(pass_additions, "_claimed", stale)
    report = await pass_additions.add_new_dates(ctx, actor=STAFF, product_id=product_id)

    assert report.items_added == 1
    assert [(c.pass_id, c.reason) for c in report.conflicts] == [(ben, "seat_taken")]
    claims = await rows(
        ctx,
        select(SeatClaim.seat_id, SeatClaim.pass_id).where(col(SeatClaim.performance_id) == late),
    )
    assert sorted(claims, key=str) == sorted(
        [(a2, None), (await seat_id(ctx, ids["Stalls"], "A", 1), ana)], key=str
    )
    assert (await remaining(ctx, ids["Stalls"]))[late] == before[late] - 1
