"""Renewal campaigns on a real database (SQLite and PostgreSQL): the launch keeping each
holder's seat at every date of the new season (all or none) and inviting once, the renewal
keeping seat, pass code and QR secret (the same QR admits in both seasons), the plan changed,
a seat taken meanwhile, the window's limits, reminders once per day reached, the close giving
the kept seats back on sale, the queries and the notices in English and French."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import notices, views
from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.errors import BookingError
from booking.queries import renewals as queries
from booking.services import (
    cancellations,
    catalog,
    checkin,
    holds,
    pass_products,
    passes,
    payments,
    releases,
)
from booking.services import renewals as service
from booking.services.catalog import AreaSpec
from booking.tables.bookings import Booking
from booking.tables.catalog import Gauge, Performance, Seat, SeatClaim
from booking.tables.outbox import OutboxMessage
from booking.tables.passes import Pass
from booking.tables.renewals import Renewal
from tests.booking.test_pass_products import product
from tests.builders import STAFF, as_customer, make_customer, seat_rows
from tests.support.english import english_in

DAY = timedelta(days=1)
DOOR = Actor(kind="staff", name="Door Test", channel="console", id=None)  # no staff row


async def rows(ctx: Context, query: Any) -> list[Any]:
    async def work(session: AsyncSession) -> list[Any]:
        return list((await session.execute(query)).all())

    return await ctx.db.read(work)


async def refused(call: Awaitable[Any]) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await call
    return caught.value


@dataclass(frozen=True)
class World:
    """Last season's product (Stalls of the Salle, 2 opera dates) and the new season's: the
    same Stalls (the plan unchanged, 2 dates), the Stalls of another venue (the plan changed:
    the same seat numbers, other seat ids, 2 dates) and the Salle's Floor (GA)."""

    ids: dict[str, int]
    old_product: int
    same_plan: int
    new_plan: int
    floor: int

    def seat(self, area: str, row: str, number: int) -> int:
        return self.ids[f"{area}:{row}{number}"]


async def world(ctx: Context) -> World:
    ids: dict[str, int] = {}
    for key, name, starts in (("old", "2026/27", 2026), ("new", "2027/28", 2027)):
        ids[key] = await catalog.create_season(
            ctx, actor=STAFF, name=name, starts_on=date(starts, 9, 1),
            ends_on=date(starts + 1, 6, 30),
        )  # fmt: skip
    for key, name in (("salle", "Salle"), ("neuve", "Salle Neuve")):
        areas = await catalog.create_venue(
            ctx,
            actor=STAFF,
            name=name,
            areas=[AreaSpec("Floor", capacity=50), AreaSpec("Stalls", seats=seat_rows("AB", 3))],
        )
        ids |= {f"{key}_{area}": area_id for area, area_id in areas.items()}
        ids[f"{key}_venue"] = await _venue_of(ctx, areas["Floor"])
    for key, venue, season, first_day in (
        ("opera", "salle", "old", 10),
        ("opera_next", "salle", "new", 100),
        ("neuve_next", "neuve", "new", 100),
    ):
        ids[key] = await catalog.create_event(
            ctx, actor=STAFF, title=key.title(), venue_id=ids[f"{venue}_venue"],
            season_id=ids[season], timezone="Europe/Zurich",
        )  # fmt: skip
        for n in range(2):
            await catalog.add_performance(
                ctx,
                actor=STAFF,
                event_id=ids[key],
                starts_at=ctx.clock.now() + (first_day + n) * DAY,
            )
    for seat in await rows(ctx, select(Seat)):
        area = "salle" if seat[0].area_id == ids["salle_Stalls"] else "neuve"
        ids[f"{area}:{seat[0].row}{seat[0].number}"] = seat[0].id

    def made(season: str = "new", **changes: object) -> Any:
        base = {"season": ids[season], "Stalls": 0, "opera": 0, "jazz": 0}
        channels = ("telegram", "email", "console")
        settings = product(base, buy_channels=channels, **changes)
        return pass_products.create_product(ctx, actor=STAFF, settings=settings)

    old = await made(
        "old", name="Abonnement 26/27", area_id=ids["salle_Stalls"], event_ids=(ids["opera"],)
    )
    same = await made(
        name="Abonnement 27/28", area_id=ids["salle_Stalls"], event_ids=(ids["opera_next"],)
    )
    new_plan = await made(
        name="Abonnement Neuve", area_id=ids["neuve_Stalls"], event_ids=(ids["neuve_next"],)
    )
    floor = await made(
        name="Parterre 27/28", seating="ga", area_id=ids["salle_Floor"],
        event_ids=(ids["opera_next"],), price_minor=9000,
    )  # fmt: skip
    return World(ids, old, same, new_plan, floor)


