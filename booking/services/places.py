"""Taking and giving back places: gauges and seat claims, the two inventory guards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking.errors import BookingError
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Item
from booking.tables.catalog import Gauge, Seat, SeatClaim

# Prepared (compiled once) on the table: a write transaction holds no Gauge object for the
# ORM to keep in step, so the statement runs on the connection without the ORM.
_GAUGE: Any = Gauge.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
_TAKE = Prepared(
    update(_GAUGE)
    .where(
        _GAUGE.c.performance_id == bindparam("p"),
        _GAUGE.c.area_id == bindparam("a"),
        _GAUGE.c.remaining >= bindparam("n"),
    )
    .values(remaining=_GAUGE.c.remaining - bindparam("n"))
    .returning(_GAUGE.c.id)  # the updated row, if any: no driver rowcount needed
)


async def take_gauge(
    session: AsyncSession | AsyncConnection, performance_id: int, area_id: int, n: int
) -> bool:
    """Decrement the gauge only if ``n`` places remain: the database decides, not a prior read."""
    conn = await connection_of(session)
    done = await _TAKE.run(conn, {"n": n, "p": performance_id, "a": area_id})
    return len(done.rows) == 1


_CLAIM: Any = SeatClaim.__table__  # type: ignore[attr-defined]
_CLAIM_SEAT = Prepared(insert(_CLAIM))


async def claim_seats(
    session: AsyncSession | AsyncConnection,
    performance_id: int,
    claims: Sequence[tuple[int, int]],
) -> None:
    """Claim (seat_id, item_id) pairs; the unique (performance, seat) makes the loser fail.

    No savepoint: a refused claim raises BookingError, which rolls the caller's whole
    transaction back (a failed statement writes nothing on SQLite; on PostgreSQL the
    transaction is then aborted and only a rollback follows). Every pass sale and renewal
    claims a seat at each of its dates through here, so it is a prepared Core INSERT."""
    rows = [{"performance_id": performance_id, "seat_id": s, "item_id": i} for s, i in claims]
    if not rows:
        return
    conn = await connection_of(session)
    try:
        await _CLAIM_SEAT.run_many(conn, rows)
    except IntegrityError:
        raise BookingError("seat_taken", seat="") from None


async def release_items(session: AsyncSession, items: Iterable[Item]) -> None:
    """Give back every place the items hold: gauge increments and seat claims deleted."""
    items = list(items)
    per_gauge = Counter((i.performance_id, i.area_id) for i in items)
    for (performance_id, area_id), n in sorted(per_gauge.items()):
        await session.execute(
            update(Gauge)
            .where(Gauge.performance_id == performance_id, Gauge.area_id == area_id)  # type: ignore[arg-type]
            .values(remaining=Gauge.remaining + n)
        )
    seated = [i.id for i in items if i.seat_id is not None]
    if seated:
        await session.execute(delete(SeatClaim).where(SeatClaim.item_id.in_(seated)))  # type: ignore[union-attr]


async def retake_items(
    session: AsyncSession, items: Sequence[Item], *, pass_id: int | None = None
) -> bool:
    """Take the same places again (a late payment); all or nothing, inside a savepoint. The
    seats of a season pass's booking are claimed for the pass again (``pass_id``), as at its
    sale: renewals find a holder's seat by its claims."""
    try:
        async with session.begin_nested():
            per_gauge = Counter((i.performance_id, i.area_id) for i in items)
            for (performance_id, area_id), n in sorted(per_gauge.items()):
                if not await take_gauge(session, performance_id, area_id, n):
                    raise BookingError("sold_out")
            session.add_all(
                SeatClaim(
                    performance_id=i.performance_id,
                    seat_id=i.seat_id,
                    item_id=i.id,
                    pass_id=pass_id,
                )
                for i in items
                if i.seat_id is not None
            )
            await session.flush()
    except (BookingError, IntegrityError):
        return False
    return True


async def free_seats(session: AsyncSession, performance_id: int, area_id: int) -> list[Seat]:
    """Seats of the area nobody holds at this performance, best first (venue order)."""
    taken = select(col(SeatClaim.seat_id)).where(col(SeatClaim.performance_id) == performance_id)
    query = (
        select(Seat)
        .where(col(Seat.area_id) == area_id, col(Seat.id).not_in(taken))
        .order_by(col(Seat.section), col(Seat.row), col(Seat.position))
    )
    return list((await session.execute(query)).scalars())


def adjacent_run(seats: Sequence[Seat], n: int) -> list[Seat] | None:
    """The first ``n`` seats side by side in one row, or None."""
    run: list[Seat] = []
    for seat in seats:
        if (
            run
            and (seat.section, seat.row) == (run[-1].section, run[-1].row)
            and (seat.position == run[-1].position + 1)
        ):
            run.append(seat)
        else:
            run = [seat]
        if len(run) == n:
            return run
    return None
