"""The database side of inbound email (ARCHITECTURE "Notifications out, replies in").

Every message read from the mailbox is recorded once, unique on its Message-ID. A command
runs in the *same* transaction as that record and as the answer queued in the outbox, so a
worker that dies anywhere before the commit leaves nothing behind (the next run acts), and one
that dies after it finds the record (the next run is a no-op): each message acts exactly once.

To run a service inside that transaction without duplicating its rules, the service is given
a context whose database joins the caller's session (``_Joined``). Only services that do not
recover from a database error themselves may be joined (cancel, request_extension, the reads);
``record_payment`` may not, and the email channel never pays: it sends a pay link.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.db import Database
from booking.errors import BookingError
from booking.rules import states
from booking.rules.references import normalize_reference
from booking.services.common import check_owner
from booking.services.customers import email_key
from booking.sql import insert_ignoring_duplicates
from booking.tables.bookings import Booking
from booking.tables.channels import InboundMail
from booking.tables.customers import Customer
from booking.views import BookingView, CustomerView, load_booking

T = TypeVar("T")
MAIL_ACTOR = Actor.system("email")
KINDS = (
    "human", "auto_reply", "bounce", "list", "report", "challenge", "too_large", "unreadable",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Received:
    """The facts of one inbound message that are stored."""

    message_id: str
    from_addr: str
    size: int
    kind: str = "human"


@dataclass(frozen=True, slots=True)
class Answer:
    """An email to queue with the record: ``kind`` is rendered by the mail channel."""

    kind: str
    customer_id: int
    booking_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Route:
    """Who wrote and about which booking; ``allowed`` when the sender owns it or is a contact
    of its organization (house rule 11: the token is a reference, never an authority)."""

    sender: CustomerView | None
    booking: BookingView | None
    owner: CustomerView | None
    allowed: bool


@dataclass(frozen=True, slots=True)
class Acted:
    duplicate: bool
    error: BookingError | None = None


async def seen(ctx: Context, *, message_id: str) -> bool:
    """True once a message with this Message-ID was recorded (cheap check before the work)."""

    async def work(session: AsyncSession) -> bool:
        query = select(col(InboundMail.id)).where(col(InboundMail.message_id) == message_id)
        return (await session.execute(query)).first() is not None

    return await ctx.db.read(work)


async def route(ctx: Context, *, sender_email: str, reference: str | None) -> Route:
    """The sender's customer record (by normalized email) and the booking ``reference`` names."""

    async def work(session: AsyncSession) -> Route:
        sender = await _customer_by_email(session, sender_email)
        ref = normalize_reference(reference) if reference else None
        booking = None
        if ref is not None:
            query = select(Booking).where(col(Booking.reference) == ref)
            booking = (await session.execute(query)).scalar_one_or_none()
        if booking is None:
            return Route(CustomerView.of(sender) if sender else None, None, None, False)
        owner = await session.get(Customer, booking.customer_id)
        allowed = False
        if sender is not None and sender.id is not None:
            try:
                actor = Actor.customer(sender.id, sender.name, "email")
                await check_owner(session, booking, actor)
                allowed = True
            except BookingError:
                allowed = False
        return Route(
            CustomerView.of(sender) if sender else None,
            await load_booking(session, booking),
            CustomerView.of(owner) if owner else None,
            allowed,
        )

    return await ctx.db.read(work)


async def record(
    ctx: Context,
    *,
    mail: Received,
    booking_id: int | None = None,
    customer_id: int | None = None,
    command: str = "",
    outcome: str = "",
    answers: Sequence[Answer] = (),
) -> bool:
    """Record a message that changes nothing (help, refusal, auto-reply…) with its answers.
    Returns False when it was already recorded: then nothing is queued again."""

    async def work(session: AsyncSession) -> bool:
        if not await _claim(session, ctx, mail, booking_id, customer_id, command, outcome):
            return False
        await _queue(session, ctx, mail, answers)
        return True

    return await ctx.db.write(work)


async def act(
    ctx: Context,
    *,
    mail: Received,
    booking_id: int | None,
    customer_id: int,
    command: str,
    action: Callable[[Context], Awaitable[T]],
    answers: Callable[[T], Sequence[Answer]],
    refusal: Callable[[BookingError], Sequence[Answer]],
) -> Acted:
    """Run ``action`` (one service call, given a context that joins this transaction), record
    the message and queue ``answers(result)``, all in one commit. A BookingError rolls the
    attempt back; the message is then recorded with ``refusal(error)`` as its answers."""

    async def work(session: AsyncSession) -> Acted:
        if not await _claim(session, ctx, mail, booking_id, customer_id, command, "done"):
            return Acted(duplicate=True)
        joined = dataclasses.replace(ctx, db=_Joined(ctx.db, session))
        result = await action(joined)
        await _queue(session, ctx, mail, answers(result))
        return Acted(duplicate=False)

    try:
        return await ctx.db.write(work)
    except BookingError as error:
        new = await record(
            ctx,
            mail=mail,
            booking_id=booking_id,
            customer_id=customer_id,
            command=command,
            outcome=error.code,
            answers=refusal(error),
        )
        return Acted(duplicate=not new, error=error)