async def _venue_of(ctx: Context, area_id: int) -> int:
    from booking.tables.catalog import Area

    async def work(session: AsyncSession) -> int:
        area = await session.get(Area, area_id)
        assert area is not None
        return area.venue_id

    return await ctx.db.read(work)


async def holder(
    ctx: Context, w: World, seat: str | None, *, name: str = "Ana", paid: bool = True, **kw: Any
) -> tuple[int, passes.SoldPass]:
    """A customer holding last season's pass at ``seat`` ("A1"), paid unless told."""
    customer = await make_customer(ctx, email=f"{name.lower()}@example.org", name=name, **kw)
    seat_id = w.seat("salle", seat[0], int(seat[1:])) if seat else None
    sold = await passes.sell(
        ctx, actor=STAFF, product_id=w.old_product, customer_id=customer.id,
        answers={"first_name": name}, seat_id=seat_id,
    )  # fmt: skip
    if paid:
        await payments.record_box_office_payment(
            ctx, actor=STAFF, reference=sold.reference, method="cash"
        )
    return customer.id, sold


async def campaign(ctx: Context, w: World, *offers: int, **changes: Any) -> int:
    settings = service.CampaignSettings(
        from_product_id=w.old_product,
        name=changes.pop("name", "Saison 27/28"),
        offer_product_ids=offers or (w.same_plan, w.new_plan, w.floor),
        **changes,
    )
    return await service.create_campaign(ctx, actor=STAFF, settings=settings)


async def renewal_of(ctx: Context, pass_id: int) -> Renewal:
    (found,) = await rows(ctx, select(Renewal).where(Renewal.pass_id == pass_id))
    return found[0]  # type: ignore[no-any-return]


async def dates(ctx: Context, event_id: int) -> list[int]:
    found = await rows(
        ctx,
        select(Performance.id).where(Performance.event_id == event_id).order_by(Performance.id),
    )
    return [p for (p,) in found]


async def remaining(ctx: Context, area_id: int) -> dict[int, int]:
    found = await rows(
        ctx, select(Gauge.performance_id, Gauge.remaining).where(Gauge.area_id == area_id)
    )
    return dict(found)


async def kept_claims(ctx: Context) -> list[tuple[int, int, int]]:
    """(performance, seat, renewal) of every seat kept for a renewal."""
    found = await rows(
        ctx,
        select(SeatClaim.performance_id, SeatClaim.seat_id, SeatClaim.renewal_id).where(
            col(SeatClaim.renewal_id).is_not(None)
        ),
    )
    return sorted(tuple(r) for r in found)


async def notices_of(ctx: Context, kind: str) -> list[OutboxMessage]:
    found = await rows(
        ctx, select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    )
    return [m for (m,) in found]


# -- the launch ---------------------------------------------------------------------------------


