"""Door check-in (SPEC §9 "The door"): a scanned code admits its holder once per performance.

What the door admits is an **entitlement**: a secret (what the QR code's ``/t/<secret>`` URL
carries) that gives the right to enter one performance. An entitlement is a Ticket (one per paid
item, ``kind="ticket"``) or a season pass (``kind="pass"``, one right per included performance,
its secret unchanged across renewals: ``passes.entitlement``). ``entitlement`` is the one place
that turns a secret into an Entitlement; ``admit`` and ``check`` do not know which it is.

A check-in is a ``checkin`` row, unique on (kind, id, performance): when two doors scan the
same code at once, both may find no row, but only one insert commits; the other is told
"already used" with the winner's time and door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.services import passes
from booking.tables.bookings import Booking, Item, Ticket
from booking.tables.catalog import Event, Performance, Seat, Tariff, Venue
from booking.tables.checkin import CheckIn
from booking.tables.customers import Customer
from booking.views import Entitlement, Invalid, seat_place

Outcome = Literal["admissible", "admitted", "already_used", "wrong_date", "not_valid"]
MAX_CODE = 200  # a URL with a 32-character secret is far shorter: longer is not ours


@dataclass(frozen=True, slots=True)
class UsedAt:
    at: datetime
    door: str


@dataclass(frozen=True, slots=True)
class Answer:
    outcome: Outcome
    entitlement: Entitlement | None = None
    used: UsedAt | None = None  # already_used: the first admission

    @property
    def admits(self) -> bool:
        return self.outcome in ("admissible", "admitted")


def secret_of(code: str) -> str:
    """The secret in what a door typed or scanned: a full ``…/t/<secret>`` URL (a USB scanner
    types it and presses Enter), the bare secret, with spaces round it or a query after it."""
    code = code.strip()
    if "/t/" in code:
        code = code.rsplit("/t/", 1)[1]
    return code.split("?", 1)[0].split("#", 1)[0].strip("/ ")


# The door reads these on every scan, so they are built once (building a select of eight joins
# costs more than running it) and read as columns, not entities (loading nine ORM objects costs
# more again): bench/passes.py measures the door against its bare SQL.
_BY_SECRET = (
    select(
        col(Ticket.id),
        col(Ticket.voided_at),
        col(Booking.status),
        col(Booking.refund_due),
        col(Booking.reference),
        col(Performance.id),
        col(Performance.starts_at),
        col(Event.title),
        col(Event.timezone),
        col(Venue.name),
        col(Customer.name),
        col(Customer.language),
        col(Tariff.name),
        Seat,
    )
    .select_from(Ticket)
    .join(Booking, col(Booking.id) == Ticket.booking_id)
    .join(Item, col(Item.id) == Ticket.item_id)
    .join(Tariff, col(Tariff.id) == Item.tariff_id)
    .join(Performance, col(Performance.id) == Item.performance_id)
    .join(Event, col(Event.id) == Performance.event_id)
    .join(Venue, col(Venue.id) == Event.venue_id)
    .join(Customer, col(Customer.id) == Booking.customer_id)
    .outerjoin(Seat, col(Seat.id) == Item.seat_id)
    .where(col(Ticket.secret) == bindparam("secret"))
)
_USED = select(col(CheckIn.admitted_at), col(CheckIn.door)).where(
    col(CheckIn.entitlement_kind) == bindparam("kind"),
    col(CheckIn.entitlement_id) == bindparam("id"),
    col(CheckIn.performance_id) == bindparam("performance"),
)


async def entitlement(
    session: AsyncSession, secret: str, performance_id: int | None, *, now: datetime
) -> Entitlement | None:
    """The entitlement a secret stands for, valid or not; None when no code has it. A ticket
    is for its one performance; a pass's is looked up at ``performance_id`` (None: its next
    included date), and says "not_in_pass" for a date it does not include."""
    if not secret or len(secret) > MAX_CODE:
        return None
    row = (await session.execute(_BY_SECRET, {"secret": secret})).first()
    if row is None:
        return await passes.entitlement(session, secret, performance_id, now=now)
    (
        ticket_id,
        voided_at,
        status,
        refund_due,
        reference,
        performance_id,
        starts_at,
        title,
        timezone,
        venue,
        holder,
        language,
        tariff_name,
        seat,
    ) = row
    invalid: Invalid = ""
    if status != states.CONFIRMED:
        invalid = "cancelled"
    elif refund_due:
        invalid = "refunded"
    elif voided_at is not None:
        invalid = "voided"
    return Entitlement(
        kind="ticket",
        id=ticket_id or 0,
        performance_id=performance_id or 0,
        starts_at=starts_at,
        timezone=timezone,
        event_title=title,
        venue=venue,
        reference=reference,
        holder=holder,
        language=language,
        tariff_name=tariff_name,
        seat=seat_place(seat) if seat else None,
        invalid=invalid,
    )


async def show(ctx: Context, *, secret: str) -> Entitlement | None:
    """The ticket as its public page shows it (anyone holding the code may see it)."""
    now = ctx.clock.now()
    return await ctx.db.read(lambda session: entitlement(session, secret, None, now=now))


async def check(ctx: Context, *, actor: Actor, secret: str, performance_id: int) -> Answer:
    """The door's answer without admitting: "admissible" or the reason it would be refused."""
    _staff_only(actor)
    now = ctx.clock.now()
    return await ctx.db.read(lambda session: _answer(session, secret, performance_id, now))


async def admit(
    ctx: Context, *, actor: Actor, secret: str, performance_id: int, door: str = ""
) -> Answer:
    """Admit the entitlement to the performance once: "admitted", or why not."""
    _staff_only(actor)
    now = ctx.clock.now()

    async def work(session: AsyncSession) -> Answer:
        answer = await _answer(session, secret, performance_id, now)
        if answer.outcome != "admissible":
            return answer
        found = answer.entitlement
        assert found is not None
        # A plain INSERT (no unit of work to flush: the door pays for it on every scan); the
        # unique index speaks here when another door was faster.
        await session.execute(
            insert(CheckIn).values(
                entitlement_kind=found.kind,
                entitlement_id=found.id,
                performance_id=performance_id,
                admitted_at=now,
                door=door.strip()[:40],
                staff_id=actor.id,
            )
        )
        return Answer("admitted", found)

    try:
        return await ctx.db.write(work)
    except IntegrityError:
        answer = await ctx.db.read(lambda session: _answer(session, secret, performance_id, now))
        if answer.outcome != "already_used":  # another constraint: a bug to surface
            raise
        return answer


async def _answer(session: AsyncSession, secret: str, performance_id: int, now: datetime) -> Answer:
    found = await entitlement(session, secret, performance_id, now=now)
    if found is None or found.invalid:
        return Answer("not_valid", found)
    if found.performance_id != performance_id:
        return Answer("wrong_date", found)
    values = {"kind": found.kind, "id": found.id, "performance": performance_id}
    used = (await session.execute(_USED, values)).first()
    if used is not None:
        return Answer("already_used", found, UsedAt(used[0], used[1]))
    return Answer("admissible", found)


def _staff_only(actor: Actor) -> None:
    if actor.kind != "staff":
        raise BookingError("not_owner")
