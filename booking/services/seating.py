"""The seat map of one tariff at one date, for choosing seats section -> row -> seat.

Holding still goes through ``holds.hold`` with chosen seat ids: this only shows what is free
now, and the hold re-checks (a seat taken meanwhile answers ``seat_taken``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.context import Context
from booking.errors import BookingError
from booking.tables.catalog import Area, Performance, Seat, SeatClaim, Tariff


@dataclass(frozen=True, slots=True)
class SeatOption:
    id: int
    section: str
    row: str
    number: int
    free: bool


async def seat_map(ctx: Context, *, performance_id: int, tariff_id: int) -> list[SeatOption]:
    """Every seat the tariff sells at this date, free or not, in venue order (section, row,
    position). Empty for a general-admission tariff. Raises ``unknown_tariff`` when the tariff
    does not belong to the date's event."""

    async def work(session: AsyncSession) -> list[SeatOption]:
        area = await _area(session, performance_id, tariff_id)
        if area.kind != "seated":
            return []
        taken = select(col(SeatClaim.seat_id)).where(
            col(SeatClaim.performance_id) == performance_id
        )
        rows = await session.execute(
            select(Seat, col(Seat.id).in_(taken))
            .where(col(Seat.area_id) == area.id)
            .order_by(col(Seat.section), col(Seat.row), col(Seat.position))
        )
        return [
            SeatOption(seat.id or 0, seat.section, seat.row, seat.number, not claimed)
            for seat, claimed in rows.all()
        ]

    return await ctx.db.read(work)


async def _area(session: AsyncSession, performance_id: int, tariff_id: int) -> Area:
    row = (
        await session.execute(
            select(Area, Performance)
            .join(Tariff, col(Tariff.area_id) == Area.id)
            .join(Performance, col(Performance.event_id) == Tariff.event_id)
            .where(col(Tariff.id) == tariff_id, col(Performance.id) == performance_id)
        )
    ).one_or_none()
    if row is None:
        raise BookingError("unknown_tariff")
    return row[0]