async def test_launch_keeps_each_seat_at_every_new_date_and_invites_once(ctx: Context) -> None:
    w = await world(ctx)
    ana, ana_pass = await holder(ctx, w, "A1", name="Ana")
    ben, ben_pass = await holder(ctx, w, "B2", name="Ben")
    await holder(ctx, w, "A3", name="Cleo", paid=False)  # held, not paid: not invited
    campaign_id = await campaign(ctx, w)
    new_dates = await dates(ctx, w.ids["opera_next"])
    before = await remaining(ctx, w.ids["salle_Stalls"])

    report = await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)

    assert report == service.LaunchReport(invited=2, seats_kept=2, not_kept=0)
    ana_r, ben_r = await renewal_of(ctx, ana_pass.id), await renewal_of(ctx, ben_pass.id)
    assert (ana_r.customer_id, ana_r.state, ana_r.product_id) == (ana, "invited", w.same_plan)
    # The plan is unchanged: the very same seat ids, at both new dates.
    assert (ana_r.seat_id, ben_r.seat_id) == (w.seat("salle", "A", 1), w.seat("salle", "B", 2))
    assert await kept_claims(ctx) == sorted(
        [(p, w.seat("salle", "A", 1), ana_r.id) for p in new_dates]
        + [(p, w.seat("salle", "B", 2), ben_r.id) for p in new_dates]
    )
    after = await remaining(ctx, w.ids["salle_Stalls"])
    assert all(after[p] == before[p] - 2 for p in new_dates)
    invited = await notices_of(ctx, "renewal_invited")
    old_bookings = {ana_pass.reference, ben_pass.reference}
    booking_refs = await rows(
        ctx, select(Booking.reference).where(col(Booking.id).in_([m.booking_id for m in invited]))
    )
    assert {r for (r,) in booking_refs} == old_bookings  # bound to the OLD pass's booking
    assert {m.customer_id for m in invited} == {ana, ben}
    assert sorted(json.loads(m.payload)["pass_code"] for m in invited) == sorted(
        [ana_pass.code, ben_pass.code]
    )
    assert json.loads(invited[0].payload).keys() >= {
        "renewal_id", "campaign", "closes_at", "pass_code",
    }  # fmt: skip

    again = await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)

    assert again == service.LaunchReport(invited=0, seats_kept=0, not_kept=0)
    assert len(await notices_of(ctx, "renewal_invited")) == len(invited)
    assert len(await kept_claims(ctx)) == 4
    assert await remaining(ctx, w.ids["salle_Stalls"]) == after


async def test_a_seat_taken_at_one_new_date_keeps_nothing_for_that_holder(ctx: Context) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    first, second = await dates(ctx, w.ids["opera_next"])
    # A1 is sold for the second new date alone, through a regular tariff.
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=w.ids["opera_next"], area_id=w.ids["salle_Stalls"],
        name="Place", price_minor=5000,
    )  # fmt: skip
    someone = await make_customer(ctx, email="someone@example.org")
    await holds.hold(
        ctx, actor=as_customer(someone), customer_id=someone.id, performance_id=second,
        lines=[holds.Line(tariff, seat_ids=(w.seat("salle", "A", 1),))],
    )  # fmt: skip
    before = await remaining(ctx, w.ids["salle_Stalls"])
    campaign_id = await campaign(ctx, w)

    report = await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)

    assert report == service.LaunchReport(invited=1, seats_kept=0, not_kept=1)
    assert await kept_claims(ctx) == []  # not even at the first date, where A1 is free
    assert await remaining(ctx, w.ids["salle_Stalls"]) == before
    renewal = await renewal_of(ctx, ana_pass.id)
    assert (renewal.product_id, renewal.seat_id) == (None, None)
    (choice,) = await queries.open_renewals(ctx, customer_id=renewal.customer_id)
    assert [o.seat for o in choice.options] == [None, None, None]
    assert first  # the first new date exists, and stayed untouched


# -- renewing -----------------------------------------------------------------------------------


