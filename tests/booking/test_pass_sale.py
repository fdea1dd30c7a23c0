"""Selling season passes on a real database (SQLite and PostgreSQL): one booking through the
hold engine taking a place at every included date or none, the price apportioned, no ticket
per date, the pass code and secret, the holder's fields, giving every place back, the door's
question, and the guards' companions (each shown to matter by removing it)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.rules import pass_products as rules
from booking.rules import states
from booking.rules.references import normalize_reference
from booking.services import (
    cancellations,
    catalog,
    holds,
    pass_products,
    passes,
    payments,
    releases,
    tickets,
)
from booking.tables.bookings import Booking, Item, Ticket
from booking.tables.catalog import Gauge, Performance, Seat, SeatClaim, Tariff
from booking.tables.customers import Customer
from booking.tables.passes import Pass
from booking.views import Entitlement
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF, make_customer

PRICE = 24_001  # over 5 dates: 4801 once, 4800 four times


async def rows(ctx: Context, query: Any) -> list[Any]:
    async def work(session: AsyncSession) -> list[Any]:
        return list((await session.execute(query)).all())

    return await ctx.db.read(work)


async def setup(ctx: Context, *, ga: bool = False, **changes: object) -> tuple[dict[str, int], int]:
    """The season of test_pass_products (opera 2 dates, jazz 3, Stalls of 10 seats, a Floor of
    50) and a product including opera and jazz: 5 dates, at a fixed seat or on the Floor."""
    ids = await season_with_events(ctx)
    if ga:
        changes |= {"seating": "ga", "area_id": ids["Floor"]}
    settings = product(ids, price_minor=PRICE, buy_channels=("telegram", "console"), **changes)
    return ids, await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def dates_of(ctx: Context, *event_ids: int) -> list[int]:
    found = await rows(
        ctx,
        select(Performance.id)
        .where(col(Performance.event_id).in_(event_ids))
        .order_by(col(Performance.starts_at)),
    )
    return [p for (p,) in found]


async def remaining(ctx: Context, area_id: int) -> dict[int, int]:
    found = await rows(
        ctx, select(Gauge.performance_id, Gauge.remaining).where(Gauge.area_id == area_id)
    )
    return dict(found)


async def seat_id(ctx: Context, area_id: int, row: str, number: int) -> int:
    found = await rows(
        ctx,
        select(Seat.id).where(Seat.area_id == area_id, Seat.row == row, Seat.number == number),
    )
    return int(found[0][0])


async def sell(ctx: Context, product_id: int, customer_id: int, **kw: Any) -> passes.SoldPass:
    kw.setdefault("answers", {"first_name": "Camille"})
    return await passes.sell(ctx, actor=STAFF, product_id=product_id, customer_id=customer_id, **kw)


async def refused(call: Awaitable[Any]) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await call
    return caught.value


async def counts(ctx: Context) -> tuple[int, int, int, int]:
    """Bookings, items, passes and seat claims: what a refused sale must leave untouched."""
    found = []
    for table in (Booking, Item, Pass, SeatClaim):
        found.append((await rows(ctx, select(func.count()).select_from(table)))[0][0])
    return found[0], found[1], found[2], found[3]


async def test_a_fixed_seat_pass_takes_its_seat_at_every_included_date(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    included = await dates_of(ctx, ids["opera"], ids["jazz"])
    a3 = await seat_id(ctx, ids["Stalls"], "A", 3)
    before = await remaining(ctx, ids["Stalls"])

    sold = await sell(ctx, product_id, ana.id, seat_id=a3)

    (pass_row,) = [p for (p,) in await rows(ctx, select(Pass))]
    assert (pass_row.id, pass_row.seat_id, pass_row.customer_id) == (sold.id, a3, ana.id)
    assert pass_row.holder == '{"first_name": "Camille"}'
    booking = (await rows(ctx, select(Booking).where(Booking.id == pass_row.booking_id)))[0][0]
    assert (booking.status, booking.total_minor, booking.currency) == ("held", PRICE, "CHF")
    assert booking.performance_id == included[0]  # the earliest date
    items = await rows(
        ctx, select(Item.performance_id, Item.seat_id, Item.price_minor).order_by(Item.id)
    )
    assert sorted(p for p, _, _ in items) == sorted(included)
    assert {s for _, s, _ in items} == {a3}
    assert sorted(price for _, _, price in items) == [4800, 4800, 4800, 4800, 4801]
    claims = await rows(ctx, select(SeatClaim.performance_id, SeatClaim.seat_id, SeatClaim.pass_id))
    assert sorted(claims) == sorted((p, a3, sold.id) for p in included)
    after = await remaining(ctx, ids["Stalls"])
    assert all(after[p] == before[p] - 1 for p in included)
    assert normalize_reference(sold.code) == sold.code
    assert len(pass_row.secret) >= 32


async def test_best_available_is_a_seat_free_at_every_date(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    jazz_last = (await dates_of(ctx, ids["jazz"]))[-1]
    # A1 is sold for one jazz date only, through a regular tariff: the pass skips it.
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["jazz"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    a1 = await seat_id(ctx, ids["Stalls"], "A", 1)
    await holds.hold(
        ctx, actor=STAFF, customer_id=ana.id, performance_id=jazz_last,
        lines=[holds.Line(regular, seat_ids=(a1,))],
    )  # fmt: skip

    sold = await sell(ctx, product_id, ana.id)

    assert [s for (s,) in await rows(ctx, select(Pass.seat_id))] == [
        await seat_id(ctx, ids["Stalls"], "A", 2)
    ]
    chosen = await refused(sell(ctx, product_id, ana.id, seat_id=a1))
    assert (chosen.code, chosen.params["seat"]) == ("pass_seat_taken", "A1")
    assert sold.total_minor == PRICE


async def test_one_sold_out_date_refuses_the_whole_pass_and_leaves_nothing(ctx: Context) -> None:
    ids, product_id = await setup(ctx, ga=True)
    ana = await make_customer(ctx)
    jazz_second = (await dates_of(ctx, ids["jazz"]))[1]

    async def sell_out(session: AsyncSession) -> None:
        await session.execute(
            update(Gauge)
            .where(col(Gauge.performance_id) == jazz_second, col(Gauge.area_id) == ids["Floor"])
            .values(remaining=0)
        )

    await ctx.db.write(sell_out)
    before = (await remaining(ctx, ids["Floor"]), await counts(ctx))

    error = await refused(sell(ctx, product_id, ana.id))

    assert error.code == "sold_out"
    assert (await remaining(ctx, ids["Floor"]), await counts(ctx)) == before
    assert await rows(ctx, select(Tariff.id).where(col(Tariff.pass_product_id).is_not(None))) == []


async def test_a_seat_taken_at_one_date_inside_the_hold_refuses_everything(ctx: Context) -> None:
    """The seat check before the hold gives a clear answer; the hold's unique claim is what
    decides. Skip the check: the claim alone refuses, and nothing is left behind."""
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    opera_last = (await dates_of(ctx, ids["opera"]))[-1]
    a4 = await seat_id(ctx, ids["Stalls"], "A", 4)
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["opera"], area_id=ids["Stalls"], name="Seat", price_minor=50
    )
    await holds.hold(
        ctx, actor=STAFF, customer_id=ana.id, performance_id=opera_last,
        lines=[holds.Line(regular, seat_ids=(a4,))],
    )  # fmt: skip
    before = (await remaining(ctx, ids["Stalls"]), await counts(ctx))

    async def no_check(session: AsyncSession, product: Any, dates: Any, seat: int | None) -> Any:
        return seat

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passes, "_seat", no_check)
        error = await refused(sell(ctx, product_id, ana.id, seat_id=a4))

    assert error.code == "seat_taken"
    assert (await remaining(ctx, ids["Stalls"]), await counts(ctx)) == before


async def test_expiry_and_cancellation_give_every_place_back(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    before = await remaining(ctx, ids["Stalls"])
    expiring = await sell(ctx, product_id, ana.id)
    cancelled = await sell(ctx, product_id, ana.id)
    included = await dates_of(ctx, ids["opera"], ids["jazz"])
    during = await remaining(ctx, ids["Stalls"])
    assert {p: during[p] for p in included} == {p: before[p] - 2 for p in included}

    await cancellations.cancel(ctx, actor=STAFF, reference=cancelled.reference, reason="price")
    deadline = (
        await rows(ctx, select(Booking.deadline).where(Booking.reference == expiring.reference))
    )[0][0]
    ctx.clock.set(deadline + timedelta(minutes=1))  # type: ignore[attr-defined]
    report = await releases.release_due(ctx)

    assert report.expired == 1
    statuses = await rows(ctx, select(Booking.status).order_by(Booking.id))
    assert [s for (s,) in statuses] == [states.EXPIRED, states.CANCELLED]
    assert await remaining(ctx, ids["Stalls"]) == before
    assert await rows(ctx, select(SeatClaim.id)) == []
    assert len(await rows(ctx, select(Pass.id))) == 2  # the passes stay, void with their booking


async def test_a_paid_pass_issues_no_ticket_per_date(ctx: Context) -> None:
    _ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id, buy=True)

    paid = await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )

    assert (paid.outcome, paid.booking.status, paid.booking.total_minor) == (
        "confirmed",
        "confirmed",
        PRICE,
    )
    assert await rows(ctx, select(Ticket.id)) == []


async def test_without_the_skip_a_paid_pass_would_get_five_tickets(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id, buy=True)

    async def never(session: AsyncSession, booking_id: int) -> bool:
        return False

    monkeypatch.setattr(tickets, "_is_pass", never)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="card"
    )
    assert len(await rows(ctx, select(Ticket.id))) == 5


async def test_pass_codes_and_secrets_are_unique(ctx: Context) -> None:
    _ids, product_id = await setup(ctx, ga=True)
    ana = await make_customer(ctx)
    for _ in range(6):
        await sell(ctx, product_id, ana.id)
    found = await rows(ctx, select(Pass.code, Pass.secret))
    assert len({c for c, _ in found}) == len({s for _, s in found}) == 6
    first = (await rows(ctx, select(Pass).order_by(Pass.id)))[0][0]

    async def clash(session: AsyncSession, **same: str) -> None:
        session.add(replace_pass(first, **same))
        await session.flush()

    for same in ({"code": first.code}, {"secret": first.secret}):
        with pytest.raises(IntegrityError):
            await ctx.db.write(lambda s, same=same: clash(s, **same))


def replace_pass(row: Pass, **same: str) -> Pass:
    """A second pass of the same booking's customer, new booking-free fields but ``same``."""
    values = {"code": "ZZZ-ZZZ", "secret": "x" * 32} | same
    return Pass(
        product_id=row.product_id, customer_id=row.customer_id, booking_id=row.booking_id + 10_000,
        holder="{}", created_at=row.created_at, **values,
    )  # fmt: skip


