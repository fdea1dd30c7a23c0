"""The door admits a season pass once per included date, by the pass's one secret; a date it
does not include, an unpaid or a cancelled pass are refused (issue 12, items 2 and 3)."""

from __future__ import annotations

from sqlalchemy import select

from booking.actors import Actor
from booking.context import Context
from booking.queries import door
from booking.services import cancellations, checkin, payments
from booking.tables.passes import Pass
from tests.booking.test_pass_sale import dates_of, rows, sell, setup
from tests.builders import STAFF, make_customer

DOOR = Actor(kind="staff", name="Door Test", channel="console", id=None)  # no staff row


async def test_one_pass_secret_admits_once_at_each_included_date(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id)
    secret = (await rows(ctx, select(Pass.secret)))[0][0]
    first, second = (await dates_of(ctx, ids["jazz"]))[:2]
    away = (await dates_of(ctx, ids["away"]))[0]

    async def scan(performance_id: int) -> checkin.Answer:
        url = f"https://tickets.example/t/{secret}"
        code = checkin.secret_of(url)
        return await checkin.admit(
            ctx, actor=DOOR, secret=code, performance_id=performance_id, door="North"
        )

    unpaid = await scan(first)
    assert unpaid.outcome == "not_valid" and unpaid.entitlement is not None
    assert await door.counts(ctx, first) == door.DoorCounts(checked_in=0, expected=0)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    assert await door.counts(ctx, first) == door.DoorCounts(checked_in=0, expected=1)
    assert (await scan(first)).outcome == "admitted"
    assert await door.counts(ctx, first) == door.DoorCounts(checked_in=1, expected=1)
    again = await scan(first)
    assert again.outcome == "already_used" and again.used is not None
    assert again.used.door == "North"
    assert (await scan(second)).outcome == "admitted"  # the same QR, another included date
    elsewhere = await scan(away)
    assert elsewhere.outcome == "not_valid"
    assert elsewhere.entitlement is not None and elsewhere.entitlement.invalid == "not_in_pass"


async def test_a_cancelled_pass_is_refused_at_the_door(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    await cancellations.cancel(ctx, actor=STAFF, reference=sold.reference, reason="price")
    secret = (await rows(ctx, select(Pass.secret)))[0][0]
    first = (await dates_of(ctx, ids["jazz"]))[0]
    answer = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=first)
    assert answer.outcome == "not_valid"
    assert answer.entitlement is not None and answer.entitlement.kind == "pass"


async def test_the_public_page_of_a_pass_shows_its_next_date(ctx: Context) -> None:
    ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id)
    secret = (await rows(ctx, select(Pass.secret)))[0][0]
    shown = await checkin.show(ctx, secret=secret)
    assert shown is not None and shown.kind == "pass" and shown.reference == sold.code
    included = await dates_of(ctx, ids["jazz"], ids["opera"])
    assert shown.performance_id in included
