"""Renewal campaigns (SPEC §9, issue 12): last season's pass holders invited to renew into the
new season's products, each holder's seat kept for them while the window is open, the renewed
pass keeping its pass code and QR secret.

- ``create_campaign``: from one product to the offered products of a later season (staff).
- ``launch``: one ``Renewal`` per paid pass of the from-product (unique per campaign and pass:
  launching twice invites nobody twice), the holder's seat kept at every included date of the
  first offered fixed-seat product that has the same seat (section, row, number) — seat claims
  without an item (``SeatClaim.renewal_id``) and the area's gauge taken at each date, all dates
  or none per holder — and one ``renewal_invited`` notice each. It works in chunks that each
  commit, so a crash resumes where it stopped.
- ``renew``: one transaction: the window, the compare-and-set ``invited -> renewed`` (two
  renewals of one pass make one), the kept seats given back, then the new pass sold through the
  one hold engine (``holds.hold_dates_in_session``) with the old pass's code, secret, holder and
  photo. A renewal is a hold with the engine's deadline, or ``buy=True`` (paid at once).
- ``remind_due`` / ``close_due`` (jobs) and ``close`` (staff): reminders before the window
  closes; at the close every holder still invited is released, the kept seats back on sale.

A renewal hold that expires unpaid is like any expiry: its places go back
(``releases.release_due``); the renewal stays ``renewed`` with that pass, so a late payment
re-instates it through the existing path (``payments``), and no second renewal is made.
docs/passes.md ("Renewals") gives the design.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking import outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries.passes import free_everywhere, included_date_rows, included_dates
from booking.queries.renewals import refusal_at, window_refusal
from booking.rules import states
from booking.rules.apportion import apportion
from booking.services import passes, places
from booking.services.passes import SoldPass
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Booking
from booking.tables.catalog import Gauge, Season, Seat, SeatClaim
from booking.tables.customers import Customer
from booking.tables.passes import Pass, PassProduct
from booking.tables.renewals import Renewal, RenewalCampaign, RenewalOffer
from booking.tables.staff import StaffUser

CHUNK = 500  # holders invited per transaction by ``launch``
MAX_REMINDER_DAYS = 365


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    from_product_id: int
    name: str
    offer_product_ids: tuple[int, ...]
    opens_at: datetime | None = None  # None: from the launch
    closes_at: datetime | None = None  # None: until closed by hand
    reminder_days: tuple[int, ...] = (7, 1)


@dataclass(frozen=True, slots=True)
class LaunchReport:
    invited: int
    seats_kept: int
    not_kept: int  # fixed-seat holders whose seat could not be kept at every date


def _staff_only(actor: Actor) -> None:
    if actor.kind != "staff":
        raise BookingError("not_owner")


# -- the campaign -------------------------------------------------------------------------------


async def create_campaign(ctx: Context, *, actor: Actor, settings: CampaignSettings) -> int:
    """A draft campaign from last season's product to products of a later season, priced in
    the same currency. Raises BookingError: not_owner, bad_value (name, reminder days),
    renewal_bad_window, unknown_item (the from-product), renewal_offer_unknown."""
    _staff_only(actor)
    name = settings.name.strip()
    if not name or len(name) > 80:
        raise BookingError("bad_value", field="name")
    opens, closes = settings.opens_at, settings.closes_at
    if opens is not None and closes is not None and opens >= closes:
        raise BookingError("renewal_bad_window", field="closes_at")
    days = sorted(set(settings.reminder_days), reverse=True)
    if any(not 1 <= d <= MAX_REMINDER_DAYS for d in days):
        raise BookingError("bad_value", field="reminder_days")
    offers = list(dict.fromkeys(settings.offer_product_ids))  # in the order given, once each
    if not offers:
        raise BookingError("renewal_offer_unknown", field="offer_product_ids")

    async def work(session: AsyncSession) -> int:
        source = await session.get(PassProduct, settings.from_product_id)
        if source is None:
            raise BookingError("unknown_item")
        source_season = await session.get(Season, source.season_id)
        assert source_season is not None
        found = await session.execute(
            select(PassProduct, Season)
            .join(Season, col(Season.id) == PassProduct.season_id)
            .where(col(PassProduct.id).in_(offers))
        )
        offered = {p.id: (p, s) for p, s in found.all()}
        for product_id in offers:
            if product_id not in offered:
                raise BookingError("renewal_offer_unknown", field="offer_product_ids")
            product, season = offered[product_id]
            # A later season, the same money, a pass that includes its dates (renewing into a
            # pass with choice would need the holder's picks: not offered).
            if (
                season.starts_on <= source_season.starts_on
                or product.currency != source.currency
                or product.includes != "automatic"
            ):
                raise BookingError("renewal_offer_unknown", field="offer_product_ids")
        # Who made it, when that is a staff account (a demo or a script acts without one).
        author = await session.get(StaffUser, actor.id) if actor.id is not None else None
        campaign = RenewalCampaign(
            from_product_id=source.id or 0,
            name=name,
            opens_at=opens,
            closes_at=closes,
            reminder_days=",".join(str(d) for d in days),
            state="draft",
            created_at=ctx.clock.now(),
            created_by=author.id if author is not None else None,
        )
        session.add(campaign)
        await session.flush()
        assert campaign.id is not None
        session.add_all(RenewalOffer(campaign_id=campaign.id, product_id=p) for p in offers)
        await session.flush()
        return campaign.id

    return await ctx.db.write(work)


def reminder_days(campaign: RenewalCampaign) -> list[int]:
    return [int(d) for d in campaign.reminder_days.split(",") if d.strip()]


def reminders_reached(campaign: RenewalCampaign, now: datetime) -> int:
    """How many of the reminder days before ``closes_at`` have been reached at ``now``."""
    if campaign.closes_at is None:
        return 0
    closes = campaign.closes_at
    return sum(1 for d in reminder_days(campaign) if now >= closes - timedelta(days=d))


def payload(renewal_id: int, campaign: RenewalCampaign, code: str, kept: bool) -> dict[str, Any]:
    """What every renewal notice carries (interfaces.md), plus whether a seat is kept."""
    closes = campaign.closes_at.isoformat() if campaign.closes_at is not None else None
    return {
        "renewal_id": renewal_id,
        "campaign": campaign.name,
        "closes_at": closes,
        "pass_code": code,
        "seat_kept": kept,
    }


# -- launching: invite every holder, keep their seats -----------------------------------------


async def launch(ctx: Context, *, actor: Actor, campaign_id: int) -> LaunchReport:
    """Open the campaign and invite every holder of a paid pass of its from-product, keeping
    their seats (module docstring). In chunks of ``CHUNK`` holders, each one transaction; a
    second launch invites only passes not invited yet. Raises BookingError: not_owner,
    renewal_unknown, renewal_window_closed (a closed campaign)."""
    _staff_only(actor)
    now = ctx.clock.now()

    async def opening(session: AsyncSession) -> None:
        campaign = await session.get(RenewalCampaign, campaign_id)
        if campaign is None:
            raise BookingError("renewal_unknown")
        if campaign.state == "closed":
            raise BookingError("renewal_window_closed")
        await session.execute(
            update(RenewalCampaign)
            .where(col(RenewalCampaign.id) == campaign_id, col(RenewalCampaign.state) == "draft")
            .values(state="open", launched_at=now)
        )

    await ctx.db.write(opening)
    invited = kept = not_kept = 0
    while True:
        chunk = await ctx.db.write(lambda session: _invite_chunk(session, campaign_id, now))
        if chunk is None:
            return LaunchReport(invited, kept, not_kept)
        invited, kept, not_kept = invited + chunk[0], kept + chunk[1], not_kept + chunk[2]


@dataclass(frozen=True, slots=True)
class _Invited:
    renewal_id: int
    pass_id: int
    customer_id: int
    booking_id: int
    code: str
    seat_id: int | None  # the old pass's seat


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one holder's seat can be kept: a product, the same seat in its area, its dates."""

    product_id: int
    area_id: int
    seat_id: int
    performance_ids: tuple[int, ...]