async def test_renewal_keeps_seat_code_and_secret_and_the_same_qr_admits_both_seasons(
    ctx: Context,
) -> None:
    w = await world(ctx)
    ana, ana_pass = await holder(ctx, w, "A1", name="Ana")
    campaign_id = await campaign(ctx, w)
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    renewal = await renewal_of(ctx, ana_pass.id)
    before = await remaining(ctx, w.ids["salle_Stalls"])

    sold = await service.renew(
        ctx, actor=as_customer(await _view(ctx, ana)), renewal_id=renewal.id or 0,
        product_id=w.same_plan,
    )  # fmt: skip

    (old,) = [p for (p,) in await rows(ctx, select(Pass).where(Pass.id == ana_pass.id))]
    (new,) = [p for (p,) in await rows(ctx, select(Pass).where(Pass.id == sold.id))]
    assert (new.code, new.secret, new.holder) == (old.code, old.secret, old.holder)
    assert (new.seat_id, new.renewed_from_id, new.customer_id) == (old.seat_id, old.id, ana)
    assert new.product_id == w.same_plan and new.season_id == w.ids["new"]
    assert sold.code == ana_pass.code and sold.reference != ana_pass.reference
    done = await renewal_of(ctx, ana_pass.id)
    assert (done.state, done.new_pass_id) == ("renewed", sold.id)
    new_dates = await dates(ctx, w.ids["opera_next"])
    # The kept claims became the new pass's: one place per date, no more.
    claims = await rows(
        ctx, select(SeatClaim.performance_id, SeatClaim.renewal_id, SeatClaim.pass_id)
    )
    assert sorted(c for c in claims if c[0] in new_dates) == [(p, None, sold.id) for p in new_dates]
    assert await remaining(ctx, w.ids["salle_Stalls"]) == before
    # The same QR: the old season's date answers with the old pass, the new one's with the new.
    old_date, new_date = (await dates(ctx, w.ids["opera"]))[0], new_dates[0]

    async def door(performance_id: int) -> str:
        answer = await checkin.admit(
            ctx, actor=DOOR, secret=old.secret, performance_id=performance_id, door="Nord"
        )
        return answer.outcome

    assert await door(new_date) == "not_valid"  # the renewal is held, not paid yet
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="card"
    )
    assert await door(old_date) == "admitted"
    assert await door(new_date) == "admitted"
    assert await door(new_date) == "already_used"

    async def answering(performance_id: int | None) -> int:
        async def work(session: AsyncSession) -> int:
            found = await passes.entitlement(
                session, old.secret, performance_id, now=ctx.clock.now()
            )
            assert found is not None and found.invalid == ""
            return found.id

        return await ctx.db.read(work)

    assert await answering(old_date) == old.id
    assert await answering(new_date) == new.id
    assert await answering(None) == new.id  # the public page shows the latest season's


async def _view(ctx: Context, customer_id: int) -> Any:
    from booking.services import customers

    return await customers.get_customer(ctx, customer_id=customer_id)


async def test_plan_changed_gives_the_same_seat_number_or_the_best_alternative(
    ctx: Context,
) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    _, ben_pass = await holder(ctx, w, "A2", name="Ben")
    # Only the other venue is offered: the same row and number, another seat id.
    campaign_id = await campaign(ctx, w, w.new_plan)
    report = await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    assert report == service.LaunchReport(invited=2, seats_kept=2, not_kept=0)
    ana_r, ben_r = await renewal_of(ctx, ana_pass.id), await renewal_of(ctx, ben_pass.id)
    assert ana_r.seat_id == w.seat("neuve", "A", 1) != w.seat("salle", "A", 1)

    sold = await service.renew(ctx, actor=STAFF, renewal_id=ana_r.id or 0, product_id=w.new_plan)
    assert (await _pass(ctx, sold.id)).seat_id == w.seat("neuve", "A", 1)

    # Ben's kept seat is released by hand (the box office needed it): his renewal then gets
    # the best seat free at every date, A3 (A1 is Ana's, A2 sold meanwhile).
    await _drop_kept(ctx, ben_r.id or 0)
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=w.ids["neuve_next"], area_id=w.ids["neuve_Stalls"],
        name="Place", price_minor=5000,
    )  # fmt: skip
    someone = await make_customer(ctx, email="someone@example.org")
    await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id,
        performance_id=(await dates(ctx, w.ids["neuve_next"]))[1],
        lines=[holds.Line(tariff, seat_ids=(w.seat("neuve", "A", 2),))],
    )  # fmt: skip
    ben_sold = await service.renew(
        ctx, actor=STAFF, renewal_id=ben_r.id or 0, product_id=w.new_plan
    )
    assert (await _pass(ctx, ben_sold.id)).seat_id == w.seat("neuve", "A", 3)


async def _pass(ctx: Context, pass_id: int) -> Pass:
    (found,) = await rows(ctx, select(Pass).where(Pass.id == pass_id))
    return found[0]  # type: ignore[no-any-return]


async def _drop_kept(ctx: Context, renewal_id: int) -> None:
    """Forget a renewal's kept seat, as if it could not be kept (claims and gauges back)."""
    from sqlalchemy import update

    async def work(session: AsyncSession) -> None:
        await service._release_kept(session, [renewal_id])
        await session.execute(
            update(Renewal)
            .where(col(Renewal.id) == renewal_id)
            .values(product_id=None, seat_id=None)
        )

    await ctx.db.write(work)


