"""Door check-in (SPEC §9 "The door"): a scanned code admits its holder once per performance.

What the door admits is an **entitlement**: a secret (what the QR code's ``/t/<secret>`` URL
carries) that gives the right to enter one performance. An entitlement is a Ticket (one per paid
item, ``kind="ticket"``) or a season pass (``kind="pass"``, one right per included performance,
its secret unchanged across renewals: ``passes.entitlement``). ``entitlement`` is the one place
that turns a secret into an Entitlement; ``admit`` and ``check`` do not know which it is.

A check-in is a ``checkin`` row, unique on (kind, id, performance): when two doors scan the
same code at once, both may find no row, but only one insert commits; the other is told
"already used" with the winner's time and door.

The door page's scan is the request made hundreds of times a minute, so it is one write
transaction: ``scan`` admits and reads the page's board (performances, counts) together, and
``scan_as_session`` also checks the console session and role there first, instead of in a
read transaction of their own (bench/passes.py measures it against the bare SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.queries import door as door_queries
from booking.rules import states
from booking.services import passes, staff_admin
from booking.services.staff_admin import StaffAccount
from booking.sql import Prepared, connection_of
from booking.tables.bookings import Booking, Item, Ticket
from booking.tables.catalog import Event, Performance, Seat, Tariff, Venue
from booking.tables.checkin import CheckIn
from booking.tables.customers import Customer
from booking.tables.resale import ResaleListing
from booking.views import Entitlement, Invalid, SeatPlace

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


# The door runs these on every scan, so they are built once (building a select of eight joins
# costs more than running it), read as columns, not entities (loading nine ORM objects costs
# more again), and run as prepared statements (``booking.sql.Prepared``: SQLAlchemy's
# per-execution work costs more than the statements): bench/passes.py measures the door
# against its bare SQL.
_T = CheckIn.__table__  # type: ignore[attr-defined]
_by_secret: Any = (
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
        col(Seat.id),
        col(Seat.section),
        col(Seat.row),
        col(Seat.number),
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
_used: Any = select(col(CheckIn.admitted_at), col(CheckIn.door)).where(
    col(CheckIn.entitlement_kind) == bindparam("kind"),
    col(CheckIn.entitlement_id) == bindparam("id"),
    col(CheckIn.performance_id) == bindparam("performance"),
)
_BY_SECRET = Prepared(_by_secret)
_USED = Prepared(_used)
# A plain INSERT (no unit of work to flush); the unique index speaks here when another door
# was faster.
_ADMIT = Prepared(insert(_T))


async def entitlement(
    session: AsyncSession, secret: str, performance_id: int | None, *, now: datetime
) -> Entitlement | None:
    """The entitlement a secret stands for, valid or not; None when no code has it. A ticket
    is for its one performance; a pass's is looked up at ``performance_id`` (None: its next
    included date), and says "not_in_pass" for a date it does not include."""
    if not secret or len(secret) > MAX_CODE:
        return None
    conn = await connection_of(session)
    rows = (await _BY_SECRET.run(conn, {"secret": secret})).rows
    if not rows:
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
        seat_id,
        section,
        row,
        number,
    ) = rows[0]
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
        seat=SeatPlace(section, row, number) if seat_id is not None else None,
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

    async def work(session: AsyncSession) -> Answer:
        answer = await _answer(session, secret, performance_id, now)
        return await _unless_on_resale(session, answer, performance_id)

    return await ctx.db.read(work)


async def admit(
    ctx: Context, *, actor: Actor, secret: str, performance_id: int, door: str = ""
) -> Answer:
    """Admit the entitlement to the performance once: "admitted", or why not."""
    _staff_only(actor)
    now = ctx.clock.now()
    try:
        return await ctx.db.write(
            lambda session: _admit(session, actor, secret, performance_id, door, now)
        )
    except IntegrityError:
        beaten = await _beaten(ctx, secret, performance_id, now)
        if beaten is None:  # another constraint: a bug to surface
            raise
        return beaten


@dataclass(frozen=True, slots=True)
class Scan:
    answer: Answer
    board: door_queries.DoorBoard  # the door page after it: performances, the counts


async def scan(
    ctx: Context, *, actor: Actor, secret: str, performance_id: int, door: str = ""
) -> Scan:
    """``admit``, and the door page's board read in the same transaction: at the door every
    transaction opened is a fixed cost paid on every scan (bench/passes.py). The board's two
    small reads then hold the write lock a fraction of a millisecond longer."""
    _staff_only(actor)
    now = ctx.clock.now()
    since = door_queries.menu_start(ctx)

    async def work(session: AsyncSession) -> Scan:
        answer = await _admit(session, actor, secret, performance_id, door, now)
        return Scan(
            answer, await door_queries.board_in(session, since, performance_id, keep_expected=True)
        )

    try:
        return await ctx.db.write(work)
    except IntegrityError:
        beaten = await _beaten(ctx, secret, performance_id, now)
        if beaten is None:
            raise
        return Scan(beaten, await door_queries.board(ctx, performance_id))


@dataclass(frozen=True, slots=True)
class StaffScan:
    account: StaffAccount  # who scanned: the session's staff member, checked in the transaction
    scan: Scan


async def scan_as_session(
    ctx: Context,
    *,
    token: str,
    may: Callable[[str], bool],
    secret: str,
    performance_id: int,
    door: str = "",
) -> StaffScan | None:
    """``scan`` for the console session ``token``, checked in the same write transaction as
    the admission: the session open (``staff_admin.resume_session``'s rules: a session found
    run out is ended, "last seen" moved once a minute), then the role (``may``: the console's
    permission), then the admission and the board. None, with nothing admitted, when the
    session signs nobody in or the role may not: the caller answers as its guard does.

    Why: a console request reads its session in a read transaction of its own before the
    handler runs; on SQLite that read (aiosqlite's thread, a dozen trips) costs more than the
    whole admission. The door page's scan is the one request made hundreds of times a minute,
    so there it is one transaction (bench/passes.py)."""
    now = ctx.clock.now()
    since = door_queries.menu_start(ctx)

    async def work(session: AsyncSession) -> StaffScan | None:
        account = await _session_account(session, token, now)
        if account is None or not may(account.role):
            return None
        actor = account.actor()
        _staff_only(actor)
        answer = await _admit(session, actor, secret, performance_id, door, now)
        board = await door_queries.board_in(session, since, performance_id, keep_expected=True)
        return StaffScan(account, Scan(answer, board))

    try:
        return await ctx.db.write(work)
    except IntegrityError:
        beaten = await _beaten(ctx, secret, performance_id, now)
        if beaten is None:
            raise
        again = await staff_admin.resume_session(ctx, token=token)  # it admitted nothing
        if again.account is None or not may(again.account.role):
            return None
        return StaffScan(again.account, Scan(beaten, await door_queries.board(ctx, performance_id)))


async def _session_account(session: AsyncSession, token: str, now: datetime) -> StaffAccount | None:
    return (await staff_admin.resume_in(session, token=token, now=now)).account


async def _admit(
    session: AsyncSession,
    actor: Actor,
    secret: str,
    performance_id: int,
    door: str,
    now: datetime,
) -> Answer:
    answer = await _answer(session, secret, performance_id, now)
    if answer.outcome != "admissible":
        return answer
    found = answer.entitlement
    assert found is not None
    values = {
        "entitlement_kind": found.kind,
        "entitlement_id": found.id,
        "performance_id": performance_id,
        "admitted_at": now,
        "door": door.strip()[:40],
        "staff_id": actor.id,
    }
    await _ADMIT.run(await connection_of(session), values)
    if found.kind == "pass" and await _on_resale(session, found.id, performance_id):
        await _UNADMIT.run(await connection_of(session), _keys(found.id, performance_id))
        return _refused_on_resale(found)
    return Answer("admitted", found)


async def _beaten(ctx: Context, secret: str, performance_id: int, now: datetime) -> Answer | None:
    """After the insert failed: "already used" with the time and door of the other door that
    admitted it between our check and our insert; None when that is not why it failed."""
    answer = await ctx.db.read(lambda session: _answer(session, secret, performance_id, now))
    return answer if answer.outcome == "already_used" else None


async def _answer(session: AsyncSession, secret: str, performance_id: int, now: datetime) -> Answer:
    found = await entitlement(session, secret, performance_id, now=now)
    if found is None or found.invalid:
        return Answer("not_valid", found)
    if found.performance_id != performance_id:
        return Answer("wrong_date", found)
    values = {"kind": found.kind, "id": found.id, "performance": performance_id}
    used = (await _USED.run(await connection_of(session), values)).rows
    if used:
        return Answer("already_used", found, UsedAt(used[0][0], used[0][1]))
    return Answer("admissible", found)


def _staff_only(actor: Actor) -> None:
    if actor.kind != "staff":
        raise BookingError("not_owner")


# -- resale (issue 13): a pass performance on resale is not valid at the door ---------------
#
# The race with a listing (booking/services/resale.py's docstring): the admission looks for an
# open listing *after* its INSERT, so it either waited behind the listing's placeholder
# check-in and now sees the committed listing, or made the listing's placeholder fail. One
# indexed lookup (uq_resalelisting_open), for passes only; a refusal removes the row again.
_on_resale_query: Any = select(col(ResaleListing.id)).where(
    col(ResaleListing.pass_id) == bindparam("id"),
    col(ResaleListing.performance_id) == bindparam("performance"),
    # A literal, not a list bind: prepared statements take no expanding IN.
    text("resalelisting.state IN ('listed', 'reserved')"),
)
_ON_RESALE = Prepared(_on_resale_query)
_UNADMIT = Prepared(
    delete(_T).where(
        _T.c.entitlement_kind == bindparam("kind"),
        _T.c.entitlement_id == bindparam("id"),
        _T.c.performance_id == bindparam("performance"),
    )
)


def _keys(pass_id: int, performance_id: int) -> dict[str, Any]:
    """The binds of ``_UNADMIT``."""
    return {"kind": "pass", "id": pass_id, "performance": performance_id}


async def _on_resale(session: AsyncSession, pass_id: int, performance_id: int) -> bool:
    keys = {"id": pass_id, "performance": performance_id}
    found = await _ON_RESALE.run(await connection_of(session), keys)
    return bool(found.rows)


def _refused_on_resale(found: Entitlement) -> Answer:
    return Answer("not_valid", replace(found, invalid="on_resale"))


async def _unless_on_resale(session: AsyncSession, answer: Answer, performance_id: int) -> Answer:
    """``check``'s answer, refused for a pass performance on resale."""
    found = answer.entitlement
    if answer.outcome != "admissible" or found is None or found.kind != "pass":
        return answer
    if await _on_resale(session, found.id, performance_id):
        return _refused_on_resale(found)
    return answer