async def _invite_chunk(
    session: AsyncSession, campaign_id: int, now: datetime
) -> tuple[int, int, int] | None:
    """Invite the next ``CHUNK`` holders not invited yet: (invited, kept, not kept), or None
    when nobody is left (or the campaign was closed meanwhile)."""
    campaign = await session.get(RenewalCampaign, campaign_id)
    if campaign is None or campaign.state != "open":
        return None
    invited = await _insert_renewals(session, campaign, now)
    if not invited:
        return None
    targets = await _targets(session, campaign, [i for i in invited if i.seat_id], now)
    kept = await _keep_seats(session, targets)
    if kept:
        conn = await connection_of(session)
        await conn.execute(
            update(Renewal)
            .where(col(Renewal.id) == bindparam("b_id"))
            .values(product_id=bindparam("b_product"), seat_id=bindparam("b_seat")),
            [
                {"b_id": rid, "b_product": targets[rid].product_id, "b_seat": targets[rid].seat_id}
                for rid in sorted(kept)
            ],
        )
    await _notify(session, "renewal_invited", campaign, invited, kept, now, key="")
    seated = sum(1 for i in invited if i.seat_id is not None)
    return len(invited), len(kept), seated - len(kept)


async def _insert_renewals(
    session: AsyncSession, campaign: RenewalCampaign, now: datetime
) -> list[_Invited]:
    """One ``Renewal`` row per paid, unrefunded pass of the from-product not invited yet, in
    one INSERT … SELECT; the unique (campaign, pass) ignores a pass another launch invited at
    the same moment."""
    renewal: Any = Renewal.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
    invited_already = exists().where(
        col(Renewal.campaign_id) == campaign.id, col(Renewal.pass_id) == Pass.id
    )
    chosen = (
        select(
            literal(campaign.id),
            col(Pass.id),
            col(Pass.customer_id),
            literal("invited"),
            literal(now, type_=renewal.c.invited_at.type),
            literal(reminders_reached(campaign, now)),
        )
        .join(Booking, col(Booking.id) == Pass.booking_id)
        .where(
            col(Pass.product_id) == campaign.from_product_id,
            col(Booking.status) == states.CONFIRMED,
            col(Booking.refund_due).is_(False),
            ~invited_already,
        )
        .order_by(col(Pass.id))
        .limit(CHUNK)
    )
    dialect = (await connection_of(session)).dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(renewal)
        .from_select(
            ["campaign_id", "pass_id", "customer_id", "state", "invited_at", "reminders_sent"],
            chosen,
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "pass_id"])
        .returning(renewal.c.id, renewal.c.pass_id)
    )
    made = {int(p): int(r) for r, p in (await session.execute(statement)).all()}
    if not made:
        return []
    rows = await session.execute(
        select(
            col(Pass.id), col(Pass.customer_id), col(Pass.booking_id), col(Pass.code),
            col(Pass.seat_id),
        ).where(col(Pass.id).in_(list(made)))
    )  # fmt: skip
    return sorted(
        (_Invited(made[p or 0], p or 0, c, b, code, s) for p, c, b, code, s in rows.all()),
        key=lambda i: i.renewal_id,
    )


