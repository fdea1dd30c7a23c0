"""A renewal whose hold closes unpaid (issue 12): the holder is not left at a dead end.

``renewals.renew`` moves the renewal ``invited -> renewed`` and writes the new season's pass
with the old pass's code and QR secret and ``renewed_from_id`` (all unique), then the hold
engine's booking. When that booking closes unpaid — it expires (``releases.bulk_move``: the
deadline sweep, an overdue hold whose date started), the organizer releases it
(``releases.bulk_release``) or it is cancelled (``cancellations.cancel``) — the closing path
calls ``lapse`` in its own transaction, with the ids its compare-and-set moved, once their
places are back. For the renewal bookings among them:

- **the window still open**: the renewal goes back to ``invited``, the state ``renew``
  accepts, so the holder renews again in every channel, reminders reach them again and the
  reports count them as not yet renewed. The seat the lapsed hold had is kept for them again
  (claims with the renewal's id and the gauge taken, at its dates not started), as at the
  launch: while the window is open a holder's seat waits for them;
- **the window over** (closed, or its ``closes_at`` passed before the close job ran):
  ``released``, not renewed, as the close does.

Either way the lapsed pass row gives up what ties it to the renewal — ``renewed_from_id``,
and the code and secret (unique per season: its code becomes ``~`` and its booking's
reference, its secret a fresh one nobody knows) — so the next renewal's pass can take them
and the season's reports stop counting it as a renewal. A history row on the lapsed booking
(``renewal_reopened`` or ``renewal_lapsed``) names the renewal: a late payment of that
booking finds it there (``reinstate``). A few statements per batch, whatever its size.

docs/passes.md ("A renewal that lapses") gives the design and the late payment's rule.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking import history
from booking.actors import Actor
from booking.queries.renewals import (
    LAPSED,
    REINSTATED,
    REOPENED,
    lapsed_renewal_id,
    refusal_at,
)
from booking.services import places
from booking.sql import connection_of
from booking.tables.bookings import Booking, Item
from booking.tables.catalog import Gauge, Performance, Seat, SeatClaim
from booking.tables.passes import Pass
from booking.tables.renewals import Renewal, RenewalCampaign

_RENEWAL: Any = Renewal.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
_CAMPAIGN: Any = RenewalCampaign.__table__  # type: ignore[attr-defined]
_PASS: Any = Pass.__table__  # type: ignore[attr-defined]
_OLD: Any = _PASS.alias("old_pass")
_BOOKING: Any = Booking.__table__  # type: ignore[attr-defined]
_ITEM: Any = Item.__table__  # type: ignore[attr-defined]
_PERFORMANCE: Any = Performance.__table__  # type: ignore[attr-defined]
_CLAIM: Any = SeatClaim.__table__  # type: ignore[attr-defined]
_GAUGE: Any = Gauge.__table__  # type: ignore[attr-defined]
_SEAT: Any = Seat.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Lapse:
    """What became of the renewal of one booking closed unpaid."""

    booking_id: int
    renewal_id: int
    pass_code: str  # the holder's pass code (the old pass's, which the renewal keeps)
    closes_at: datetime | None  # the campaign's window
    reopened: bool  # True: invited again; False: the window was over, not renewed
    seat_kept: bool  # reopened with the seat kept for the holder again

    def payload(self) -> dict[str, Any]:
        """What the closing notice (expired, released, cancelled) carries so that it can say
        the pass can still be renewed until the window closes; nothing when it cannot."""
        if not self.reopened:
            return {}
        closes = self.closes_at.isoformat() if self.closes_at is not None else None
        return {
            "renewal_id": self.renewal_id,
            "pass_code": self.pass_code,
            "closes_at": closes,
            "seat_kept": self.seat_kept,
        }


@dataclass(frozen=True, slots=True)
class _Lapsing:
    renewal_id: int
    pass_id: int  # the lapsed (new season's) pass
    booking_id: int
    reference: str
    seat_id: int | None
    product_id: int
    old_code: str
    campaign_state: str
    opens_at: datetime | None
    closes_at: datetime | None

    def window_open(self, now: datetime) -> bool:
        return refusal_at(self.campaign_state, self.opens_at, self.closes_at, now) is None


# -- the lapse ---------------------------------------------------------------------------------


async def lapse(
    session: AsyncSession, booking_ids: Sequence[int], *, actor: Actor, now: datetime
) -> dict[int, Lapse]:
    """Reopen (window open) or release (window over) the renewals these bookings were made for
    (module docstring). Call it in the transaction that closed them unpaid, with the ids its
    compare-and-set moved, after their places went back; bookings that are no renewal are
    ignored. Returns booking id -> ``Lapse`` for the renewal bookings."""
    lapsing = await _lapsing(session, booking_ids)
    if not lapsing:
        return {}
    reopen = [r for r in lapsing if r.window_open(now)]
    over = [r for r in lapsing if not r.window_open(now)]
    kept = await _keep_seats(session, [r for r in reopen if r.seat_id is not None], now)
    conn = await connection_of(session)
    if reopen:
        await conn.execute(
            update(_RENEWAL)
            .where(
                _RENEWAL.c.id == bindparam("b_id"),
                _RENEWAL.c.state == "renewed",
                _RENEWAL.c.new_pass_id == bindparam("b_pass"),
            )
            .values(
                state="invited",
                new_pass_id=None,
                renewed_at=None,
                product_id=bindparam("b_product"),
                seat_id=bindparam("b_seat"),
            ),
            [
                {
                    "b_id": r.renewal_id,
                    "b_pass": r.pass_id,
                    "b_product": r.product_id if r.renewal_id in kept else None,
                    "b_seat": r.seat_id if r.renewal_id in kept else None,
                }
                for r in reopen
            ],
        )
    if over:
        await conn.execute(
            update(_RENEWAL)
            .where(_RENEWAL.c.id.in_([r.renewal_id for r in over]), _RENEWAL.c.state == "renewed")
            .values(state="released", released_at=now, new_pass_id=None)
        )
    await _free_passes(session, lapsing)
    await history.record_many(
        session,
        [
            history.row(
                booking_id=r.booking_id,
                actor=actor,
                at=now,
                action=REOPENED if r.window_open(now) else LAPSED,
                renewal_id=r.renewal_id,
                pass_code=r.old_code,
            )
            for r in lapsing
        ],
    )
    return {
        r.booking_id: Lapse(
            booking_id=r.booking_id,
            renewal_id=r.renewal_id,
            pass_code=r.old_code,
            closes_at=r.closes_at,
            reopened=r.window_open(now),
            seat_kept=r.renewal_id in kept,
        )
        for r in lapsing
    }


async def lapse_one(
    session: AsyncSession, booking_id: int, *, actor: Actor, now: datetime
) -> Lapse | None:
    """``lapse`` for one booking closed unpaid (a cancel, a release from the console)."""
    return (await lapse(session, [booking_id], actor=actor, now=now)).get(booking_id)


async def _lapsing(session: AsyncSession, booking_ids: Sequence[int]) -> list[_Lapsing]:
    """The renewals still ``renewed`` with the pass these bookings bought, in one read (the
    join goes through ``renewal.pass_id``, indexed, from the pass's ``renewed_from_id``)."""
    if not booking_ids:
        return []
    found = await session.execute(
        select(
            _RENEWAL.c.id, _PASS.c.id, _PASS.c.booking_id, _BOOKING.c.reference,
            _PASS.c.seat_id, _PASS.c.product_id, _OLD.c.code, _CAMPAIGN.c.state,
            _CAMPAIGN.c.opens_at, _CAMPAIGN.c.closes_at,
        )
        .select_from(_PASS)
        .join(
            _RENEWAL,
            and_(
                _RENEWAL.c.pass_id == _PASS.c.renewed_from_id,
                _RENEWAL.c.new_pass_id == _PASS.c.id,
                _RENEWAL.c.state == "renewed",
            ),
        )
        .join(_OLD, _OLD.c.id == _RENEWAL.c.pass_id)
        .join(_CAMPAIGN, _CAMPAIGN.c.id == _RENEWAL.c.campaign_id)
        .join(_BOOKING, _BOOKING.c.id == _PASS.c.booking_id)
        .where(_PASS.c.booking_id.in_(sorted(set(booking_ids))))
        .order_by(_RENEWAL.c.id)
    )  # fmt: skip
    return [
        _Lapsing(r, p, b, ref, seat, product, code, state, opens, closes)
        for r, p, b, ref, seat, product, code, state, opens, closes in found.all()
    ]


async def _keep_seats(
    session: AsyncSession, lapsing: Sequence[_Lapsing], now: datetime
) -> set[int]:
    """Keep for each holder the seat their lapsed hold had, at its dates not started: claims
    with the renewal's id and the gauge taken, all dates or none per holder. The hold's own
    claims were deleted and its places given back just before, in this transaction, so this
    succeeds unless something is badly wrong; then that holder keeps nothing (``renew`` picks
    the same seat when free, else the best)."""
    if not lapsing:
        return set()
    renewal_of = {r.booking_id: r.renewal_id for r in lapsing}
    found = await session.execute(
        select(_ITEM.c.booking_id, _ITEM.c.performance_id, _ITEM.c.seat_id, _ITEM.c.area_id)
        .join(_PERFORMANCE, _PERFORMANCE.c.id == _ITEM.c.performance_id)
        .where(
            _ITEM.c.booking_id.in_(list(renewal_of)),
            _ITEM.c.seat_id.is_not(None),
            _PERFORMANCE.c.starts_at > now,
        )
        .order_by(_ITEM.c.booking_id, _ITEM.c.performance_id)
    )
    plan: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for booking_id, performance_id, seat_id, area_id in found.all():
        plan[renewal_of[booking_id]].append((performance_id, seat_id, area_id))
    if await _claim(session, plan):
        return set(plan)
    return {r for r in sorted(plan) if await _claim(session, {r: plan[r]})}


class _NoPlace(Exception):
    """A gauge had no place: the savepoint rolls back."""


async def _claim(session: AsyncSession, plan: dict[int, list[tuple[int, int, int]]]) -> bool:
    """The kept claims and gauges of these renewals in one savepoint: all taken, or none."""
    if not plan:
        return True
    per_gauge = Counter((p, a) for dates in plan.values() for p, _s, a in dates)
    rows = [
        {"performance_id": p, "seat_id": s, "renewal_id": r}
        for r, dates in sorted(plan.items())
        for p, s, _a in dates
    ]
    try:
        async with session.begin_nested():
            conn = await connection_of(session)
            for (performance_id, area_id), n in sorted(per_gauge.items()):
                if not await places.take_gauge(conn, performance_id, area_id, n):
                    raise _NoPlace
            await conn.execute(insert(_CLAIM), rows)
    except (_NoPlace, IntegrityError):
        return False
    return True


def freed_code(reference: str) -> str:
    """The code a lapsed renewal's pass takes: ``~`` and its booking's reference, unique
    (references are) and never a real pass code (they have no ``~``), so a typed code never
    finds it and the next renewal's pass takes the real one."""
    return f"~{reference}"


async def _free_passes(session: AsyncSession, lapsing: Sequence[_Lapsing]) -> None:
    """The lapsed passes give up renewed_from_id, code and secret, in one executemany."""
    conn = await connection_of(session)
    await conn.execute(
        update(_PASS)
        .where(_PASS.c.id == bindparam("b_id"))
        .values(renewed_from_id=None, code=bindparam("b_code"), secret=bindparam("b_secret")),
        [
            {
                "b_id": r.pass_id,
                "b_code": freed_code(r.reference),
                "b_secret": secrets.token_urlsafe(24),  # nobody knows it: no QR finds this row
            }
            for r in lapsing
        ],
    )


# -- a late payment -----------------------------------------------------------------------------


class _Refused(Exception):
    """The lapsed renewal cannot be re-instated: the savepoint rolls back, refund instead."""


async def reinstate(
    session: AsyncSession,
    *,
    booking_id: int,
    pass_id: int,
    items: Sequence[Item],
    actor: Actor,
    now: datetime,
) -> bool | None:
    """A payment arriving after this pass booking closed (SPEC §4). None when the booking is
    no lapsed renewal: the ordinary late-payment path applies. Otherwise, in one savepoint:

    1. the compare-and-set ``invited -> renewed`` of its renewal, only while the window is
       open (in the statement): a renewal renewed again, released, or whose window ended is
       not re-instated — exactly one of this and a second ``renew`` wins;
    2. the seat kept for the holder given back, the pass's code, secret and
       ``renewed_from_id`` restored from the old pass (the uniques refuse should another
       pass hold them);
    3. its places taken again (``places.retake_items``).

    True: re-instated (the caller confirms the booking); False: nothing changed, the payment
    is flagged for refund. Never two passes for one renewal."""
    renewal_id = await lapsed_renewal_id(session, booking_id)
    if renewal_id is None:
        return None
    try:
        async with session.begin_nested():
            old_pass = await _renewed_again(session, renewal_id, pass_id, now)
            if old_pass is None:
                raise _Refused
            await _give_back_kept(session, renewal_id)
            await _restore_identity(session, pass_id, old_pass)
            if not await places.retake_items(session, items, pass_id=pass_id):
                raise _Refused
    except (_Refused, IntegrityError):
        return False
    history.record(
        session, booking_id=booking_id, actor=actor, at=now, action=REINSTATED,
        renewal_id=renewal_id,
    )  # fmt: skip
    return True


async def _renewed_again(
    session: AsyncSession, renewal_id: int, pass_id: int, now: datetime
) -> int | None:
    """The compare-and-set of ``reinstate``: the old pass's id, or None when the renewal is
    not invited in an open window any more."""
    window_open = (
        select(_CAMPAIGN.c.id)
        .where(
            _CAMPAIGN.c.state == "open",
            or_(_CAMPAIGN.c.opens_at.is_(None), _CAMPAIGN.c.opens_at <= now),
            or_(_CAMPAIGN.c.closes_at.is_(None), _CAMPAIGN.c.closes_at > now),
        )
        .scalar_subquery()
    )
    conn = await connection_of(session)
    moved = await conn.execute(
        update(_RENEWAL)
        .where(
            _RENEWAL.c.id == renewal_id,
            _RENEWAL.c.state == "invited",
            _RENEWAL.c.campaign_id.in_(window_open),
        )
        .values(state="renewed", renewed_at=now, new_pass_id=pass_id)
        .returning(_RENEWAL.c.pass_id)
    )
    found = moved.scalar_one_or_none()
    return int(found) if found is not None else None


async def _give_back_kept(session: AsyncSession, renewal_id: int) -> None:
    """The seat kept for the holder back: its claims deleted, each date's place given back to
    the gauge of the seat's area."""
    conn = await connection_of(session)
    deleted = await conn.execute(
        delete(_CLAIM)
        .where(_CLAIM.c.renewal_id == renewal_id)
        .returning(_CLAIM.c.performance_id, _CLAIM.c.seat_id)
    )
    claims = deleted.all()
    if not claims:
        return
    areas = await conn.execute(
        select(_SEAT.c.id, _SEAT.c.area_id).where(_SEAT.c.id.in_({s for _p, s in claims}))
    )
    area_of = {int(s): int(a) for s, a in areas.all()}
    for (performance_id, area_id), n in sorted(Counter((p, area_of[s]) for p, s in claims).items()):
        await conn.execute(
            update(_GAUGE)
            .where(_GAUGE.c.performance_id == performance_id, _GAUGE.c.area_id == area_id)
            .values(remaining=_GAUGE.c.remaining + n)
        )


async def _restore_identity(session: AsyncSession, pass_id: int, old_pass_id: int) -> None:
    """The pass takes back the old pass's code and secret and its ``renewed_from_id``."""
    conn = await connection_of(session)
    old = (
        await conn.execute(select(_PASS.c.code, _PASS.c.secret).where(_PASS.c.id == old_pass_id))
    ).one()
    await conn.execute(
        update(_PASS)
        .where(_PASS.c.id == pass_id)
        .values(code=old.code, secret=old.secret, renewed_from_id=old_pass_id)
    )
