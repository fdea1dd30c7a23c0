"""The console's view of the outbox: notices that died or keep failing, retried or discarded;
what waits per channel; and what one staff action really queued for its customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history
from booking.actors import Actor
from booking.context import Context
from booking.outbox import channels_for
from booking.queries.listing import Page, bounds, paged
from booking.rules.references import normalize_reference
from booking.tables.bookings import Booking
from booking.tables.customers import Customer
from booking.tables.outbox import OutboxMessage

KINDS = ("dead", "retrying")
DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: int
    kind: str
    channel: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime
    created_at: datetime
    customer_id: int
    customer_name: str
    reference: str | None


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    dead: int
    retrying: int


@dataclass(frozen=True, slots=True)
class OutboxResult:
    done: tuple[int, ...]
    skipped: tuple[int, ...]  # gone, already sent, or being delivered right now


def _which(kind: str) -> object:
    if kind == "dead":
        return col(OutboxMessage.status) == "dead"
    return (col(OutboxMessage.status) == "pending") & (col(OutboxMessage.attempts) > 0)


async def counts(ctx: Context) -> OutboxCounts:
    async def work(session: AsyncSession) -> OutboxCounts:
        found = {}
        for kind in KINDS:
            query = select(func.count()).select_from(OutboxMessage).where(_which(kind))  # type: ignore[arg-type]
            found[kind] = int((await session.execute(query)).scalar_one())
        return OutboxCounts(found["dead"], found["retrying"])

    return await ctx.db.read(work)


async def list_notices(
    ctx: Context, *, kind: str = "dead", page: int = 1, per_page: int = 50
) -> Page[NoticeRow]:
    page, per_page, offset = bounds(page, per_page)
    query = (
        select(
            col(OutboxMessage.id),
            col(OutboxMessage.kind),
            col(OutboxMessage.channel),
            col(OutboxMessage.status),
            col(OutboxMessage.attempts),
            col(OutboxMessage.last_error),
            col(OutboxMessage.next_attempt_at),
            col(OutboxMessage.created_at),
            col(OutboxMessage.customer_id),
            col(Customer.name),
            col(Booking.reference),
        )
        .join(Customer, col(Customer.id) == OutboxMessage.customer_id)
        .outerjoin(Booking, col(Booking.id) == OutboxMessage.booking_id)
        .where(_which(kind if kind in KINDS else "dead"))  # type: ignore[arg-type]
        .order_by(col(OutboxMessage.id).desc())
        .offset(offset)
        .limit(per_page + 1)
    )

    async def work(session: AsyncSession) -> Page[NoticeRow]:
        rows = [NoticeRow(*r) for r in (await session.execute(query)).all()]  # type: ignore[arg-type]
        return paged(rows, page, per_page)

    return await ctx.db.read(work)


async def retry(ctx: Context, *, actor: Actor, ids: Sequence[int]) -> OutboxResult:
    """Deliver again now. A dead notice gets one more attempt (it dies again if that fails)."""
    return await _change(ctx, actor, ids, retry=True)


async def discard(ctx: Context, *, actor: Actor, ids: Sequence[int]) -> OutboxResult:
    """Never deliver these; they stay listed in the booking's notices as discarded."""
    return await _change(ctx, actor, ids, retry=False)


async def _change(ctx: Context, actor: Actor, ids: Sequence[int], *, retry: bool) -> OutboxResult:
    wanted = sorted(set(ids))

    async def work(session: AsyncSession) -> OutboxResult:
        now = ctx.clock.now()
        # Compare-and-set: only dead or pending notices nobody is delivering at this moment.
        free = or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now)
        values: dict[str, object] = (
            {"status": "pending", "next_attempt_at": now, "lease_until": None}
            if retry
            else {"status": DISCARDED, "last_error": f"discarded by {actor.name}"[:500]}
        )
        changed = (
            await session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(wanted),
                    col(OutboxMessage.status).in_(("dead", "pending")),
                    free,
                )
                .values(**values)
                .returning(col(OutboxMessage.id), col(OutboxMessage.booking_id))
                .execution_options(synchronize_session=False)
            )
        ).all()
        rows = [
            history.row(
                booking_id=booking_id,
                actor=actor,
                at=now,
                action="notice_retried" if retry else "notice_discarded",
                notice=message_id,
            )
            for message_id, booking_id in changed
            if booking_id is not None
        ]
        await history.record_many(session, rows)
        done = {int(m or 0) for m, _ in changed}
        return OutboxResult(tuple(sorted(done)), tuple(i for i in wanted if i not in done))

    return await ctx.db.write(work)


# -- what one action told the customer ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Told:
    """The notices one action queued for its booking: (channel, status) per outbox row, in
    the order they were written; ``reachable`` is False when the customer has no channel left
    (no email, or one that bounced for good, and no reachable Telegram chat)."""

    channels: tuple[tuple[str, str], ...]
    reachable: bool


async def last_notice(ctx: Context) -> int:
    """The newest outbox row's id: taken before an action, ``notices_since`` then reads what
    that action queued (ids only grow)."""

    async def work(session: AsyncSession) -> int:
        query = select(func.max(col(OutboxMessage.id)))
        return int((await session.execute(query)).scalar_one() or 0)

    return await ctx.db.read(work)


async def notices_since(ctx: Context, *, reference: str, after: int) -> Told:
    """The notices queued for booking ``reference`` after row ``after``, as they stand now
    (a notice already delivered reads "sent"), and whether its customer can be reached."""
    ref = normalize_reference(reference) or ""

    async def work(session: AsyncSession) -> Told:
        booking = (
            await session.execute(select(Booking).where(col(Booking.reference) == ref))
        ).scalar_one_or_none()
        if booking is None:
            return Told((), reachable=False)
        rows = (
            await session.execute(
                select(col(OutboxMessage.channel), col(OutboxMessage.status))
                .where(col(OutboxMessage.booking_id) == booking.id, col(OutboxMessage.id) > after)
                .order_by(col(OutboxMessage.id))
            )
        ).all()
        customer = await session.get(Customer, booking.customer_id)
        reachable = bool(rows) or (customer is not None and bool(channels_for(customer)))
        return Told(tuple((str(c), str(s)) for c, s in rows), reachable=reachable)

    return await ctx.db.read(work)


@dataclass(frozen=True, slots=True)
class Waiting:
    """Notices not yet delivered, per channel (pending: never tried, or to be tried again)."""

    by_channel: dict[str, int]

    def on(self, channel: str) -> int:
        return self.by_channel.get(channel, 0)

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


async def waiting(ctx: Context) -> Waiting:
    """One count per channel, on the ``ix_outbox_due`` index (status, channel, …)."""
    query = (
        select(col(OutboxMessage.channel), func.count())
        .where(col(OutboxMessage.status) == "pending")
        .group_by(col(OutboxMessage.channel))
    )

    async def work(session: AsyncSession) -> Waiting:
        return Waiting({str(c): int(n) for c, n in (await session.execute(query)).all()})

    return await ctx.db.read(work)