async def test_renewing_into_another_product_keeps_the_same_seat_when_free(ctx: Context) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "B1", name="Ana")
    campaign_id = await campaign(ctx, w)  # kept in the same plan, first offered
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    renewal = await renewal_of(ctx, ana_pass.id)
    before = await remaining(ctx, w.ids["salle_Stalls"])

    sold = await service.renew(ctx, actor=STAFF, renewal_id=renewal.id or 0, product_id=w.new_plan)

    assert (await _pass(ctx, sold.id)).seat_id == w.seat("neuve", "B", 1)
    assert await kept_claims(ctx) == []  # the seat kept in the Salle went back on sale
    after = await remaining(ctx, w.ids["salle_Stalls"])
    assert all(after[p] == before[p] + 1 for p in await dates(ctx, w.ids["opera_next"]))


async def test_a_seat_taken_meanwhile_is_refused_and_nothing_changes(ctx: Context) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    _, ben_pass = await holder(ctx, w, "A2", name="Ben")
    await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    renewal = await renewal_of(ctx, ana_pass.id)
    claims, gauges = await kept_claims(ctx), await remaining(ctx, w.ids["salle_Stalls"])

    error = await refused(
        service.renew(
            ctx, actor=STAFF, renewal_id=renewal.id or 0, product_id=w.same_plan,
            seat_id=w.seat("salle", "A", 2),  # Ben's kept seat
        )
    )  # fmt: skip

    assert (error.code, error.params["seat"]) == ("pass_seat_taken", "A2")
    assert await kept_claims(ctx) == claims
    assert await remaining(ctx, w.ids["salle_Stalls"]) == gauges
    assert (await renewal_of(ctx, ana_pass.id)).state == "invited"
    assert len(await rows(ctx, select(Pass.id))) == 2
    # A seat nobody holds is granted, and Ana's kept A1 goes back on sale.
    sold = await service.renew(
        ctx, actor=STAFF, renewal_id=renewal.id or 0, product_id=w.same_plan,
        seat_id=w.seat("salle", "B", 3),
    )  # fmt: skip
    assert (await _pass(ctx, sold.id)).seat_id == w.seat("salle", "B", 3)
    assert {s for _, s, _ in await kept_claims(ctx)} == {w.seat("salle", "A", 2)}
    assert ben_pass.id


async def test_window_limits_and_refusals(ctx: Context, clock: FrozenClock) -> None:
    w = await world(ctx)
    ana, ana_pass = await holder(ctx, w, "A1", name="Ana")
    ben, _ = await holder(ctx, w, "A2", name="Ben")
    now = clock.now()
    campaign_id = await campaign(ctx, w, opens_at=now + DAY, closes_at=now + 5 * DAY)
    renewal = await renewal_of_after_launch(ctx, campaign_id, ana_pass.id)

    def renew(actor: Actor = STAFF, product_id: int = w.same_plan) -> Awaitable[Any]:
        return service.renew(ctx, actor=actor, renewal_id=renewal, product_id=product_id)

    assert (await refused(renew())).code == "renewal_not_open"
    clock.advance(DAY)
    assert (await refused(renew(as_customer(await _view(ctx, ben))))).code == "renewal_not_holder"
    assert (await refused(renew(product_id=w.old_product))).code == "renewal_offer_unknown"
    assert (
        await refused(service.renew(ctx, actor=STAFF, renewal_id=999_999, product_id=w.floor))
    ).code == "renewal_unknown"
    clock.advance(4 * DAY)  # closes_at reached, before the close job ran
    assert (await refused(renew())).code == "renewal_window_closed"
    clock.set(now + 2 * DAY)
    await service.renew(ctx, actor=as_customer(await _view(ctx, ana)), renewal_id=renewal,
                        product_id=w.floor)  # fmt: skip
    assert (await refused(renew())).code == "renewal_done"
    assert len(await rows(ctx, select(Pass.id).where(col(Pass.renewed_from_id).is_not(None)))) == 1


async def renewal_of_after_launch(ctx: Context, campaign_id: int, pass_id: int) -> int:
    # Before the launch: a draft refuses as not open yet.
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    return (await renewal_of(ctx, pass_id)).id or 0