async def record_bounce(
    ctx: Context, *, mail: Received, failed: Sequence[str], reference: str | None
) -> bool:
    """A delivery failure: mark the addresses undeliverable (notices fall back to Telegram
    when linked) and say so in the history of the booking it was about, or of the customers'
    open bookings when the bounce names none."""
    keys = sorted({k for k in (_key(a) for a in failed) if k})

    async def work(session: AsyncSession) -> bool:
        if not await _claim(session, ctx, mail, None, None, "", f"{len(keys)} address(es)"):
            return False
        if not keys:
            return True
        customers = list(
            (await session.execute(select(Customer).where(col(Customer.email_key).in_(keys))))
            .scalars()
            .all()
        )
        ids = [c.id for c in customers if c.id is not None]
        if not ids:
            return True
        await session.execute(
            update(Customer).where(col(Customer.id).in_(ids)).values(email_undeliverable=True)
        )
        query = select(Booking).where(col(Booking.customer_id).in_(ids))
        ref = normalize_reference(reference) if reference else None
        query = (
            query.where(col(Booking.reference) == ref)
            if ref
            else query.where(col(Booking.status).in_(states.OPEN)).limit(50)
        )
        emails = {c.id: c.email or "" for c in customers}
        now = ctx.clock.now()
        for booking in (await session.execute(query)).scalars():
            history.record(
                session,
                booking_id=booking.id or 0,
                actor=MAIL_ACTOR,
                at=now,
                action="email_bounced",
                address=emails.get(booking.customer_id, ""),
            )
        return True

    return await ctx.db.write(work)


def _key(address: str) -> str | None:
    try:
        return email_key(address)
    except BookingError:
        return None


async def _customer_by_email(session: AsyncSession, address: str) -> Customer | None:
    key = _key(address)
    if key is None:
        return None
    query = select(Customer).where(col(Customer.email_key) == key)
    return (await session.execute(query)).scalar_one_or_none()


async def _claim(
    session: AsyncSession,
    ctx: Context,
    mail: Received,
    booking_id: int | None,
    customer_id: int | None,
    command: str,
    outcome: str,
) -> bool:
    """Insert the record; False when the Message-ID is already there. On PostgreSQL a second
    worker's insert waits for the first one's commit, then finds the row: one acts."""
    table: Any = InboundMail.__table__  # type: ignore[attr-defined]  # SQLModel stubs lack it
    row = {
        "message_id": mail.message_id[:500],
        "received_at": ctx.clock.now(),
        "from_addr": mail.from_addr[:254],
        "kind": mail.kind if mail.kind in KINDS else "human",
        "booking_id": booking_id,
        "customer_id": customer_id,
        "command": command[:20],
        "outcome": outcome[:200],
        "size": mail.size,
    }
    return await insert_ignoring_duplicates(session, table, [row], key="message_id") == 1


async def _queue(
    session: AsyncSession, ctx: Context, mail: Received, answers: Sequence[Answer]
) -> None:
    # Message-IDs may be 255 characters; the outbox key holds 200.
    digest = hashlib.sha256(mail.message_id.encode()).hexdigest()[:32]
    now = ctx.clock.now()
    for index, answer in enumerate(answers):
        customer = await session.get(Customer, answer.customer_id)
        if customer is None or not customer.email:
            continue
        await outbox.enqueue(
            session,
            kind=answer.kind,
            customer=customer,
            now=now,
            key=f"inbound:{digest}:{index}",
            booking_id=answer.booking_id,
            payload=answer.payload,
            channels=["email"],
        )


class _Joined(Database):
    """A Database whose transactions are one given session: a service called with it runs
    inside the caller's transaction instead of committing on its own."""

    def __init__(self, outer: Database, session: AsyncSession) -> None:
        # No engines of its own: deliberately not calling Database.__init__.
        self.url, self.sqlite, self.attempts = outer.url, outer.sqlite, 1
        self._joined = session

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await work(self._joined)

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await work(self._joined)

    async def dispose(self) -> None:
        return None