async def _targets(
    session: AsyncSession, campaign: RenewalCampaign, seated: Sequence[_Invited], now: datetime
) -> dict[int, _Target]:
    """Renewal id -> where its holder's seat can be kept: the first offered fixed-seat product
    (in the campaign's order) whose area has a seat at the same (section, row, number) — the
    same seat id when the area is the same (the plan unchanged)."""
    if not seated:
        return {}
    offered = await session.execute(
        select(PassProduct)
        .join(RenewalOffer, col(RenewalOffer.product_id) == PassProduct.id)
        .where(col(RenewalOffer.campaign_id) == campaign.id)
        .where(col(PassProduct.seating) == "fixed_seat")
        .order_by(col(RenewalOffer.id))
    )
    by_pass = {i.pass_id: i.renewal_id for i in seated}
    targets: dict[int, _Target] = {}
    for product in offered.scalars():
        dates = tuple(p.id or 0 for p in await included_dates(session, product.id or 0, now))
        if not dates:
            continue
        old, new = Seat.__table__.alias("old"), Seat.__table__.alias("new")  # type: ignore[attr-defined]
        same = await session.execute(
            select(col(Pass.id), new.c.id)
            .join(old, old.c.id == Pass.seat_id)
            .join(
                new,
                and_(
                    new.c.area_id == product.area_id,
                    new.c.section == old.c.section,
                    new.c.row == old.c.row,
                    new.c.number == old.c.number,
                ),
            )
            .where(col(Pass.id).in_(list(by_pass)))
        )
        for pass_id, seat_id in same.all():
            renewal_id = by_pass[pass_id]
            if renewal_id not in targets:
                targets[renewal_id] = _Target(product.id or 0, product.area_id, seat_id, dates)
    return targets