async def test_a_draft_or_closed_campaign_refuses(ctx: Context) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    campaign_id = await campaign(ctx, w)
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    renewal = (await renewal_of(ctx, ana_pass.id)).id or 0
    draft = await campaign(ctx, w, name="Brouillon")
    assert (await refused(service.close(ctx, actor=STAFF, campaign_id=999_999))).code == (
        "renewal_unknown"
    )
    assert await service.close(ctx, actor=STAFF, campaign_id=campaign_id) == 1
    assert await service.close(ctx, actor=STAFF, campaign_id=campaign_id) == 0
    error = await refused(
        service.renew(ctx, actor=STAFF, renewal_id=renewal, product_id=w.same_plan)
    )
    assert error.code == "renewal_window_closed"
    assert (await refused(service.launch(ctx, actor=STAFF, campaign_id=campaign_id))).code == (
        "renewal_window_closed"
    )
    assert draft


async def test_create_campaign_checks_offers_window_and_staff(ctx: Context) -> None:
    w = await world(ctx)
    now = ctx.clock.now()

    async def code(**changes: Any) -> str:
        offers = changes.pop("offers", (w.same_plan,))
        return (await refused(campaign(ctx, w, *offers, **changes))).code

    assert await code(offers=(w.old_product,)) == "renewal_offer_unknown"  # not a later season
    assert await code(offers=(999_999,)) == "renewal_offer_unknown"
    assert await code(opens_at=now + DAY, closes_at=now) == "renewal_bad_window"
    assert await code(reminder_days=(0,)) == "bad_value"
    assert await code(name=" ") == "bad_value"
    customer = await make_customer(ctx)
    settings = service.CampaignSettings(w.old_product, "X", (w.same_plan,))
    error = await refused(
        service.create_campaign(ctx, actor=as_customer(customer), settings=settings)
    )
    assert error.code == "not_owner"


async def test_renewal_hold_expiring_unpaid_in_the_window_keeps_the_seat_for_the_holder(
    ctx: Context,
) -> None:
    # tests/booking/test_renewal_lapse.py has every closing path and the window over.
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    renewal = await renewal_of(ctx, ana_pass.id)
    before = await remaining(ctx, w.ids["salle_Stalls"])
    sold = await service.renew(ctx, actor=STAFF, renewal_id=renewal.id or 0, product_id=w.same_plan)

    ctx.clock.advance(8 * DAY)  # type: ignore[attr-defined]  # past the 7-day hold deadline
    await releases.release_due(ctx)

    (status,) = await rows(
        ctx,
        select(Booking.status)
        .join(Pass, col(Pass.booking_id) == Booking.id)
        .where(Pass.id == sold.id),
    )
    assert status == ("expired",)
    after = await remaining(ctx, w.ids["salle_Stalls"])
    assert all(after[p] == before[p] for p in await dates(ctx, w.ids["opera_next"]))  # kept
    assert (await renewal_of(ctx, ana_pass.id)).state == "invited"  # she may renew again


# -- reminders and the close ----------------------------------------------------------------------


async def test_reminders_go_once_per_reminder_day_reached(ctx: Context, clock: FrozenClock) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    _, ben_pass = await holder(ctx, w, None, name="Ben")
    closes = clock.now() + 10 * DAY
    campaign_id = await campaign(ctx, w, closes_at=closes, reminder_days=(7, 1))
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    ben_renewal = await renewal_of(ctx, ben_pass.id)
    await service.renew(ctx, actor=STAFF, renewal_id=ben_renewal.id or 0, product_id=w.floor)

    assert await service.remind_due(ctx) == 0  # 10 days before: no reminder day reached
    clock.set(closes - 7 * DAY)
    assert await service.remind_due(ctx) == 1  # Ana only: Ben renewed
    assert await service.remind_due(ctx) == 0
    clock.set(closes - DAY + timedelta(hours=1))
    assert await service.remind_due(ctx) == 1
    assert await service.remind_due(ctx) == 0
    sent = await notices_of(ctx, "renewal_reminder")
    assert {m.customer_id for m in sent} == {(await renewal_of(ctx, ana_pass.id)).customer_id}
    assert len({m.dedupe_key for m in sent}) == len(sent) == 2  # one channel: email
    assert (await renewal_of(ctx, ana_pass.id)).reminders_sent == 2
    clock.set(closes)
    assert await service.remind_due(ctx) == 0  # closed: no reminder after the window


