"""The outbox: notices written with the change, delivered later through channel adapters."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from booking import views
from booking.actors import Actor
from booking.context import Context
from booking.services import health
from booking.sql import insert_ignoring_duplicates, skip_locked
from booking.tables.bookings import Booking
from booking.tables.customers import Customer, Organization
from booking.tables.outbox import OutboxMessage

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)


class RetryLater(Exception):
    """The channel could not deliver now (rate limit, server down); try again after a delay.

    ``outage``: the channel itself is out (the SMTP server down or refusing us, the Bot API
    answering 5xx), not this one message (a greylisted address, a rate limit). An outage is
    logged once and shown in /healthz until a delivery on that channel goes through.
    """

    def __init__(self, reason: str, *, after: float | None = None, outage: bool = False) -> None:
        super().__init__(reason)
        self.after = after
        self.outage = outage


class Unreachable(Exception):
    """This channel will never reach the customer (bot blocked, address bounced)."""


class Channel(Protocol):
    """What the bot and mail adapters implement. ``deliver`` renders in ``message.locale``."""

    async def deliver(self, message: views.OutboxView) -> None: ...


class Recipient(Protocol):
    """What a notice needs of its customer: a Customer row, or the columns of one."""

    @property
    def id(self) -> int | None: ...
    @property
    def language(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def email_undeliverable(self) -> bool: ...
    @property
    def telegram_chat_id(self) -> int | None: ...
    @property
    def telegram_unreachable(self) -> bool: ...
    @property
    def customer_type(self) -> str: ...
    @property
    def organization_id(self) -> int | None: ...


def channels_for(customer: Recipient) -> list[str]:
    """Telegram when linked, email otherwise; organization contacts get both (SPEC §3)."""
    telegram = customer.telegram_chat_id is not None and not customer.telegram_unreachable
    email = bool(customer.email) and not customer.email_undeliverable
    if customer.organization_id is not None or customer.customer_type != "individual":
        chosen = [c for c, ok in (("telegram", telegram), ("email", email)) if ok]
    elif telegram:
        chosen = ["telegram"]
    else:
        chosen = ["email"] if email else []
    return chosen


def rows_for(
    *,
    kind: str,
    customer: Recipient,
    now: datetime,
    key: str,
    booking_id: int | None = None,
    payload: dict[str, Any] | None = None,
    channels: Sequence[str] | None = None,
    skip_channel: str | None = None,
) -> list[dict[str, Any]]:
    """One outbox row per channel of the customer; ``key`` makes each happen at most once."""
    assert customer.id is not None
    return [
        {
            "dedupe_key": f"{key}:{channel}",
            "kind": kind,
            "channel": channel,
            "booking_id": booking_id,
            "customer_id": customer.id,
            "locale": customer.language,
            "payload": json.dumps(payload or {}, default=str, sort_keys=True),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "lease_owner": "",
            "last_error": "",
        }
        for channel in (channels or channels_for(customer))
        if channel != skip_channel
    ]


def booking_rows(
    *,
    kind: str,
    owner: Recipient,
    actor: Actor,
    now: datetime,
    key: str,
    booking_id: int | None,
    payload: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Who hears of a change to a booking, decided here for every notice: its owner, in every
    channel they have. Only the owner's own action in the bot skips their chat, where the bot
    has just answered; a colleague acting for the owner is answered by their own channel, and
    the owner is told everywhere (the owner did not see it happen)."""
    own_chat = actor.kind == "customer" and actor.id == owner.id and actor.channel == "telegram"
    return rows_for(
        kind=kind,
        customer=owner,
        now=now,
        key=key,
        booking_id=booking_id,
        payload=payload,
        skip_channel="telegram" if own_chat else None,
    )


async def tell_owner(
    session: AsyncSession,
    *,
    kind: str,
    booking: Booking,
    actor: Actor,
    now: datetime,
    key: str,
    payload: dict[str, Any] | None = None,
) -> int:
    """Queue ``kind`` for the owner of ``booking`` (``booking_rows``); when a colleague acted,
    the payload names them ("by"), written now: a later rename or move must not change who is
    said to have acted."""
    owner = await session.get(Customer, booking.customer_id)
    assert owner is not None
    payload = dict(payload or {})
    if actor.kind == "customer" and actor.id is not None and actor.id != owner.id:
        payload["by"] = await _colleague(session, actor.id, actor.name)
    rows = booking_rows(
        kind=kind,
        owner=owner,
        actor=actor,
        now=now,
        key=key,
        booking_id=booking.id,
        payload=payload,
    )
    return await enqueue_rows(session, rows)


async def _colleague(session: AsyncSession, customer_id: int, fallback: str) -> str:
    """ "Anna Muster (Acme SA)": the name and the organization the owner knows them by."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return fallback
    organization = (
        await session.get(Organization, customer.organization_id)
        if customer.organization_id is not None
        else None
    )
    company = organization.name if organization is not None else customer.company
    name = customer.name or fallback
    return f"{name} ({company})" if company else name


async def enqueue_rows(
    session: AsyncSession | AsyncConnection, rows: Sequence[dict[str, Any]]
) -> int:
    """Insert the rows unless their dedupe key is there already; returns how many were new."""
    table: Any = OutboxMessage.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
    return await insert_ignoring_duplicates(session, table, rows, key="dedupe_key")


async def enqueue(session: AsyncSession | AsyncConnection, **notice: Any) -> int:
    """Queue a notice (see ``rows_for``) in the caller's transaction; returns rows new."""
    return await enqueue_rows(session, rows_for(**notice))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