async def _keep_seats(session: AsyncSession, targets: dict[int, _Target]) -> set[int]:
    """Claim each target seat at every date of its product and take the gauges, all dates or
    none per holder. The seats already claimed at some date are left out first (one read);
    the rest are taken in one savepoint, and only if a concurrent sale made that fail, holder
    by holder, each in its own savepoint."""
    if not targets:
        return set()
    taken = await session.execute(
        select(col(SeatClaim.seat_id), col(SeatClaim.performance_id)).where(
            col(SeatClaim.seat_id).in_({t.seat_id for t in targets.values()})
        )
    )
    busy = {(s, p) for s, p in taken.all()}
    free = {
        rid: t
        for rid, t in targets.items()
        if not any((t.seat_id, p) in busy for p in t.performance_ids)
    }
    # Two holders of last season may not share a seat; if they did, the first keeps it.
    first: dict[tuple[int, int], int] = {}
    for rid in sorted(free):
        first.setdefault((free[rid].product_id, free[rid].seat_id), rid)
    free = {rid: t for rid, t in free.items() if first[(t.product_id, t.seat_id)] == rid}
    if await _claim(session, free):
        return set(free)
    kept = set()
    for rid in sorted(free):
        if await _claim(session, {rid: free[rid]}):
            kept.add(rid)
    return kept


async def _claim(session: AsyncSession, targets: dict[int, _Target]) -> bool:
    """The claims and gauges of these targets in one savepoint: all taken, or none."""
    if not targets:
        return True
    per_gauge = Counter(
        (p, t.area_id) for t in targets.values() for p in t.performance_ids
    )  # fmt: skip
    claims = [
        {"performance_id": p, "seat_id": t.seat_id, "renewal_id": rid}
        for rid, t in sorted(targets.items())
        for p in t.performance_ids
    ]
    try:
        async with session.begin_nested():
            conn = await connection_of(session)
            for (performance_id, area_id), n in sorted(per_gauge.items()):
                if not await places.take_gauge(conn, performance_id, area_id, n):
                    raise BookingError("sold_out")
            await conn.execute(insert(SeatClaim), claims)
    except (BookingError, IntegrityError):
        return False
    return True


async def _notify(
    session: AsyncSession,
    kind: str,
    campaign: RenewalCampaign,
    invited: Sequence[_Invited],
    kept: set[int],
    now: datetime,
    *,
    key: str,
) -> int:
    """One ``kind`` notice per holder, bound to the old pass's booking (a reply token names
    that booking and its holder); the dedupe key makes each happen once."""
    if not invited:
        return 0
    found = await session.execute(
        select(Customer).where(col(Customer.id).in_({i.customer_id for i in invited}))
    )
    customers = {c.id: c for c in found.scalars()}
    rows = []
    for i in invited:
        rows += outbox.rows_for(
            kind=kind,
            customer=customers[i.customer_id],
            now=now,
            key=f"{kind}:{i.renewal_id}{key}",
            booking_id=i.booking_id,
            payload=payload(i.renewal_id, campaign, i.code, i.renewal_id in kept),
        )
    return await outbox.enqueue_rows(session, rows)


# -- renewing -----------------------------------------------------------------------------------


