"""A renewal whose hold closes unpaid (SQLite and PostgreSQL): while the window is open the
holder is invited again — the seat kept for them again, the lapsed pass giving up code, secret
and lineage so that they renew again (same code and QR), reminders and the reports counting
them as not yet renewed, the notice saying until when — by every closing path (expiry, the
organizer's release, the customer's and the staff's cancel), many at once in a few
statements; after the window it counts as not renewed. A late payment of the lapsed booking
is re-instated only while its renewal is still reopened and not renewed again, else refunded:
never two passes for one renewal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlmodel import col

from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.queries import renewal_reports
from booking.queries import renewals as queries
from booking.services import cancellations, payments, releases, renewal_lapses
from booking.services import renewals as service
from booking.services.passes import SoldPass
from booking.tables.bookings import Booking, HistoryEntry
from booking.tables.catalog import SeatClaim
from booking.tables.passes import Pass
from booking.tables.renewals import Renewal
from tests.booking.test_renewals import (
    DAY,
    World,
    campaign,
    dates,
    holder,
    kept_claims,
    notices_of,
    refused,
    remaining,
    renewal_of,
    rows,
    world,
)
from tests.builders import STAFF

HOLD_DAYS = 8  # past the renewal hold's deadline (7 days after booking)


@dataclass(frozen=True)
class Renewing:
    w: World
    customer_id: int
    old: SoldPass  # last season's pass
    renewal_id: int
    campaign_id: int
    kept_gauge: dict[int, int]  # the Stalls' gauges once the seat was kept at the launch
    sold: SoldPass  # the renewal's hold
    product_id: int  # the product renewed into


async def renewing(
    ctx: Context, *, closes_in_days: int | None = 20, seat: str | None = "A1", **changes: Any
) -> Renewing:
    """Ana holds last season's pass at ``seat``, is invited and renews into the same plan
    (or the Floor, GA, without a seat): a hold, unpaid."""
    w = await world(ctx)
    ana, old = await holder(ctx, w, seat, name="Ana")
    closes = ctx.clock.now() + closes_in_days * DAY if closes_in_days is not None else None
    campaign_id = await campaign(ctx, w, closes_at=closes, **changes)
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    renewal_id = (await renewal_of(ctx, old.id)).id or 0
    kept = await remaining(ctx, w.ids["salle_Stalls"])
    product = w.same_plan if seat else w.floor
    sold = await service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=product)
    return Renewing(w, ana, old, renewal_id, campaign_id, kept, sold, product)


async def one(ctx: Context, model: Any, *where: Any) -> Any:
    (found,) = await rows(ctx, select(model).where(*where))
    return found[0]


async def status_of(ctx: Context, reference: str) -> str:
    booking = await one(ctx, Booking, Booking.reference == reference)
    return str(booking.status)


def ana_as_customer(r: Renewing, channel: str = "telegram") -> Actor:
    return Actor.customer(r.customer_id, "Ana", channel)  # type: ignore[arg-type]


async def renewed_passes(ctx: Context, old_pass_id: int) -> list[Pass]:
    return [p for (p,) in await rows(ctx, select(Pass).where(Pass.renewed_from_id == old_pass_id))]


# -- the lapse, by every closing path ---------------------------------------------------------


async def test_an_expired_renewal_hold_invites_the_holder_again_with_the_seat_kept(
    ctx: Context,
) -> None:
    r = await renewing(ctx)
    new_dates = await dates(ctx, r.w.ids["opera_next"])
    ctx.clock.advance(HOLD_DAYS * DAY)  # type: ignore[attr-defined]

    assert (await releases.release_due(ctx)).expired == 1

    assert await status_of(ctx, r.sold.reference) == "expired"
    renewal = await renewal_of(ctx, r.old.id)
    assert (renewal.state, renewal.new_pass_id, renewal.renewed_at) == ("invited", None, None)
    a1 = r.w.seat("salle", "A", 1)
    assert (renewal.product_id, renewal.seat_id) == (r.w.same_plan, a1)
    assert await kept_claims(ctx) == [(p, a1, r.renewal_id) for p in new_dates]
    assert await remaining(ctx, r.w.ids["salle_Stalls"]) == r.kept_gauge  # kept, not on sale
    lapsed = await one(ctx, Pass, Pass.id == r.sold.id)
    assert (lapsed.code, lapsed.renewed_from_id) == (f"~{r.sold.reference}", None)
    assert lapsed.secret != (await one(ctx, Pass, Pass.id == r.old.id)).secret
    (notice,) = await notices_of(ctx, "booking_expired")
    assert json.loads(notice.payload) == {
        "renewal_id": r.renewal_id,
        "pass_code": r.old.code,
        "closes_at": (renewal_at := await _closes(ctx, r)).isoformat(),
        "seat_kept": True,
    }
    assert renewal_at is not None
    history = await one(ctx, HistoryEntry, HistoryEntry.action == "renewal_reopened")
    assert json.loads(history.detail)["renewal_id"] == r.renewal_id

    again = await service.renew(
        ctx, actor=ana_as_customer(r), renewal_id=r.renewal_id, product_id=r.w.same_plan
    )

    (new,) = await renewed_passes(ctx, r.old.id)
    old = await one(ctx, Pass, Pass.id == r.old.id)
    assert new.id == again.id and (new.code, new.secret, new.seat_id) == (old.code, old.secret, a1)
    assert await kept_claims(ctx) == []
    assert await remaining(ctx, r.w.ids["salle_Stalls"]) == r.kept_gauge


async def _closes(ctx: Context, r: Renewing) -> Any:
    from booking.tables.renewals import RenewalCampaign

    return (await one(ctx, RenewalCampaign, RenewalCampaign.id == r.campaign_id)).closes_at


@pytest.mark.parametrize("who", ["customer", "staff"])
async def test_a_cancelled_renewal_hold_invites_the_holder_again(ctx: Context, who: str) -> None:
    r = await renewing(ctx)
    actor = ana_as_customer(r) if who == "customer" else STAFF

    await cancellations.cancel(ctx, actor=actor, reference=r.sold.reference, reason="price")

    assert (await renewal_of(ctx, r.old.id)).state == "invited"
    (notice,) = await notices_of(ctx, "booking_cancelled")
    payload = json.loads(notice.payload)
    assert (payload["reason"], payload["renewal_id"], payload["seat_kept"]) == (
        "price", r.renewal_id, True,
    )  # fmt: skip
    # A reply RENEW to that notice names the lapsed booking: it finds the renewal.
    choice = await queries.renewal_of_booking(ctx, booking_id=await _booking_id(ctx, r.sold))
    assert choice is not None and (choice.renewal_id, choice.open_now) == (r.renewal_id, True)
    # The bot's /renew lists it, open again, with the seat kept.
    (listed,) = await queries.open_renewals(ctx, customer_id=r.customer_id)
    assert listed.open_now and listed.new_reference is None
    assert [o.same_seat for o in listed.options] == [True, False, False]
    await service.renew(ctx, actor=actor, renewal_id=r.renewal_id, product_id=r.w.same_plan)
    assert len(await renewed_passes(ctx, r.old.id)) == 1


async def _booking_id(ctx: Context, sold: SoldPass) -> int:
    return int((await one(ctx, Booking, Booking.reference == sold.reference)).id)


async def test_a_renewal_hold_released_by_the_organizer_invites_the_holder_again(
    ctx: Context,
) -> None:
    r = await renewing(ctx, seat=None)  # into the Floor: general admission, no seat to keep

    result = await releases.bulk_release(
        ctx, actor=STAFF, references=[r.sold.reference], include_not_due=True
    )

    assert result.done == (r.sold.reference,)
    renewal = await renewal_of(ctx, r.old.id)
    assert (renewal.state, renewal.seat_id) == ("invited", None)
    (notice,) = await notices_of(ctx, "booking_released")
    assert json.loads(notice.payload)["seat_kept"] is False
    await service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.floor)
    assert len(await renewed_passes(ctx, r.old.id)) == 1


async def test_a_paid_renewal_cancelled_by_staff_stays_renewed(ctx: Context) -> None:
    """A refund is the organizer's decision: the renewal was made and paid."""
    r = await renewing(ctx)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=r.sold.reference, method="cash"
    )

    await cancellations.cancel(ctx, actor=STAFF, reference=r.sold.reference, reason="price")

    assert (await renewal_of(ctx, r.old.id)).state == "renewed"
    assert len(await renewed_passes(ctx, r.old.id)) == 1


