"""The database side of inbound email (ARCHITECTURE "Notifications out, replies in").

Every message read from the mailbox is recorded once, unique on its Message-ID. A command
runs in the *same* transaction as that record and as the answer queued in the outbox, so a
worker that dies anywhere before the commit leaves nothing behind (the next run acts), and one
that dies after it finds the record (the next run is a no-op): each message acts exactly once.

To run a service inside that transaction without duplicating its rules, the service is given
a context whose database joins the caller's session (``_Joined``). Only services that do not
recover from a database error themselves may be joined (cancel, request_extension, the reads);
``record_payment`` may not, and the email channel never pays: it sends a pay link.

Authority (README "Security"): ``route`` finds the booking only through a genuine reply token
*bound* to it (``token_binds``: the token's customer is the booking's customer or a contact
of its organization), and allows the sender only when their ``From`` is that customer or a
contact of the booking's organization (``may_act``). Without such a token there is no
booking, so nothing can change.

Answers are limited per recipient: at most ``ANSWERS_PER_HOUR`` emails (answers and owner
notices together) per customer in any hour (``within_answer_limit``); beyond it the message
is recorded and the answer dropped, so forged mail cannot turn the desk into a mail bomb.

Bounces (``record_bounce``): only the customer named by the VERP token of the bounced message
is considered, and only when the token's address digest matches their *current* address.
A failure marks them undeliverable; a positive delivery report or a genuine reply from that
address (``clear_undeliverable``) clears the flag.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.db import Database
from booking.errors import BookingError
from booking.rules import states
from booking.rules.references import normalize_reference
from booking.services.customers import email_key
from booking.sql import insert_ignoring_duplicates, skip_locked
from booking.tables.bookings import Booking
from booking.tables.channels import InboundMail
from booking.tables.customers import Customer
from booking.views import BookingView, CustomerView, load_booking

T = TypeVar("T")
MAIL_ACTOR = Actor.system("email")
KINDS = (
    "human", "auto_reply", "bounce", "list", "report", "challenge", "too_large", "unreadable",
)  # fmt: skip
# Emails to one customer because of inbound mail, per rolling hour. A person exchanging with
# the desk rarely needs more than a few; a forger gets five at most into the victim's inbox.
ANSWERS_PER_HOUR = 5
ANSWER_WINDOW = timedelta(hours=1)
# Notices to a booking's owner about mail from others (the rest are answers to the sender).
OWNER_NOTICES = frozenset({"mail_not_owner", "mail_forged"})
# What record_bounce decided, stored as the record's outcome (the console shows it).
BOUNCE_OUTCOMES = ("undeliverable", "delivered", "delayed", "stale_address", "no_token")


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
    """Who wrote and about which booking. ``booking`` is set only for a genuine token bound to
    it; ``allowed`` when the sender is the token's customer or a contact of the booking's
    organization (house rule 11: the token is a reference, never an authority alone)."""

    sender: CustomerView | None
    booking: BookingView | None
    owner: CustomerView | None
    allowed: bool
    token_customer_id: int | None = None
    sender_undeliverable: bool = False  # the sender's record is flagged (a reply clears it)


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


async def route(
    ctx: Context,
    *,
    sender_email: str,
    reference: str | None,
    token_customer_id: int | None = None,
) -> Route:
    """The sender's customer record (by normalized email) and the booking a genuine reply
    token names (``reference`` and ``token_customer_id`` from its claims); no booking when
    the token is missing or not bound to it."""

    async def work(session: AsyncSession) -> Route:
        sender = await _customer_by_email(session, sender_email)
        sender_view = CustomerView.of(sender) if sender else None
        ref = normalize_reference(reference) if reference else None
        flagged = sender is not None and sender.email_undeliverable
        if ref is None or token_customer_id is None:
            return Route(sender_view, None, None, False, sender_undeliverable=flagged)
        query = select(Booking).where(col(Booking.reference) == ref)
        booking = (await session.execute(query)).scalar_one_or_none()
        holder = await session.get(Customer, token_customer_id)
        if booking is None or holder is None or not token_binds(booking, holder):
            return Route(sender_view, None, None, False, sender_undeliverable=flagged)
        owner = await session.get(Customer, booking.customer_id)
        return Route(
            sender_view,
            await load_booking(session, booking),
            CustomerView.of(owner) if owner else None,
            sender is not None and may_act(sender, booking, holder),
            token_customer_id,
            flagged,
        )

    return await ctx.db.read(work)


def token_binds(booking: Booking, holder: Customer) -> bool:
    """Guard: the token's customer is the booking's customer, or a contact of its
    organization (a token mailed to them about it). A token for another booking's customer
    does not open this one."""
    if holder.id == booking.customer_id:
        return True
    return booking.organization_id is not None and holder.organization_id == booking.organization_id


def may_act(sender: Customer, booking: Booking, holder: Customer) -> bool:
    """Guard: ``From`` is the token's customer, or a contact of the booking's organization."""
    if sender.id == holder.id:
        return True
    return booking.organization_id is not None and sender.organization_id == booking.organization_id


async def record(
    ctx: Context,
    *,
    mail: Received,
    booking_id: int | None = None,
    customer_id: int | None = None,
    command: str = "",
    outcome: str = "",
    answers: Sequence[Answer] = (),
    proven_customer_id: int | None = None,
) -> bool:
    """Record a message that changes nothing (help, refusal, auto-reply…) with its answers.
    Returns False when it was already recorded: then nothing is queued again.
    ``proven_customer_id``: a customer whose address this genuine reply proves working."""

    async def work(session: AsyncSession) -> bool:
        kept = await _limited(session, ctx, answers)
        if not await _claim(session, ctx, mail, booking_id, customer_id, command, outcome, kept):
            return False
        await _queue(session, ctx, mail, kept)
        await clear_undeliverable(session, proven_customer_id)
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
    proven_customer_id: int | None = None,
) -> Acted:
    """Run ``action`` (one service call, given a context that joins this transaction), record
    the message and queue ``answers(result)``, all in one commit. A BookingError rolls the
    attempt back; the message is then recorded with ``refusal(error)`` as its answers."""

    async def work(session: AsyncSession) -> Acted:
        # An acting message counts as one email to the sender whether or not the channel
        # answers it (the service's own notice, "booking cancelled", goes to them as well).
        allowed = await within_answer_limit(session, customer_id, ctx.clock.now())
        counted = [Answer("mail_done", customer_id)] if allowed else []
        if not await _claim(session, ctx, mail, booking_id, customer_id, command, "done", counted):
            return Acted(duplicate=True)
        joined = dataclasses.replace(ctx, db=_Joined(ctx.db, session))
        result = await action(joined)
        # Answers to an acting message all go to its sender, within the limit checked above.
        kept = [a for a in answers(result) if allowed and a.customer_id == customer_id]
        await _queue(session, ctx, mail, kept)
        await clear_undeliverable(session, proven_customer_id)
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
            proven_customer_id=proven_customer_id,
        )
        return Acted(duplicate=not new, error=error)


async def record_bounce(
    ctx: Context,
    *,
    mail: Received,
    customer_id: int | None,
    address_matches: Callable[[str], bool],
    verdict: str,
) -> str | None:
    """A delivery report that came back on the VERP token of a message to ``customer_id``.

    ``address_matches(email)`` says whether the token was made for that address (it holds a
    keyed digest of it); ``verdict`` is "failed", "delivered" or "delayed". A failure marks the
    customer undeliverable (notices then fall back to Telegram when linked) and says so in
    the history of their open bookings; "delivered" clears the flag. A bounce without a valid
    token (``customer_id`` None) or about an address the customer no longer has changes
    nobody. Returns the outcome recorded, None when the message was seen before."""

    async def work(session: AsyncSession) -> str | None:
        customer = await session.get(Customer, customer_id) if customer_id is not None else None
        outcome = _bounce_outcome(customer, address_matches, verdict)
        known = customer.id if customer is not None else None
        if not await _claim(session, ctx, mail, None, known, "", outcome):
            return None
        if customer is None or outcome not in ("undeliverable", "delivered"):
            return outcome
        customer.email_undeliverable = outcome == "undeliverable"
        if outcome == "undeliverable":
            await _bounced_history(session, ctx, customer)
        return outcome

    return await ctx.db.write(work)


def _bounce_outcome(
    customer: Customer | None, address_matches: Callable[[str], bool], verdict: str
) -> str:
    if customer is None:
        return "no_token"
    if not customer.email or not address_matches(customer.email):
        return "stale_address"
    return {"failed": "undeliverable", "delivered": "delivered"}.get(verdict, "delayed")


async def _bounced_history(session: AsyncSession, ctx: Context, customer: Customer) -> None:
    query = (
        select(Booking)
        .where(col(Booking.customer_id) == customer.id, col(Booking.status).in_(states.OPEN))
        .limit(50)
    )
    now = ctx.clock.now()
    for booking in (await session.execute(query)).scalars():
        history.record(
            session,
            booking_id=booking.id or 0,
            actor=MAIL_ACTOR,
            at=now,
            action="email_bounced",
            address=customer.email or "",
        )


async def clear_undeliverable(session: AsyncSession, customer_id: int | None) -> None:
    """A genuine reply from the customer's own address proves it receives mail again."""
    if customer_id is None:
        return
    await session.execute(
        update(Customer)
        .where(col(Customer.id) == customer_id, col(Customer.email_undeliverable))
        .values(email_undeliverable=False)
    )