async def renew(
    ctx: Context,
    *,
    actor: Actor,
    renewal_id: int,
    product_id: int,
    seat_id: int | None = None,
    buy: bool = False,
) -> SoldPass:
    """Renew the pass into ``product_id`` (one of the campaign's), from any channel, by its
    holder or the staff: one booking through the hold engine, held until its deadline or
    ``buy=True`` (paid at once), the new pass keeping code, secret, holder and photo.

    The seat: ``seat_id`` when given and free at every date; else the kept seat when this is
    the product it was kept in; else the holder's same seat (section, row, number) when free
    at every date; else the best seat free at all of them.

    Raises BookingError: renewal_unknown, renewal_not_holder, renewal_not_open,
    renewal_window_closed, renewal_done, renewal_offer_unknown, pass_off_sale, pass_no_dates,
    pass_no_seat, pass_seat_taken, bad_seats, and every hold refusal (seat_taken, sold_out…).

    Like a hold, the transaction runs prepared statements on its connection wherever it can
    (one read of the renewal, its campaign, the old pass and the offer; the compare-and-set;
    the kept claims given back; the pass row; the claims marked), see ``booking.sql``."""

    async def work(session: AsyncSession) -> SoldPass:
        now = ctx.clock.now()
        conn = await connection_of(session)
        found = await _READ.run(conn, {"renewal": renewal_id, "product": product_id})
        if not found.rows:
            raise BookingError("renewal_unknown")
        old = _Renewing(*found.rows[0])
        if not old.paid:
            raise BookingError("renewal_unknown")
        if actor.kind == "customer" and actor.id != old.customer_id:
            raise BookingError("renewal_not_holder")
        refusal = refusal_at(old.campaign_state, old.opens_at, old.closes_at, now)
        if refusal is not None:
            raise BookingError(refusal)
        if not old.offered:
            raise BookingError("renewal_offer_unknown", field="product")
        # The guard: of two renewals of one pass at once, one moves the row (the other waits
        # for its lock on PostgreSQL, and finds it renewed).
        if not await _mark_renewed(conn, renewal_id, now):
            raise BookingError(
                "renewal_window_closed" if old.state == "released" else "renewal_done"
            )
        product = await _locked_product(conn, product_id)
        await _give_back(conn, renewal_id, old.kept_area)
        dates = await included_date_rows(conn, product_id, now)
        if not dates:
            raise BookingError("pass_no_dates")
        seat = await _renewal_seat(session, product, dates, old, seat_id)
        shares = apportion(product.price_minor, [1] * len(dates))
        booking = await passes.hold_pass(
            conn, ctx, actor, old.customer_id, product, dates, shares, seat, buy
        )
        values = _renewed_pass(old, product, booking.id, seat, now)
        try:
            new_id = int((await _INSERT_PASS.run(conn, values)).rows[0][0])
        except IntegrityError:  # the unique renewed_from_id (and code, secret per season)
            raise BookingError("renewal_done") from None
        await passes.mark_pass_claims(conn, booking.id, new_id, seat)
        await _NEW_PASS.run(conn, {"b_renewal": renewal_id, "new_pass_id": new_id})
        return SoldPass(
            new_id, str(values["code"]), booking.reference, booking.total_minor, booking.currency
        )

    return await ctx.db.write(work)


def check_window(campaign: RenewalCampaign, now: datetime) -> None:
    """Refuse outside the campaign's window (``queries.renewals.window_refusal``)."""
    refusal = window_refusal(campaign, now)
    if refusal is not None:
        raise BookingError(refusal)


def window_open(campaign: RenewalCampaign, now: datetime) -> bool:
    return window_refusal(campaign, now) is None


@dataclass(frozen=True, slots=True)
class _Renewing:
    """What ``renew`` reads in one statement: the renewal, its campaign, the old pass."""

    state: str
    kept_product: int | None
    kept_seat: int | None
    kept_area: int | None
    campaign_state: str
    opens_at: datetime | None
    closes_at: datetime | None
    pass_id: int
    customer_id: int
    seat_id: int | None
    code: str
    secret: str
    holder: str
    photo_id: int | None
    offered: bool
    paid: bool


_RENEWAL: Any = Renewal.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
_CAMPAIGN: Any = RenewalCampaign.__table__  # type: ignore[attr-defined]
_OFFER: Any = RenewalOffer.__table__  # type: ignore[attr-defined]
_PASS: Any = Pass.__table__  # type: ignore[attr-defined]
_PRODUCT: Any = PassProduct.__table__  # type: ignore[attr-defined]
_CLAIM: Any = SeatClaim.__table__  # type: ignore[attr-defined]
_GAUGE: Any = Gauge.__table__  # type: ignore[attr-defined]
_BOOKING: Any = Booking.__table__  # type: ignore[attr-defined]