async def test_a_code_clash_draws_a_new_code(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    _ids, product_id = await setup(ctx, ga=True)
    ana = await make_customer(ctx)
    first = await sell(ctx, product_id, ana.id)
    drawn = iter([first.code, "MMM-MMM"])
    monkeypatch.setattr(passes, "new_reference", lambda: next(drawn))
    second = await sell(ctx, product_id, ana.id)
    assert second.code == "MMM-MMM"


async def test_required_holder_fields_are_enforced_and_nothing_is_written(ctx: Context) -> None:
    fields = rules.holder_fields(
        {"first_name": "required", "last_name": "required", "birth_date": "optional"}
    )
    _ids, product_id = await setup(ctx, holder_fields=fields)
    ana = await make_customer(ctx)
    before = await counts(ctx)

    missing = await refused(sell(ctx, product_id, ana.id, answers={"first_name": "Camille"}))
    assert (missing.code, missing.params["field"]) == ("holder_field_required", "holder_last_name")
    unasked = await refused(
        sell(ctx, product_id, ana.id, answers={"first_name": "C", "last_name": "D", "company": "X"})
    )
    assert (unasked.code, unasked.params["field"]) == ("bad_value", "holder_company")
    born = await refused(
        sell(ctx, product_id, ana.id,
             answers={"first_name": "C", "last_name": "D", "birth_date": "27.04.1990"})
    )  # fmt: skip
    assert born.code == "bad_birth_date"
    new = passes.NewCustomer(name="Léa", email="lea@example.org", language="fr")
    error = await refused(
        passes.sell(ctx, actor=STAFF, product_id=product_id, customer_id=None, new_customer=new,
                    answers={})
    )  # fmt: skip
    assert error.code == "holder_field_required"
    assert await counts(ctx) == before
    assert await rows(ctx, select(Customer.id).where(Customer.email == "lea@example.org")) == []

    await sell(ctx, product_id, ana.id, answers={"first_name": " Camille ", "last_name": "Roux"})
    assert [h for (h,) in await rows(ctx, select(Pass.holder))] == [
        '{"first_name": "Camille", "last_name": "Roux"}'
    ]


async def test_a_new_customer_is_made_with_the_sale(ctx: Context) -> None:
    _ids, product_id = await setup(ctx)
    await make_customer(ctx, email="ana@example.org")
    new = passes.NewCustomer(name="Léa Roux", email="Lea@Example.org", language="fr")
    sold = await passes.sell(
        ctx, actor=STAFF, product_id=product_id, customer_id=None, new_customer=new,
        answers={"first_name": "Léa"},
    )  # fmt: skip
    holder = await rows(
        ctx,
        select(Customer.name, Customer.language)
        .join(Pass, col(Pass.customer_id) == Customer.id)
        .where(Pass.id == sold.id),
    )
    assert holder == [("Léa Roux", "fr")]
    on_file = passes.NewCustomer(name="Other", email="ANA@example.org")
    error = await refused(
        passes.sell(ctx, actor=STAFF, product_id=product_id, customer_id=None,
                    new_customer=on_file, answers={"first_name": "A"})
    )  # fmt: skip
    assert (error.code, error.params["field"]) == ("pass_customer_on_file", "email")


async def test_products_not_sold_this_way_are_refused_clearly(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    choice = await pass_products.create_product(
        ctx, actor=STAFF,
        settings=product(ids, name="Carte 3", includes="choice", choice_count=3, event_ids=()),
    )  # fmt: skip
    assert (await refused(sell(ctx, choice, ana.id))).code == "pass_picks_count"  # none picked
    await pass_products.set_active(ctx, actor=STAFF, product_id=product_id, active=False)
    assert (await refused(sell(ctx, product_id, ana.id))).code == "pass_off_sale"


async def test_pass_tariffs_are_never_offered_nor_held_alone(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    await sell(ctx, product_id, ana.id)
    opera_first = (await dates_of(ctx, ids["opera"]))[0]
    (own,) = [
        t
        for (t,) in await rows(
            ctx,
            select(Tariff.id).where(
                Tariff.pass_product_id == product_id, Tariff.event_id == ids["opera"]
            ),
        )
    ]
    offers = await catalog.offers(
        ctx, performance_id=opera_first, channel="console", customer_type="individual"
    )
    assert own not in {o.tariff_id for o in offers}
    seat = await seat_id(ctx, ids["Stalls"], "B", 5)
    alone = holds.hold(
        ctx, actor=STAFF, customer_id=ana.id, performance_id=opera_first,
        lines=[holds.Line(own, seat_ids=(seat,))],
    )  # fmt: skip
    assert (await refused(alone)).code == "unknown_tariff"


async def test_without_the_guard_a_pass_tariff_held_alone_costs_nothing(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    await sell(ctx, product_id, ana.id)
    opera_first = (await dates_of(ctx, ids["opera"]))[0]
    own = (await rows(ctx, select(Tariff.id).where(Tariff.event_id == ids["opera"])))[0][0]
    monkeypatch.setattr(holds, "_sold_alone", lambda tariff: True)
    booking = await holds.hold(
        ctx, actor=STAFF, customer_id=ana.id, performance_id=opera_first,
        lines=[holds.Line(own, seat_ids=(await seat_id(ctx, ids["Stalls"], "B", 5),))],
    )  # fmt: skip
    assert booking.total_minor == 0


async def test_the_door_asks_a_pass_about_one_performance(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id, answers={"first_name": "Camille"})
    secret = (await rows(ctx, select(Pass.secret)))[0][0]
    jazz_first = (await dates_of(ctx, ids["jazz"]))[0]
    away = (await dates_of(ctx, ids["away"]))[0]

    async def ask(secret: str, performance_id: int) -> Entitlement | None:
        now = ctx.clock.now()
        return await ctx.db.read(lambda s: passes.entitlement(s, secret, performance_id, now=now))

    held = await ask(secret, jazz_first)
    assert held is not None and held.invalid == "cancelled"  # not paid yet
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    admits = await ask(secret, jazz_first)
    assert admits is not None
    assert (admits.kind, admits.id, admits.invalid, admits.reference) == (
        "pass",
        sold.id,
        "",
        sold.code,
    )
    assert (admits.holder, admits.event_title, admits.tariff_name) == (
        "Camille",
        "Jazz",
        "Abonnement",
    )
    assert admits.seat is not None and (admits.seat.row, admits.seat.number) == ("A", 1)
    elsewhere = await ask(secret, away)
    assert elsewhere is not None and elsewhere.invalid == "not_in_pass"
    assert await ask("no-such-secret-" + "x" * 20, jazz_first) is None
    await cancellations.cancel(ctx, actor=STAFF, reference=sold.reference, reason="price")
    void = await ask(secret, jazz_first)
    assert void is not None and void.invalid in ("cancelled", "refunded")


async def test_the_hold_engine_refuses_mixed_or_unpriced_lines(ctx: Context) -> None:
    """hold_dates_in_session prices lines as its caller says: only one pass product's own
    tariffs may be priced so, one place per date."""
    ids, product_id = await setup(ctx, ga=True)
    ana = await make_customer(ctx)
    await sell(ctx, product_id, ana.id)
    opera = await dates_of(ctx, ids["opera"])
    regular = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=ids["opera"], area_id=ids["Floor"], name="Std", price_minor=50
    )
    own_query = select(Tariff.id).where(
        Tariff.pass_product_id == product_id, Tariff.event_id == ids["opera"]
    )
    own = (await rows(ctx, own_query))[0][0]

    async def try_lines(lines: list[holds.DateLine]) -> BookingError:
        return await refused(
            ctx.db.write(lambda s: holds.hold_dates_in_session(s, ctx, STAFF, ana.id, lines, False))
        )

    assert (await try_lines([holds.DateLine(opera[0], regular, 1)])).code == "unknown_tariff"
    twice = [holds.DateLine(opera[0], own, 1), holds.DateLine(opera[0], own, 1)]
    assert (await try_lines(twice)).code == "bad_quantity"
    assert (await try_lines([])).code == "bad_quantity"