async def within_answer_limit(session: AsyncSession, customer_id: int, now: datetime) -> bool:
    """Guard: fewer than ANSWERS_PER_HOUR emails went to this customer because of inbound
    mail in the last hour. The customer row is locked first (PostgreSQL; SQLite's write
    transactions are serialized anyway), so concurrent workers cannot both take the last
    place."""
    if skip_locked(session):  # PostgreSQL; on SQLite the statement would be a no-op
        lock = select(col(Customer.id)).where(col(Customer.id) == customer_id).with_for_update()
        await session.execute(lock)
    query = select(func.count()).where(
        or_(
            col(InboundMail.answered_id) == customer_id, col(InboundMail.notified_id) == customer_id
        ),
        col(InboundMail.received_at) > now - ANSWER_WINDOW,
    )
    return int((await session.execute(query)).scalar_one()) < ANSWERS_PER_HOUR


async def _limited(session: AsyncSession, ctx: Context, answers: Sequence[Answer]) -> list[Answer]:
    """The answers whose recipient is still within the hourly limit."""
    now = ctx.clock.now()
    return [a for a in answers if await within_answer_limit(session, a.customer_id, now)]


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
    answers: Sequence[Answer] = (),
) -> bool:
    """Insert the record; False when the Message-ID is already there. On PostgreSQL a second
    worker's insert waits for the first one's commit, then finds the row: one acts."""
    answered, notified = _recipients(answers)
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
        "answered_id": answered,
        "notified_id": notified,
    }
    return await insert_ignoring_duplicates(session, table, [row], key="message_id") == 1


def _recipients(answers: Sequence[Answer]) -> tuple[int | None, int | None]:
    """(who got the answer, which owner got a notice) of one message's answers."""
    answered = next((a.customer_id for a in answers if a.kind not in OWNER_NOTICES), None)
    notified = next((a.customer_id for a in answers if a.kind in OWNER_NOTICES), None)
    return answered, notified


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