_READ = Prepared(
    select(
        _RENEWAL.c.state,
        _RENEWAL.c.product_id,
        _RENEWAL.c.seat_id,
        select(_PRODUCT.c.area_id)
        .where(_PRODUCT.c.id == _RENEWAL.c.product_id)
        .scalar_subquery()
        .label("kept_area"),
        _CAMPAIGN.c.state,
        _CAMPAIGN.c.opens_at,
        _CAMPAIGN.c.closes_at,
        _PASS.c.id,
        _PASS.c.customer_id,
        _PASS.c.seat_id,
        _PASS.c.code,
        _PASS.c.secret,
        _PASS.c.holder,
        _PASS.c.photo_id,
        exists()
        .where(
            _OFFER.c.campaign_id == _RENEWAL.c.campaign_id,
            _OFFER.c.product_id == bindparam("product"),
        )
        .label("offered"),
        # Still a paid pass: one cancelled or refunded since the invitation renews nothing.
        and_(_BOOKING.c.status == states.CONFIRMED, _BOOKING.c.refund_due.is_(False)).label("paid"),
    )
    .join(_CAMPAIGN, _CAMPAIGN.c.id == _RENEWAL.c.campaign_id)
    .join(_PASS, _PASS.c.id == _RENEWAL.c.pass_id)
    .join(_BOOKING, _BOOKING.c.id == _PASS.c.booking_id)
    .where(_RENEWAL.c.id == bindparam("renewal"))
)
_MARK = Prepared(
    update(_RENEWAL)
    .where(_RENEWAL.c.id == bindparam("b_renewal"), _RENEWAL.c.state == bindparam("invited"))
    .values(state=bindparam("renewed"), renewed_at=bindparam("renewed_at"))
    .returning(_RENEWAL.c.id)
)
_GIVE_BACK = Prepared(
    delete(_CLAIM)
    .where(_CLAIM.c.renewal_id == bindparam("b_renewal"))
    .returning(_CLAIM.c.performance_id)
)
_GAUGE_BACK = Prepared(
    update(_GAUGE)
    .where(_GAUGE.c.performance_id == bindparam("p"), _GAUGE.c.area_id == bindparam("a"))
    .values(remaining=_GAUGE.c.remaining + 1)
)
_INSERT_PASS = Prepared(insert(_PASS).returning(_PASS.c.id))
_NEW_PASS = Prepared(
    update(_RENEWAL)
    .where(_RENEWAL.c.id == bindparam("b_renewal"))
    .values(new_pass_id=bindparam("new_pass_id"))
)


async def _mark_renewed(conn: AsyncConnection, renewal_id: int, now: datetime) -> bool:
    """Compare-and-set ``invited -> renewed``: True for the one renewal that moved it."""
    params = {"b_renewal": renewal_id, "invited": "invited", "renewed": "renewed"}
    moved = await _MARK.run(conn, params | {"renewed_at": now})
    return bool(moved.rows)


async def _locked_product(conn: AsyncConnection, product_id: int) -> passes.ProductRow:
    """The target product, its row locked (``passes.product_row``, as ``locked_product``):
    adding dates to the product and a renewal into it run one after the other."""
    product = await passes.product_row(conn, product_id)
    if product is None or not product.active:
        raise BookingError("pass_off_sale")
    return product


async def _give_back(conn: AsyncConnection, renewal_id: int, area_id: int | None) -> None:
    """The seat kept for this renewal back on sale: its claims deleted, each date's place
    given back to the gauge of the area it was kept in."""
    if area_id is None:
        return
    deleted = await _GIVE_BACK.run(conn, {"b_renewal": renewal_id})
    for (performance_id,) in sorted(deleted.rows):
        await _GAUGE_BACK.run(conn, {"p": performance_id, "a": area_id})