async def test_the_reports_count_a_reopened_holder_as_not_yet_renewed(ctx: Context) -> None:
    r = await renewing(ctx)
    season = r.w.ids["old"]
    assert [line.state for line in await renewal_reports.renewed_from(ctx, season_id=season)] == [
        "renewed"
    ]
    await cancellations.cancel(ctx, actor=STAFF, reference=r.sold.reference, reason="price")

    assert await renewal_reports.renewed_from(ctx, season_id=season) == []
    assert await renewal_reports.renewed_into(ctx, season_id=r.w.ids["new"]) == []
    (line,) = await renewal_reports.not_yet_renewed(ctx, season_id=season)
    assert (line.state, line.pass_code, line.new_pass_id) == ("invited", r.old.code, None)
    (listed,) = await renewal_reports.campaign_lines(ctx, campaign_id=r.campaign_id)
    assert listed.state == "invited"


async def test_reminders_reach_a_reopened_holder_again(ctx: Context, clock: FrozenClock) -> None:
    await renewing(ctx, closes_in_days=20, reminder_days=(7, 1))
    closes = clock.now() + 20 * DAY
    clock.set(closes - 7 * DAY)
    assert await service.remind_due(ctx) == 0  # renewed (held): no reminder
    clock.advance(DAY)  # past the hold's deadline
    await releases.release_due(ctx)

    assert await service.remind_due(ctx) == 1  # the reminder day reached, invited again
    (reminder,) = await notices_of(ctx, "renewal_reminder")
    assert json.loads(reminder.payload)["seat_kept"] is True


