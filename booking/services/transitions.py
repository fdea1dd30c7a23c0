"""The one place a booking changes state: compare-and-set, places, history. Callers tell the
customer afterwards, through ``outbox.tell_owner`` (one recipients rule for every change)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from booking import history
from booking.actors import Actor
from booking.rules import states
from booking.services import credit_ledger, places
from booking.tables.bookings import Booking, Item


async def move(
    session: AsyncSession,
    booking: Booking,
    *,
    sources: Sequence[str],
    target: str,
    actor: Actor,
    now: datetime,
    due_by: datetime | None = None,
    **detail: Any,
) -> bool:
    """Move ``booking`` from one of ``sources`` to ``target`` if nobody moved it meanwhile.

    ``due_by``: only if the hold is overdue or its deadline has come by then, in the same
    statement, so a colleague's extension committed after our read keeps the hold.

    Places are given back when the booking stops holding them. Returns False, changing
    nothing, when the booking had already left ``sources`` (another process won the race).
    """
    assert booking.id is not None
    statement = update(Booking).where(
        Booking.id == booking.id,  # type: ignore[arg-type]
        Booking.status.in_(list(sources)),  # type: ignore[attr-defined]
    )
    if due_by is not None:
        statement = statement.where(
            or_(col(Booking.status) == states.OVERDUE, col(Booking.deadline) <= due_by)
        )
    result = await session.execute(
        statement.values(status=target, updated_at=now).execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.refresh(booking, ["status"])
        return False
    previous = booking.status
    set_committed_value(booking, "status", target)  # already written; no second UPDATE
    set_committed_value(booking, "updated_at", now)
    if previous in states.HOLDS_PLACES and target not in states.HOLDS_PLACES:
        items = (
            await session.execute(select(Item).where(col(Item.booking_id) == booking.id))
        ).scalars()
        await places.release_items(session, items)
    history.record(session, booking_id=booking.id, actor=actor, at=now, action=target, **detail)
    if target in states.CLOSED:  # pass credit it used goes back to the pass (issue 12, item 7)
        await credit_ledger.give_back(session, [booking.id], actor=actor, now=now)
    return True
