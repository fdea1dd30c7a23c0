"""Passes with choice on a real database (SQLite and PostgreSQL): sold with the dates picked
now (the price shared over N, the choices left), bad picks refused with nothing left behind,
the holder's photo (their own upload only), then dates added by the pass code, counting down
(issue 12, items 1 and 6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.i18n import error_text
from booking.queries import pass_choices as choice_queries
from booking.rules import pass_products as rules
from booking.services import (
    cancellations,
    catalog,
    checkin,
    holds,
    pass_choices,
    pass_products,
    passes,
    payments,
)
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Gauge, SeatClaim
from booking.tables.passes import Pass, PassPhoto
from booking.views import CustomerView
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import counts, dates_of, refused, rows, seat_id
from tests.builders import STAFF, as_customer, make_customer
from tests.support.english import english_in

PRICE = 24_001  # over 3 dates: 8001 once, 8000 twice
DOOR = Actor(kind="staff", name="Door Test", channel="console")


async def choice_product(ctx: Context, ids: dict[str, int], **changes: object) -> int:
    """Three dates to pick at a fixed seat in the Stalls, among every date of the season at
    the venue (opera 2, jazz 3; not next year's, not the other venue's)."""
    base: dict[str, object] = {"name": "Carte 3", "event_ids": (), "price_minor": PRICE}
    settings = product(ids, **(base | changes), includes="choice", choice_count=3)
    return await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def photo_of(ctx: Context, customer_id: int) -> int:
    """An uploaded photo (what the bot's upload stores) of this customer."""

    async def work(session: AsyncSession) -> int:
        row = PassPhoto(
            customer_id=customer_id, data=b"\xff\xd8jpeg", width=10, height=12,
            created_at=ctx.clock.now(),
        )  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id or 0

    return await ctx.db.write(work)


async def sell(
    ctx: Context, product_id: int, who: CustomerView, picks: list[int], **kw: Any
) -> passes.SoldPass:
    kw.setdefault("answers", {"first_name": "Camille"})
    return await passes.sell(
        ctx, actor=STAFF, product_id=product_id, customer_id=who.id, picks=picks, **kw
    )


async def the_pass(ctx: Context, pass_id: int) -> Pass:
    return (await rows(ctx, select(Pass).where(col(Pass.id) == pass_id)))[0][0]  # type: ignore[no-any-return]


async def items_of(ctx: Context, booking_id: int) -> list[tuple[int, int | None, int]]:
    """(performance, seat, price) of a booking's items, by performance."""
    found = await rows(
        ctx,
        select(Item.performance_id, Item.seat_id, Item.price_minor)
        .where(col(Item.booking_id) == booking_id)
        .order_by(col(Item.performance_id)),
    )
    return [(p, s, price) for p, s, price in found]


async def booking_of(ctx: Context, pass_id: int) -> Booking:
    row = await the_pass(ctx, pass_id)
    return (await rows(ctx, select(Booking).where(col(Booking.id) == row.booking_id)))[0][0]  # type: ignore[no-any-return]


# -- selling with picks -------------------------------------------------------------------------


async def test_a_pass_with_choice_holds_the_picked_dates_at_the_first_shares(
    ctx: Context,
) -> None:
    ids = await season_with_events(ctx)
    product_id = await choice_product(ctx, ids)
    ana = await make_customer(ctx)
    opera = await dates_of(ctx, ids["opera"])
    jazz = await dates_of(ctx, ids["jazz"])
    a3 = await seat_id(ctx, ids["Stalls"], "A", 3)

    sold = await sell(ctx, product_id, ana, [jazz[2], opera[0]], seat_id=a3)

    row = await the_pass(ctx, sold.id)
    assert (row.choices_left, row.seat_id) == (1, a3)
    assert sold.total_minor == PRICE
    booking = await booking_of(ctx, sold.id)
    assert (booking.total_minor, booking.performance_id) == (PRICE, opera[0])
    # Date order: the earliest date carries the first share (the one with the extra unit).
    assert await items_of(ctx, booking.id or 0) == sorted(
        [(opera[0], a3, 8001), (jazz[2], a3, 8000)]
    )
    claims = await rows(ctx, select(SeatClaim.performance_id, SeatClaim.pass_id))
    assert sorted(claims) == sorted([(opera[0], sold.id), (jazz[2], sold.id)])


async def test_the_best_seat_is_free_at_the_picked_dates_only(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await choice_product(ctx, ids)
    ana = await make_customer(ctx)
    opera = await dates_of(ctx, ids["opera"])
    jazz = await dates_of(ctx, ids["jazz"])
    a1 = await seat_id(ctx, ids["Stalls"], "A", 1)
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["jazz"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    await holds.hold(
        ctx, actor=STAFF, customer_id=ana.id, performance_id=jazz[0],
        lines=[holds.Line(regular, seat_ids=(a1,))],
    )  # fmt: skip

    with_jazz = await sell(ctx, product_id, ana, [opera[0], jazz[0]])
    without = await sell(ctx, product_id, ana, [opera[1]])
    chosen = await refused(sell(ctx, product_id, ana, [jazz[0]], seat_id=a1))

    assert (await the_pass(ctx, with_jazz.id)).seat_id == await seat_id(ctx, ids["Stalls"], "A", 2)
    assert (await the_pass(ctx, without.id)).seat_id == a1  # A1 is taken at jazz only
    assert (chosen.code, chosen.params["seat"]) == ("pass_seat_taken", "A1")


async def test_bad_picks_are_refused_and_leave_nothing(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    product_id = await choice_product(ctx, ids)
    opera_only = await choice_product(ctx, ids, name="Opéra 3", event_ids=(ids["opera"],))
    automatic = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    ana = await make_customer(ctx)
    opera = await dates_of(ctx, ids["opera"])
    jazz = await dates_of(ctx, ids["jazz"])
    away = await dates_of(ctx, ids["away"])
    next_year = await dates_of(ctx, ids["next_year"])
    before = await counts(ctx)

    none = await refused(sell(ctx, product_id, ana, []))
    assert (none.code, none.params["max"]) == ("pass_picks_count", 3)
    too_many = await refused(sell(ctx, product_id, ana, [*opera, *jazz[:2]]))
    assert too_many.code == "pass_picks_count"
    assert (await refused(sell(ctx, product_id, ana, [opera[0], opera[0]]))).code == "bad_value"
    for elsewhere in (away[0], next_year[0], 999_999):
        error = await refused(sell(ctx, product_id, ana, [opera[0], elsewhere]))
        assert (error.code, error.params["field"]) == ("pass_date_not_choosable", "picks")
    linked = await refused(sell(ctx, opera_only, ana, [jazz[0]]))
    assert linked.code == "pass_date_not_choosable"
    assert (await refused(sell(ctx, automatic, ana, [opera[0]]))).code == "bad_value"
    ctx.clock.set(ctx.clock.now() + timedelta(days=10, hours=1))  # type: ignore[attr-defined]
    started = await refused(sell(ctx, product_id, ana, [opera[0]]))
    assert started.code == "pass_date_not_choosable"  # opera's first date has begun

    assert await counts(ctx) == before
    offered = await choice_queries.product_choosable_dates(ctx, product_id=product_id)
    assert sorted(d.performance_id for d in offered) == sorted([opera[1], *jazz[1:]])  # to come
    assert await choice_queries.product_choosable_dates(ctx, product_id=automatic) == []


async def test_the_photo_is_the_buyers_own_upload(ctx: Context) -> None:
    ids = await season_with_events(ctx)
    fields = rules.holder_fields({"first_name": "required", "photo": "required"})
    product_id = await choice_product(ctx, ids, holder_fields=fields)
    no_photo = await choice_product(
        ctx, ids, name="Sans photo", holder_fields=rules.holder_fields({"first_name": "required"})
    )
    ana = await make_customer(ctx)
    ben = await make_customer(ctx, email="ben@example.org", name="Ben")
    opera = await dates_of(ctx, ids["opera"])
    mine, his = await photo_of(ctx, ana.id), await photo_of(ctx, ben.id)
    before = await counts(ctx)

    missing = await refused(sell(ctx, product_id, ana, [opera[0]]))
    assert (missing.code, missing.params["field"]) == ("holder_field_required", "holder_photo")
    stolen = await refused(sell(ctx, product_id, ana, [opera[0]], photo_id=his))
    assert (stolen.code, stolen.params["field"]) == ("pass_photo_unknown", "holder_photo")
    guessed = await refused(sell(ctx, product_id, ana, [opera[0]], photo_id=his + 1000))
    assert guessed.code == "pass_photo_unknown"
    unasked = await refused(sell(ctx, no_photo, ana, [opera[0]], photo_id=mine))
    assert (unasked.code, unasked.params["field"]) == ("bad_value", "holder_photo")
    as_text = await refused(
        sell(ctx, product_id, ana, [opera[0]], photo_id=mine,
             answers={"first_name": "Ana", "photo": "me.jpg"})
    )  # fmt: skip
    assert (as_text.code, as_text.params["field"]) == ("bad_value", "holder_photo")
    assert await counts(ctx) == before

    sold = await sell(ctx, product_id, ana, [opera[0]], photo_id=mine)
    row = await the_pass(ctx, sold.id)
    assert (row.photo_id, row.holder) == (mine, '{"first_name": "Camille"}')


# -- adding a date by the pass code ------------------------------------------------------------


async def sold_choice(ctx: Context, **kw: Any) -> tuple[dict[str, int], passes.SoldPass, Any]:
    """A pass of 3 picks sold to Ana with one date picked (opera's first), at seat A3."""
    ids = await season_with_events(ctx)
    product_id = await choice_product(ctx, ids)
    ana = await make_customer(ctx)
    opera = await dates_of(ctx, ids["opera"])
    a3 = await seat_id(ctx, ids["Stalls"], "A", 3)
    sold = await sell(ctx, product_id, ana, [opera[0]], seat_id=a3, **kw)
    return ids, sold, ana


async def test_adding_dates_counts_down_and_keeps_the_total(ctx: Context) -> None:
    ids, sold, ana = await sold_choice(ctx)
    jazz = await dates_of(ctx, ids["jazz"])
    opera = await dates_of(ctx, ids["opera"])
    a3 = await seat_id(ctx, ids["Stalls"], "A", 3)
    holder = as_customer(ana)
    typed = sold.code.lower().replace("-", " ")  # as people type it

    first = await pass_choices.add_date(ctx, actor=holder, code=typed, performance_id=jazz[0])
    second = await pass_choices.add_date(ctx, actor=STAFF, code=sold.code, performance_id=jazz[1])

    assert (first.choices_left, second.choices_left) == (1, 0)
    assert (first.code, first.pass_id, first.other_seat) == (sold.code, sold.id, False)
    assert first.seat is not None and (first.seat.row, first.seat.number) == ("A", 3)
    booking = await booking_of(ctx, sold.id)
    items = await items_of(ctx, booking.id or 0)
    assert items == sorted([(opera[0], a3, 8001), (jazz[0], a3, 8000), (jazz[1], a3, 8000)])
    assert booking.total_minor == PRICE == sum(price for _, _, price in items)
    claims = await rows(ctx, select(SeatClaim.performance_id, SeatClaim.pass_id))
    assert sorted(claims) == sorted((p, sold.id) for p in (opera[0], jazz[0], jazz[1]))
    assert (await the_pass(ctx, sold.id)).choices_left == 0

    none_left = await refused(
        pass_choices.add_date(ctx, actor=holder, code=sold.code, performance_id=jazz[2])
    )
    assert (none_left.code, none_left.params["pass_code"]) == ("pass_no_choice_left", sold.code)
    assert len(await items_of(ctx, booking.id or 0)) == 3


async def test_a_wrong_code_and_a_strangers_code_get_the_same_answer(ctx: Context) -> None:
    ids, sold, _ana = await sold_choice(ctx)
    jazz = await dates_of(ctx, ids["jazz"])
    eve = await make_customer(ctx, email="eve@example.org", name="Eve")
    other = "ZZZ-ZZZ" if sold.code != "ZZZ-ZZZ" else "YYY-YYY"

    strangers = await refused(
        pass_choices.add_date(ctx, actor=as_customer(eve), code=sold.code, performance_id=jazz[0])
    )
    unknown = await refused(
        pass_choices.add_date(ctx, actor=as_customer(eve), code=other, performance_id=jazz[0])
    )
    garbage = await refused(
        pass_choices.add_date(ctx, actor=STAFF, code="not a code", performance_id=jazz[0])
    )

    assert strangers.code == unknown.code == garbage.code == "pass_code_unknown"
    # The same words, the typed code aside: nothing tells a stranger the code exists.
    assert error_text(strangers, "en").replace(sold.code, "X") == error_text(unknown, "en").replace(
        other, "X"
    )
    assert await choice_queries.pass_id_by_code(ctx, code=sold.code, customer_id=eve.id) is None
    assert await choice_queries.pass_id_by_code(ctx, code=sold.code, customer_id=None) == sold.id
    assert (await the_pass(ctx, sold.id)).choices_left == 2


async def test_dates_not_choosable_or_already_in_and_void_passes_are_refused(
    ctx: Context,
) -> None:
    ids, sold, ana = await sold_choice(ctx)
    opera = await dates_of(ctx, ids["opera"])
    away = await dates_of(ctx, ids["away"])
    holder = as_customer(ana)
    automatic = await pass_products.create_product(
        ctx, actor=STAFF, settings=product(ids, seating="ga", area_id=ids["Floor"])
    )
    every_date = await passes.sell(
        ctx, actor=STAFF, product_id=automatic, customer_id=ana.id,
        answers={"first_name": "Ana"},
    )  # fmt: skip

    def add(code: str, performance_id: int) -> Any:
        return pass_choices.add_date(ctx, actor=holder, code=code, performance_id=performance_id)

    assert (await refused(add(sold.code, opera[0]))).code == "pass_date_already_in"
    assert (await refused(add(sold.code, away[0]))).code == "pass_date_not_choosable"
    assert (await refused(add(every_date.code, opera[1]))).code == "pass_not_choice"
    assert (await the_pass(ctx, sold.id)).choices_left == 2  # refused: nothing taken
    await cancellations.cancel(ctx, actor=STAFF, reference=sold.reference, reason="price")
    void = await refused(add(sold.code, opera[1]))
    assert (void.code, void.params["pass_code"]) == ("pass_void", sold.code)
    choosable = await choice_queries.choosable_dates(ctx, pass_id=sold.id)
    assert sorted(d.performance_id for d in choosable) == sorted(
        [opera[1], *await dates_of(ctx, ids["jazz"])]
    )


async def test_a_paid_pass_is_admitted_at_an_added_date(ctx: Context) -> None:
    ids, sold, ana = await sold_choice(ctx, buy=True)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    jazz = await dates_of(ctx, ids["jazz"])
    secret = (await the_pass(ctx, sold.id)).secret

    before = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=jazz[1])
    assert before.outcome == "not_valid"
    assert before.entitlement is not None and before.entitlement.invalid == "not_in_pass"
    await pass_choices.add_date(ctx, actor=as_customer(ana), code=sold.code, performance_id=jazz[1])
    after = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=jazz[1])
    assert after.outcome == "admitted"
    assert (await booking_of(ctx, sold.id)).status == "confirmed"  # still paid, same total


async def test_the_pass_seat_is_kept_or_the_best_free_one_claimed_for_the_pass(
    ctx: Context,
) -> None:
    ids, sold, ana = await sold_choice(ctx)
    jazz = await dates_of(ctx, ids["jazz"])
    a3 = await seat_id(ctx, ids["Stalls"], "A", 3)
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["jazz"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    await holds.hold(
        ctx, actor=STAFF, customer_id=ana.id, performance_id=jazz[0],
        lines=[holds.Line(regular, seat_ids=(a3,))],
    )  # fmt: skip

    added = await pass_choices.add_date(
        ctx, actor=as_customer(ana), code=sold.code, performance_id=jazz[0]
    )

    assert added.other_seat is True
    assert added.seat is not None and (added.seat.row, added.seat.number) == ("A", 1)
    a1 = await seat_id(ctx, ids["Stalls"], "A", 1)
    claim = await rows(
        ctx,
        select(SeatClaim.seat_id, SeatClaim.pass_id).where(
            col(SeatClaim.performance_id) == jazz[0], col(SeatClaim.pass_id) == sold.id
        ),
    )
    assert claim == [(a1, sold.id)]
    booking = await booking_of(ctx, sold.id)
    assert (jazz[0], a1, 8000) in await items_of(ctx, booking.id or 0)
    assert (await the_pass(ctx, sold.id)).seat_id == a3  # the pass's own seat is unchanged


async def test_a_sold_out_date_takes_no_choice(ctx: Context) -> None:
    ids, sold, ana = await sold_choice(ctx)
    jazz = await dates_of(ctx, ids["jazz"])

    async def sell_out(session: AsyncSession) -> None:
        await session.execute(
            update(Gauge).where(col(Gauge.performance_id) == jazz[0]).values(remaining=0)
        )

    await ctx.db.write(sell_out)
    error = await refused(
        pass_choices.add_date(ctx, actor=as_customer(ana), code=sold.code, performance_id=jazz[0])
    )
    assert error.code == "sold_out"
    assert (await the_pass(ctx, sold.id)).choices_left == 2


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("pass_picks_count", {"max": 3}),
        ("pass_photo_unknown", {}),
        ("pass_code_unknown", {"pass_code": "K7M-4QX"}),
        ("pass_not_choice", {"pass_code": "K7M-4QX"}),
        ("pass_void", {"pass_code": "K7M-4QX"}),
        ("pass_no_choice_left", {"pass_code": "K7M-4QX"}),
        ("pass_date_not_choosable", {}),
        ("pass_date_already_in", {"pass_code": "K7M-4QX"}),
        ("pass_not_automatic", {}),
    ],
)
def test_every_answer_reads_in_french_without_english(code: str, params: dict[str, Any]) -> None:
    error = BookingError(code, **params)
    french = error_text(error, "fr")
    assert french != error_text(error, "en")
    assert english_in(french) == []