async def test_after_the_window_a_lapsed_renewal_counts_as_not_renewed(
    ctx: Context, clock: FrozenClock
) -> None:
    r = await renewing(ctx, closes_in_days=5)
    clock.advance(5 * DAY)
    assert await service.close_due(ctx) == 0  # no seat kept: Ana renewed (held)
    clock.advance(3 * DAY)

    await releases.release_due(ctx)

    renewal = await renewal_of(ctx, r.old.id)
    assert (renewal.state, renewal.new_pass_id) == ("released", None)
    assert await kept_claims(ctx) == []
    (notice,) = await notices_of(ctx, "booking_expired")
    assert "renewal_id" not in json.loads(notice.payload)
    (line,) = await renewal_reports.not_yet_renewed(ctx, season_id=r.w.ids["old"])
    assert line.state == "released"
    error = await refused(
        service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan)
    )
    assert error.code == "renewal_window_closed"


async def test_without_freeing_the_lapsed_pass_the_holder_cannot_renew_again(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dead end the lapse removes: reopened, but the lapsed pass still holds the code,
    the secret and ``renewed_from_id``, so the new pass's uniques refuse it."""

    async def kept_tied(session: Any, lapsing: Any) -> None:
        return None

    monkeypatch.setattr(renewal_lapses, "_free_passes", kept_tied)
    r = await renewing(ctx)
    await cancellations.cancel(ctx, actor=STAFF, reference=r.sold.reference, reason="price")

    error = await refused(
        service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan)
    )

    assert error.code == "renewal_done"
    assert (await renewal_of(ctx, r.old.id)).state == "invited"  # rolled back: stuck there


# -- many at once ---------------------------------------------------------------------------