async def test_close_releases_kept_seats_back_on_sale(ctx: Context, clock: FrozenClock) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    _, ben_pass = await holder(ctx, w, "A2", name="Ben")
    closes = clock.now() + 3 * DAY
    campaign_id = await campaign(ctx, w, closes_at=closes)
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    ben_renewal = await renewal_of(ctx, ben_pass.id)
    await service.renew(ctx, actor=STAFF, renewal_id=ben_renewal.id or 0, product_id=w.same_plan)
    before = await remaining(ctx, w.ids["salle_Stalls"])
    new_dates = await dates(ctx, w.ids["opera_next"])
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=w.ids["opera_next"], area_id=w.ids["salle_Stalls"],
        name="Place", price_minor=5000,
    )  # fmt: skip
    someone = await make_customer(ctx, email="someone@example.org")
    a1 = holds.Line(tariff, seat_ids=(w.seat("salle", "A", 1),))
    taken = await refused(
        holds.hold(
            ctx, actor=STAFF, customer_id=someone.id, performance_id=new_dates[0], lines=[a1]
        )
    )
    assert taken.code == "seat_taken"  # kept for Ana

    assert await service.close_due(ctx) == 0  # the window is still open
    clock.set(closes)
    assert await service.close_due(ctx) == 1
    assert await service.close_due(ctx) == 0

    assert await kept_claims(ctx) == []
    assert (await renewal_of(ctx, ana_pass.id)).state == "released"
    assert (await renewal_of(ctx, ben_pass.id)).state == "renewed"
    after = await remaining(ctx, w.ids["salle_Stalls"])
    assert all(after[p] == before[p] + 1 for p in new_dates)
    (released,) = await notices_of(ctx, "renewal_released")
    assert json.loads(released.payload)["pass_code"] == ana_pass.code
    held = await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id, performance_id=new_dates[0], lines=[a1]
    )
    assert held.items[0].seat is not None and held.items[0].seat.number == 1


# -- the queries and the words ------------------------------------------------------------------


async def test_queries_show_the_options_and_the_new_pass(ctx: Context) -> None:
    w = await world(ctx)
    ana, ana_pass = await holder(ctx, w, "A1", name="Ana")
    closes = ctx.clock.now() + 20 * DAY
    campaign_id = await campaign(ctx, w, closes_at=closes)
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)

    (choice,) = await queries.open_renewals(ctx, customer_id=ana)
    assert (choice.campaign_id, choice.state, choice.open_now) == (campaign_id, "invited", True)
    assert (choice.pass_code, choice.holder_name, choice.closes_at) == (
        ana_pass.code,
        "Ana",
        closes,
    )
    assert (choice.timezone, choice.from_product_name) == ("Europe/Zurich", "Abonnement 26/27")
    assert [(o.product_id, o.same_seat, o.seating) for o in choice.options] == [
        (w.same_plan, True, "fixed_seat"),
        (w.new_plan, False, "fixed_seat"),
        (w.floor, False, "ga"),
    ]
    seat = choice.options[0].seat
    assert seat is not None and (seat.row, seat.number) == ("A", 1)
    assert choice.options[2].price_minor == 9000
    by_booking = await _booking_id(ctx, ana_pass.id)
    assert await queries.renewal_of_booking(ctx, booking_id=by_booking) == choice
    assert await queries.renewal_choice(ctx, renewal_id=999_999) is None

    sold = await service.renew(
        ctx, actor=STAFF, renewal_id=choice.renewal_id, product_id=w.same_plan
    )
    renewed = await queries.renewal_choice(ctx, renewal_id=choice.renewal_id)
    assert renewed is not None
    assert (renewed.state, renewed.open_now, renewed.new_pass_id, renewed.new_reference) == (
        "renewed", False, sold.id, sold.reference,
    )  # fmt: skip
    assert await queries.open_renewals(ctx, customer_id=ana) == [renewed]
    await service.close(ctx, actor=STAFF, campaign_id=campaign_id)
    assert await queries.open_renewals(ctx, customer_id=ana) == []


