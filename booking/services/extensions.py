"""Asking for more time, and the organizer's answer (SPEC §3, "Extension requests")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.deadlines import (
    check_extension,
    check_request,
    requested_until,
)
from booking.rules.limits import REASON_MAX, capped
from booking.services.common import booking_for, event_of, notify_skip
from booking.tables.bookings import Booking, ExtensionRequest, HistoryEntry
from booking.tables.catalog import Event
from booking.tables.customers import Customer
from booking.views import ExtensionView, extension_proposal


async def request_extension(
    ctx: Context, *, actor: Actor, reference: str, until: date | None = None, reason: str = ""
) -> ExtensionView:
    """Ask for a later deadline. A first request within the event's auto limit is approved."""
    reason = capped(reason, REASON_MAX)  # refused with its length, never cut without a word

    async def work(session: AsyncSession) -> ExtensionView:
        booking = await booking_for(session, reference, actor)
        if booking.status not in states.OPEN or booking.checkout:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        pending = await session.execute(
            select(col(ExtensionRequest.id)).where(
                col(ExtensionRequest.booking_id) == booking.id,
                col(ExtensionRequest.status) == "pending",
            )
        )
        if pending.first() is not None:
            raise BookingError("extension_pending")
        event, _ = await event_of(session, booking)
        now = ctx.clock.now()
        if booking.deadline is not None and booking.deadline >= booking.starts_at:
            raise BookingError("deadline_at_performance")  # nothing later could be granted
        wanted = requested_until(until, timezone=event.timezone) if until else None
        if wanted is not None:
            # Asking for "more time" never shortens: an earlier date is refused here.
            code = check_request(
                wanted, deadline=booking.deadline, now=now, starts_at=booking.starts_at
            )
            if code is not None:
                raise BookingError(code)
        request = ExtensionRequest(
            booking_id=booking.id or 0,
            requested_at=now,
            requested_until=wanted,
            reason=reason,
        )
        session.add(request)
        await session.flush()
        history.record(
            session,
            booking_id=booking.id or 0,
            actor=actor,
            at=now,
            action="extension_requested",
            until=wanted,
            reason=request.reason,
        )
        if _auto_approvable(event, booking, extension_proposal(event, booking, wanted, now)):
            await _decide(
                session,
                request,
                booking,
                Actor.system("auto-approval"),
                now,
                approve=True,
                until=extension_proposal(event, booking, wanted, now),
                message="",
            )
        customer = await session.get(Customer, booking.customer_id)
        return ExtensionView.of(request, booking, event, customer, now)

    return await ctx.db.write(work)


async def approve_extension(
    ctx: Context, *, actor: Actor, request_id: int, until: datetime | None = None
) -> ExtensionView:
    """Grant the request (``until`` defaults to the proposal); the customer is told.

    A date that is not later than the current deadline is refused (``deadline_not_later``):
    the request stays pending and nobody is told anything."""
    return await _answer(ctx, actor, request_id, approve=True, until=until, message="")


async def deny_extension(
    ctx: Context, *, actor: Actor, request_id: int, message: str = ""
) -> ExtensionView:
    return await _answer(ctx, actor, request_id, approve=False, until=None, message=message)


async def list_requests(ctx: Context, *, status: str = "pending") -> list[ExtensionView]:
    async def work(session: AsyncSession) -> list[ExtensionView]:
        rows = await session.execute(
            select(ExtensionRequest, Booking, Event, Customer)
            .join(Booking, col(Booking.id) == ExtensionRequest.booking_id)
            .join(Event, col(Event.id) == Booking.event_id)
            .join(Customer, col(Customer.id) == Booking.customer_id)
            .where(col(ExtensionRequest.status) == status)
            .order_by(col(Booking.deadline), col(ExtensionRequest.id))
        )
        now = ctx.clock.now()
        return [ExtensionView.of(r, b, e, c, now) for r, b, e, c in rows.all()]

    return await ctx.db.read(work)


def _auto_approvable(event: Event, booking: Booking, until: datetime) -> bool:
    if event.auto_extend_days <= 0 or booking.extension_count > 0 or booking.deadline is None:
        return False
    return until - booking.deadline <= timedelta(days=event.auto_extend_days)


def _check(until: datetime, booking: Booking, now: datetime) -> None:
    code = check_extension(until, deadline=booking.deadline, now=now, starts_at=booking.starts_at)
    if code is not None:
        raise BookingError(code)