async def _release_kept(session: AsyncSession, renewal_ids: Sequence[int]) -> int:
    """Delete the kept claims of these renewals and give each date's place back to the gauge
    of the area the seat is in; returns how many renewals had a kept seat."""
    if not renewal_ids:
        return 0
    deleted = await session.execute(
        delete(SeatClaim)
        .where(col(SeatClaim.renewal_id).in_(list(renewal_ids)))
        .returning(col(SeatClaim.performance_id), col(SeatClaim.seat_id), col(SeatClaim.renewal_id))
        .execution_options(synchronize_session=False)
    )
    claims = deleted.all()
    if not claims:
        return 0
    areas = await session.execute(
        select(col(Seat.id), col(Seat.area_id)).where(col(Seat.id).in_({s for _, s, _ in claims}))
    )
    area_of = dict(areas.all())
    per_gauge = Counter((p, area_of[s]) for p, s, _ in claims)
    for (performance_id, area_id), n in sorted(per_gauge.items()):
        await session.execute(
            update(Gauge)
            .where(col(Gauge.performance_id) == performance_id, col(Gauge.area_id) == area_id)
            .values(remaining=col(Gauge.remaining) + n)
            .execution_options(synchronize_session=False)
        )
    return len({r for _, _, r in claims})


async def _renewal_seat(
    session: AsyncSession,
    product: passes.Sellable,
    dates: Sequence[passes.PassDate],
    old: _Renewing,
    seat_id: int | None,
) -> int | None:
    """The new pass's seat (docstring of ``renew``). The kept claims were given back just
    before, in this transaction, so the kept seat reads as free."""
    if product.seating != "fixed_seat" or seat_id is not None:
        return await passes._seat(session, product, dates, seat_id)
    if old.kept_product == product.id and old.kept_seat is not None:
        return old.kept_seat
    same = await _same_seat(session, old.seat_id, product.area_id)
    if same is not None:
        free = await free_everywhere(session, product.area_id, [d.id or 0 for d in dates])
        if same in {s.id for s in free}:
            return same
    return await passes._seat(session, product, dates, None)


async def _same_seat(session: AsyncSession, seat_id: int | None, area_id: int) -> int | None:
    """The seat of ``area_id`` at the same section, row and number as ``seat_id``."""
    if seat_id is None:
        return None
    old = await session.get(Seat, seat_id)
    if old is None:
        return None
    found = await session.execute(
        select(col(Seat.id)).where(
            col(Seat.area_id) == area_id,
            col(Seat.section) == old.section,
            col(Seat.row) == old.row,
            col(Seat.number) == old.number,
        )
    )
    same = found.scalar_one_or_none()
    return int(same) if same is not None else None


def _renewed_pass(
    old: _Renewing, product: passes.Sellable, booking_id: int, seat_id: int | None, now: datetime
) -> dict[str, Any]:
    """The new season's pass row: the old one's code, secret, holder and photo (they never
    change across renewals); the credit stays on the old pass."""
    return {
        "product_id": product.id or 0,
        "season_id": product.season_id,
        "customer_id": old.customer_id,
        "booking_id": booking_id,
        "seat_id": seat_id,
        "holder": old.holder,
        "code": old.code,
        "secret": old.secret,
        "credit_minor": 0,
        "choices_left": None,
        "created_at": now,
        "renewed_from_id": old.pass_id,
        "photo_id": old.photo_id,
    }


# -- reminders and the close ----------------------------------------------------------------------


async def remind_due(ctx: Context) -> int:
    """Job: for every open campaign with a ``closes_at``, one ``renewal_reminder`` to each
    holder still invited per reminder day reached (several reached at once: one reminder).
    ``reminders_sent`` moves by a conditional update, so two workers never send one twice.
    Returns the reminders queued."""
    now = ctx.clock.now()

    async def due(session: AsyncSession) -> list[int]:
        found = await session.execute(
            select(col(RenewalCampaign.id)).where(
                col(RenewalCampaign.state) == "open",
                col(RenewalCampaign.closes_at).is_not(None),
                col(RenewalCampaign.closes_at) > now,
            )
        )
        return [int(i or 0) for i in found.scalars()]

    sent = 0
    for campaign_id in await ctx.db.read(due):
        sent += await ctx.db.write(partial(_remind, campaign_id=campaign_id, now=now))
    return sent