async def _booking_id(ctx: Context, pass_id: int) -> int:
    (found,) = await rows(ctx, select(Pass.booking_id).where(Pass.id == pass_id))
    return int(found[0])


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_renewal_notices_read_in_the_holders_language(ctx: Context, language: str) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana", language=language)
    _, ben_pass = await holder(ctx, w, "B3", name="Ben", language=language)
    # Ben's seat is sold at one new date: nothing is kept for him.
    tariff = await catalog.create_tariff(
        ctx, actor=STAFF, event_id=w.ids["opera_next"], area_id=w.ids["salle_Stalls"],
        name="Place", price_minor=5000,
    )  # fmt: skip
    someone = await make_customer(ctx, email="someone@example.org")
    await holds.hold(
        ctx, actor=STAFF, customer_id=someone.id,
        performance_id=(await dates(ctx, w.ids["opera_next"]))[0],
        lines=[holds.Line(tariff, seat_ids=(w.seat("salle", "B", 3),))],
    )  # fmt: skip
    closes = ctx.clock.now() + 10 * DAY
    campaign_id = await campaign(ctx, w, closes_at=closes, reminder_days=(7,))
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    ctx.clock.advance(3 * DAY + timedelta(hours=1))  # type: ignore[attr-defined]
    await service.remind_due(ctx)
    await service.close(ctx, actor=STAFF, campaign_id=campaign_id)
    texts = {}
    for kind in ("renewal_invited", "renewal_reminder", "renewal_released"):
        for message in await notices_of(ctx, kind):
            view = await ctx.db.read(partial(views.load_outbox, message_id=message.id or 0))
            assert view is not None
            rendered = notices.render(view)
            seat = view.payload["seat_kept"]
            texts[(kind, seat)] = f"{rendered.subject}\n{rendered.text}"
    assert len(texts) == 6  # three kinds, with and without a kept seat
    data = [ana_pass.code, ben_pass.code, "Saison 27/28"]
    for text in texts.values():
        assert ana_pass.code in text or ben_pass.code in text
        assert "-" not in text.split(), text  # every placeholder filled
        if language == "fr":
            assert english_in(text, data) == [], text
    invited = texts[("renewal_invited", True)]
    if language == "en":
        assert "until Thu 3 Dec 2026, 10:00 (Switzerland Time)" in invited, invited
        assert "Your seat is kept for you until then." in invited
        assert "Your seat" not in texts[("renewal_invited", False)]
        assert "The seat kept for you is back on sale." in texts[("renewal_released", True)]
    else:
        assert "jusqu'au jeu. 3 déc. 2026, 10:00" in invited, invited
        assert "Votre place vous est réservée jusque-là." in invited


async def test_the_scheduler_runs_the_reminder_and_close_jobs(
    ctx: Context, clock: FrozenClock
) -> None:
    from scheduler.jobs import JOBS

    jobs = {job.name: job for job in JOBS}
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    closes = clock.now() + 5 * DAY
    campaign_id = await campaign(ctx, w, closes_at=closes, reminder_days=(2,))
    await service.launch(ctx, actor=STAFF, campaign_id=campaign_id)

    clock.set(closes - DAY)
    assert await jobs["remind-renewals"].run(ctx) == 1
    assert await jobs["remind-renewals"].run(ctx) == 0
    assert await jobs["close-renewals"].run(ctx) == 0
    clock.set(closes)
    assert await jobs["close-renewals"].run(ctx) == 1  # Ana's kept seat back on sale
    assert (await renewal_of(ctx, ana_pass.id)).state == "released"


async def test_a_pass_cancelled_since_the_invitation_renews_nothing(ctx: Context) -> None:
    w = await world(ctx)
    _, ana_pass = await holder(ctx, w, "A1", name="Ana")
    await service.launch(ctx, actor=STAFF, campaign_id=await campaign(ctx, w))
    renewal = await renewal_of(ctx, ana_pass.id)
    await cancellations.cancel(ctx, actor=STAFF, reference=ana_pass.reference, reason="price")

    error = await refused(
        service.renew(ctx, actor=STAFF, renewal_id=renewal.id or 0, product_id=w.same_plan)
    )

    assert error.code == "renewal_unknown"
    assert (await renewal_of(ctx, ana_pass.id)).state == "invited"  # released at the close
    assert len(await rows(ctx, select(Pass.id))) == 1