async def _answer(
    ctx: Context,
    actor: Actor,
    request_id: int,
    *,
    approve: bool,
    until: datetime | None,
    message: str,
) -> ExtensionView:
    if actor.kind == "customer":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> ExtensionView:
        request = await session.get(ExtensionRequest, request_id)
        if request is None or request.status != "pending":
            raise BookingError("unknown_extension")
        booking = await session.get(Booking, request.booking_id)
        assert booking is not None
        event, _ = await event_of(session, booking)
        now = ctx.clock.now()
        granted = until or extension_proposal(event, booking, request.requested_until, now)
        if approve:
            _check(granted, booking, now)
        await _decide(
            session, request, booking, actor, now, approve=approve, until=granted, message=message
        )
        customer = await session.get(Customer, booking.customer_id)
        return ExtensionView.of(request, booking, event, customer, now)

    return await ctx.db.write(work)


async def _decide(
    session: AsyncSession,
    request: ExtensionRequest,
    booking: Booking,
    actor: Actor,
    now: datetime,
    *,
    approve: bool,
    until: datetime,
    message: str,
) -> None:
    assert booking.id is not None and request.id is not None
    if approve and booking.status not in states.OPEN:
        raise BookingError("not_held", reference=booking.reference, status=booking.status)
    request.status = "approved" if approve else "denied"
    request.decided_at, request.decided_by, request.message = now, actor.name, message[:500]
    if approve:
        request.granted_until = until
        await set_deadline(session, booking, until, now)
    history.record(
        session,
        booking_id=booking.id,
        actor=actor,
        at=now,
        action="extension_approved" if approve else "extension_denied",
        until=until if approve else None,
        message=message,
    )
    customer = await session.get(Customer, booking.customer_id)
    assert customer is not None
    await outbox.enqueue(
        session,
        kind=f"extension_{request.status}",
        customer=customer,
        now=now,
        booking_id=booking.id,
        key=f"extension:{request.id}",
        payload={"until": until.isoformat() if approve else None, "message": message},
        skip_channel=notify_skip(actor),
    )
    asked = await _colleague_who_asked(session, booking)
    if asked is not None:
        asker, channel, at = asked
        await outbox.enqueue(
            session,
            kind=f"extension_{request.status}",
            customer=asker,
            now=now,
            booking_id=booking.id,
            key=f"extension:{request.id}:asker",
            payload={"until": until.isoformat() if approve else None, "message": message},
            # Approved at once as they asked: the bot has just said so in their chat.
            skip_channel="telegram" if at == now and channel == "telegram" else None,
        )


async def _colleague_who_asked(
    session: AsyncSession, booking: Booking
) -> tuple[Customer, str, datetime] | None:
    """The colleague who asked for more time on the owner's booking (the latest request's
    asker, from the history), with the channel and the moment they asked: they hear the
    decision too. None when the owner asked, or the box office did."""
    await session.flush()  # sessions don't autoflush: an auto-approval's request is unwritten
    asked = await session.execute(
        select(col(HistoryEntry.actor_id), col(HistoryEntry.channel), col(HistoryEntry.at))
        .where(
            col(HistoryEntry.booking_id) == booking.id,
            col(HistoryEntry.action) == "extension_requested",
            col(HistoryEntry.actor_kind) == "customer",
        )
        .order_by(col(HistoryEntry.at).desc(), col(HistoryEntry.id).desc())
        .limit(1)
    )
    found = asked.first()
    if found is None or found[0] in (None, booking.customer_id):
        return None
    asker = await session.get(Customer, found[0])
    return (asker, found[1], found[2]) if asker is not None else None


async def set_deadline(
    session: AsyncSession, booking: Booking, until: datetime, now: datetime
) -> None:
    """A new deadline re-opens an overdue hold and re-arms its reminders (their keys hold it).

    The one door every extension goes through (inbox, auto-approval, booking page, release
    screen, bulk): a deadline only ever moves later, never past the performance. The check is
    also part of the UPDATE, a compare-and-set on the status and on the deadline: if the
    release job expired the hold meanwhile, the caller hears ``not_held``; if a colleague gave
    a later deadline after this transaction read the row (PostgreSQL, read committed), nothing
    changes and the caller hears ``deadline_not_later``. Raised before any history or notice
    is written, so nobody is ever told "more time" when none was given.
    """
    if booking.status not in states.OPEN:
        raise BookingError("not_held", reference=booking.reference, status=booking.status)
    _check(until, booking, now)
    later = or_(col(Booking.deadline).is_(None), col(Booking.deadline) < until)
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status.in_(states.OPEN), later)  # type: ignore[arg-type, attr-defined]
        .values(
            deadline=until,
            deadline_set_at=now,
            updated_at=now,
            status=states.HELD,
            extension_count=Booking.extension_count + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.refresh(booking, ["status", "deadline"])
        if booking.status not in states.OPEN:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        _check(until, booking, now)
        raise BookingError("deadline_not_later")
    for name, value in (
        ("deadline", until),
        ("deadline_set_at", now),
        ("updated_at", now),
        ("status", states.HELD),
        ("extension_count", booking.extension_count + 1),
    ):
        set_committed_value(booking, name, value)  # already written; no second UPDATE