async def deliver_due(
    ctx: Context, *, limit: int = 100, concurrency: int = 10, owner: str | None = None
) -> DeliveryReport:
    """Claim due messages for the channels this process has, deliver them, record the outcome."""
    owner = owner or uuid.uuid4().hex
    channels = sorted(ctx.channels)
    report = DeliveryReport()
    if not channels:
        return report
    claimed = await ctx.db.write(lambda s: _claim(s, ctx.clock.now(), channels, limit, owner))
    # Deliver ``concurrency`` at a time and record each group's successes in one transaction:
    # a crash re-sends at most one group (delivery is at-least-once anyway), and a busy outbox
    # does not pay one write transaction per message.
    for start in range(0, len(claimed), concurrency):
        group = claimed[start : start + concurrency]
        outcomes = await asyncio.gather(*(_deliver_one(ctx, i, owner, report) for i in group))
        done = {
            status: [i for i, o in zip(group, outcomes, strict=True) if o and o[0] == status]
            for status in ("sent", "skipped")
        }
        working = {o[1] for o in outcomes if o and o[0] == "sent"}
        if done["sent"] or done["skipped"]:
            finish = partial(_finish, now=ctx.clock.now(), owner=owner, done=done, working=working)
            await ctx.db.write(finish)
    return report


async def _claim(
    session: AsyncSession, now: datetime, channels: list[str], limit: int, owner: str
) -> list[int]:
    query = (
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.channel).in_(channels),
            col(OutboxMessage.next_attempt_at) <= now,
            (col(OutboxMessage.lease_until).is_(None)) | (col(OutboxMessage.lease_until) < now),
        )
        .order_by(col(OutboxMessage.next_attempt_at))
        .limit(limit)
    )
    if skip_locked(session):
        query = query.with_for_update(skip_locked=True)
    # Primary keys of stored rows, never None.
    ids = cast(list[int], list((await session.execute(query)).scalars()))
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .values(lease_until=now + LEASE, lease_owner=owner)
        )
    return ids


async def _deliver_one(
    ctx: Context, message_id: int, owner: str, report: DeliveryReport
) -> tuple[str, str] | None:
    """Deliver one message; returns ("sent" or "skipped", its channel) for the caller to
    record, or None when the outcome (retry, dead) is already recorded."""
    view = await ctx.db.read(lambda s: views.load_outbox(s, message_id))
    if view is None:
        return None
    if not views.still_relevant(view):
        report.skipped += 1
        return "skipped", view.channel
    channel = ctx.channels[view.channel]
    try:
        await channel.deliver(view)
    except Unreachable as exc:
        reason = str(exc)
        await ctx.db.write(lambda s: _unreachable(s, ctx.clock.now(), message_id, owner, reason))
        report.dead += 1
        return None
    except RetryLater as exc:
        outage = str(exc) if exc.outage else None
        await _retry(ctx, view, owner, str(exc), exc.after, report, outage=outage)
        return None
    except Exception as exc:  # an adapter bug or outage must not stop the other messages
        log.exception("delivery of outbox message %s failed", message_id)
        await _retry(ctx, view, owner, f"{type(exc).__name__}: {exc}", None, report)
        return None
    report.sent += 1
    return "sent", view.channel


async def _retry(
    ctx: Context,
    view: views.OutboxView,
    owner: str,
    error: str,
    after: float | None,
    report: DeliveryReport,
    *,
    outage: str | None = None,
) -> None:
    attempts = view.attempts + 1
    dead = attempts >= ctx.settings.outbox_max_attempts
    delay = timedelta(seconds=after) if after is not None else backoff(attempts)
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == view.id, OutboxMessage.lease_owner == owner)  # type: ignore[arg-type]
            .values(
                attempts=attempts,
                status="dead" if dead else "pending",
                last_error=error[:500],
                next_attempt_at=now + delay,
                lease_until=None,
            )
        )
        if outage is not None:
            await _outage(session, view.channel, outage, now)

    await ctx.db.write(work)
    report.errors.append(error)
    if dead:
        report.dead += 1
    else:
        report.retried += 1


async def _outage(session: AsyncSession, channel: str, reason: str, now: datetime) -> None:
    """Once per episode, whichever process sees it first (``health.channel_down``)."""
    if await health.channel_down(session, channel=channel, reason=reason, now=now):
        log.warning(
            "%s channel is out, notices wait and are retried: %s (said once until it is back)",
            channel,
            reason,
        )


async def _finish(
    session: AsyncSession,
    now: datetime,
    owner: str,
    done: dict[str, list[int]],
    working: Iterable[str] = (),
) -> None:
    """Mark delivered (or no longer relevant) messages, if this process still holds them, and
    end the outage of every channel that just delivered one."""
    for channel in await health.channels_up(session, channels=working):
        log.info("%s channel is back: notices go out again", channel)
    for status, ids in done.items():
        if ids:
            await session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.lease_owner) == owner)
                .values(
                    status=status,
                    sent_at=now,
                    lease_until=None,
                    last_error="no longer relevant" if status == "skipped" else "",
                )
            )


async def _unreachable(
    session: AsyncSession, now: datetime, message_id: int, owner: str, error: str
) -> None:
    """Mark the channel dead for this customer and fall back to the other channel, if any."""
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.lease_owner != owner:
        return
    customer = await session.get(Customer, message.customer_id)
    assert customer is not None
    message.status, message.last_error, message.lease_until = "dead", error[:500], None
    if message.channel == "telegram":
        customer.telegram_unreachable = True
    elif message.channel == "email":
        customer.email_undeliverable = True
    fallback = [c for c in channels_for(customer) if c != message.channel]
    if fallback:
        await enqueue(
            session,
            kind=message.kind,
            customer=customer,
            now=now,
            booking_id=message.booking_id,
            key=message.dedupe_key.rsplit(":", 1)[0],
            payload=json.loads(message.payload),
            channels=fallback,
        )
