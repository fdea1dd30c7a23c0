"""A late payment re-instates an expired pass with its seat claimed for the pass again, as at
its sale: renewals and the door find a holder's seat by those claims."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.context import Context
from booking.services import payments, places, releases
from booking.tables.bookings import Booking
from booking.tables.catalog import SeatClaim
from booking.tables.passes import Pass
from tests.booking.test_pass_sale import rows, sell, setup
from tests.builders import STAFF, make_customer


async def expire_and_pay_late(ctx: Context) -> tuple[int, list[int | None]]:
    _ids, product_id = await setup(ctx)
    ana = await make_customer(ctx)
    sold = await sell(ctx, product_id, ana.id)
    deadline = (
        await rows(ctx, select(Booking.deadline).where(Booking.reference == sold.reference))
    )[0][0]
    ctx.clock.set(deadline + timedelta(minutes=1))  # type: ignore[attr-defined]
    assert (await releases.release_due(ctx)).expired == 1
    assert await rows(ctx, select(SeatClaim.id)) == []
    result = await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    assert result.outcome == "reinstated"
    claims = [pass_id for (pass_id,) in await rows(ctx, select(SeatClaim.pass_id))]
    return sold.id, claims


async def test_a_late_payment_claims_the_seat_for_the_pass_again(ctx: Context) -> None:
    pass_id, claims = await expire_and_pay_late(ctx)
    assert (await rows(ctx, select(Pass.id)))[0][0] == pass_id
    assert claims and set(claims) == {pass_id}  # one claim per included date, all the pass's


async def test_without_the_pass_id_the_reinstated_claims_lose_the_pass(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    retake = places.retake_items

    async def forgetful(session, items, *, pass_id=None):  # type: ignore[no-untyped-def]
        return await retake(session, items)

    monkeypatch.setattr(places, "retake_items", forgetful)
    _pass_id, claims = await expire_and_pay_late(ctx)
    assert claims and set(claims) == {None}