async def _remind(session: AsyncSession, *, campaign_id: int, now: datetime) -> int:
    campaign = await session.get(RenewalCampaign, campaign_id)
    if campaign is None or not window_open(campaign, now):
        return 0
    reached = reminders_reached(campaign, now)
    if reached == 0:
        return 0
    moved = await session.execute(
        update(Renewal)
        .where(
            col(Renewal.campaign_id) == campaign_id,
            col(Renewal.state) == "invited",
            col(Renewal.reminders_sent) < reached,
        )
        .values(reminders_sent=reached)
        .returning(col(Renewal.id), col(Renewal.seat_id))
        .execution_options(synchronize_session=False)
    )
    rows = [(r or 0, seat) for r, seat in moved.all()]
    invited = await _invited(session, [r for r, _ in rows])
    kept = {r for r, seat in rows if seat is not None}
    await _notify(session, "renewal_reminder", campaign, invited, kept, now, key=f":{reached}")
    return len(invited)


async def close(ctx: Context, *, actor: Actor, campaign_id: int) -> int:
    """Close the campaign by hand: every holder still invited released, their kept seats back
    on sale, one ``renewal_released`` each. Returns how many kept seats went back (a second
    close: 0). Raises BookingError: not_owner, renewal_unknown."""
    _staff_only(actor)
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> int:
        if await session.get(RenewalCampaign, campaign_id) is None:
            raise BookingError("renewal_unknown")
        return await _close(session, campaign_id=campaign_id, now=now)

    return await ctx.db.write(work)


async def close_due(ctx: Context) -> int:
    """Job: close every open campaign whose window has ended (``close``). Returns the kept
    seats that went back on sale."""
    now = ctx.clock.now()

    async def due(session: AsyncSession) -> list[int]:
        found = await session.execute(
            select(col(RenewalCampaign.id)).where(
                col(RenewalCampaign.state) == "open",
                col(RenewalCampaign.closes_at).is_not(None),
                col(RenewalCampaign.closes_at) <= now,
            )
        )
        return [int(i or 0) for i in found.scalars()]

    released = 0
    for campaign_id in await ctx.db.read(due):
        released += await ctx.db.write(partial(_close, campaign_id=campaign_id, now=now))
    return released


async def _close(session: AsyncSession, *, campaign_id: int, now: datetime) -> int:
    """Compare-and-set the campaign to closed (a second closer does nothing), release every
    renewal still invited, give their kept seats back, tell each holder."""
    closed = await session.execute(
        update(RenewalCampaign)
        .where(col(RenewalCampaign.id) == campaign_id, col(RenewalCampaign.state) != "closed")
        .values(state="closed", closed_at=now)
        .returning(col(RenewalCampaign.id))
        .execution_options(synchronize_session=False)
    )
    if closed.first() is None:
        return 0
    released = await session.execute(
        update(Renewal)
        .where(col(Renewal.campaign_id) == campaign_id, col(Renewal.state) == "invited")
        .values(state="released", released_at=now)
        .returning(col(Renewal.id), col(Renewal.seat_id))
        .execution_options(synchronize_session=False)
    )
    rows = [(r or 0, seat) for r, seat in released.all()]
    seats = await _release_kept(session, [r for r, seat in rows if seat is not None])
    campaign = await session.get(RenewalCampaign, campaign_id)
    assert campaign is not None
    invited = await _invited(session, [r for r, _ in rows])
    kept = {r for r, seat in rows if seat is not None}
    await _notify(session, "renewal_released", campaign, invited, kept, now, key="")
    return seats


async def _invited(session: AsyncSession, renewal_ids: Sequence[int]) -> list[_Invited]:
    if not renewal_ids:
        return []
    found = await session.execute(
        select(
            col(Renewal.id), col(Pass.id), col(Pass.customer_id), col(Pass.booking_id),
            col(Pass.code), col(Pass.seat_id),
        )
        .join(Pass, col(Pass.id) == Renewal.pass_id)
        .where(col(Renewal.id).in_(list(renewal_ids)))
        .order_by(col(Renewal.id))
    )  # fmt: skip
    return [_Invited(r or 0, p or 0, c, b, code, s) for r, p, c, b, code, s in found.all()]
