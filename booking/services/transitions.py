"""The one place a booking changes state: compare-and-set, places, history, notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.rules import states
from booking.services import places
from booking.services.common import notify_skip
from booking.tables.bookings import Booking, Item
from booking.tables.customers import Customer


async def move(
    session: AsyncSession,
    booking: Booking,
    *,
    sources: Sequence[str],
    target: str,
    actor: Actor,
    now: datetime,
    notice: str | None,
    **detail: Any,
) -> bool:
    """Move ``booking`` from one of ``sources`` to ``target`` if nobody moved it meanwhile.

    Places are given back when the booking stops holding them. Returns False, changing
    nothing, when the booking had already left ``sources`` (another process won the race).
    """
    assert booking.id is not None
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(list(sources)))  # type: ignore[arg-type, attr-defined]
        .values(status=target, updated_at=now)
        .execution_options(synchronize_session=False)
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
    if notice is not None:
        customer = await session.get(Customer, booking.customer_id)
        assert customer is not None
        await outbox.enqueue(
            session,
            kind=notice,
            customer=customer,
            now=now,
            booking_id=booking.id,
            key=f"{notice}:{booking.id}:{now.isoformat()}",
            payload=detail,
            skip_channel=notify_skip(actor),
        )
    return True