@contextmanager
def statements(ctx: Context) -> Iterator[list[str]]:
    """The SQL the write engine runs meanwhile (SQLAlchemy's executions)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = ctx.db.engine.sync_engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


async def test_many_lapses_in_one_sweep_take_the_same_statements_as_a_few(ctx: Context) -> None:
    """Two holders' renewal holds expire in one sweep, four others' in a later one: both
    sweeps run the same statements (per batch, not per booking), seats kept again included."""
    w = await world(ctx)
    olds = [(await holder(ctx, w, None, name=f"Holder{n}"))[1] for n in range(6)]
    await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    deadlines = []
    for n, old in enumerate(olds):
        if n == 2:
            ctx.clock.advance(DAY)  # type: ignore[attr-defined]  # the four others a day later
        renewal_id = (await renewal_of(ctx, old.id)).id or 0
        sold = await service.renew(ctx, actor=STAFF, renewal_id=renewal_id, product_id=w.same_plan)
        deadlines.append((await one(ctx, Booking, Booking.reference == sold.reference)).deadline)
    assert deadlines[0] < deadlines[2]
    swept = []
    for expected, deadline in ((2, deadlines[0]), (4, deadlines[2])):
        ctx.clock.set(deadline)  # type: ignore[attr-defined]
        with statements(ctx) as seen:
            assert (await releases.release_due(ctx)).expired == expected
        swept.append(seen)

    assert any("renewal" in s.lower() for s in swept[0])  # the hook ran
    assert len(swept[0]) == len(swept[1])
    invited = select(func.count()).select_from(Renewal).where(Renewal.state == "invited")
    assert (await rows(ctx, invited))[0][0] == 6
    assert len(await kept_claims(ctx)) == 6 * len(await dates(ctx, w.ids["opera_next"]))


# -- a late payment ---------------------------------------------------------------------------


async def late_payment(ctx: Context, sold: SoldPass, event: str = "evt-late") -> str:
    result = await payments.record_payment(
        ctx, actor=STAFF, reference=sold.reference, provider="test", provider_event_id=event,
        amount_minor=sold.total_minor, currency=sold.currency,
    )  # fmt: skip
    return result.outcome


async def test_a_late_payment_of_a_reopened_renewal_reinstates_it(ctx: Context) -> None:
    r = await renewing(ctx)
    ctx.clock.advance(HOLD_DAYS * DAY)  # type: ignore[attr-defined]
    await releases.release_due(ctx)

    assert await late_payment(ctx, r.sold) == "reinstated"

    assert await status_of(ctx, r.sold.reference) == "confirmed"
    renewal = await renewal_of(ctx, r.old.id)
    assert (renewal.state, renewal.new_pass_id) == ("renewed", r.sold.id)
    (new,) = await renewed_passes(ctx, r.old.id)
    old = await one(ctx, Pass, Pass.id == r.old.id)
    assert (new.id, new.code, new.secret) == (r.sold.id, old.code, old.secret)
    assert await kept_claims(ctx) == []
    claims = await rows(ctx, select(SeatClaim.pass_id).where(col(SeatClaim.item_id).is_not(None)))
    new_dates = await dates(ctx, r.w.ids["opera_next"])
    assert [c for (c,) in claims].count(r.sold.id) == len(new_dates)
    assert await remaining(ctx, r.w.ids["salle_Stalls"]) == r.kept_gauge
    error = await refused(
        service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan)
    )
    assert error.code == "renewal_done"


async def test_a_late_payment_after_the_holder_renewed_again_is_refunded(ctx: Context) -> None:
    r = await renewing(ctx)
    ctx.clock.advance(HOLD_DAYS * DAY)  # type: ignore[attr-defined]
    await releases.release_due(ctx)
    again = await service.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.w.same_plan)

    assert await late_payment(ctx, r.sold) == "refund_due"

    assert await status_of(ctx, r.sold.reference) == "expired"
    assert [p.id for p in await renewed_passes(ctx, r.old.id)] == [again.id]
    assert (await renewal_of(ctx, r.old.id)).new_pass_id == again.id
    lapsed = await one(ctx, Pass, Pass.id == r.sold.id)
    assert lapsed.code == f"~{r.sold.reference}"


async def test_a_late_payment_after_the_window_is_refunded(
    ctx: Context, clock: FrozenClock
) -> None:
    r = await renewing(ctx, closes_in_days=10)
    clock.advance(HOLD_DAYS * DAY)
    await releases.release_due(ctx)  # reopened, the window still open
    clock.advance(3 * DAY)
    await service.close_due(ctx)  # then closed: released, the kept seat back on sale

    assert await late_payment(ctx, r.sold) == "refund_due"

    assert (await renewal_of(ctx, r.old.id)).state == "released"
    assert await renewed_passes(ctx, r.old.id) == []


async def test_a_late_payment_past_closes_at_before_the_close_job_is_refunded(
    ctx: Context, clock: FrozenClock
) -> None:
    r = await renewing(ctx, closes_in_days=10)
    clock.advance(HOLD_DAYS * DAY)
    await releases.release_due(ctx)
    clock.advance(2 * DAY)  # closes_at reached; the close job has not run

    assert await late_payment(ctx, r.sold) == "refund_due"

    assert (await renewal_of(ctx, r.old.id)).state == "invited"  # the close will release it
    assert await renewed_passes(ctx, r.old.id) == []


async def test_an_expired_pass_sale_that_is_no_renewal_is_reinstated_as_before(
    ctx: Context,
) -> None:
    w = await world(ctx)
    _, sold = await holder(ctx, w, "A2", name="Ben", paid=False)
    ctx.clock.advance(HOLD_DAYS * DAY)  # type: ignore[attr-defined]
    await releases.release_due(ctx)

    assert await late_payment(ctx, sold) == "reinstated"
    assert (await one(ctx, Pass, Pass.id == sold.id)).code == sold.code
