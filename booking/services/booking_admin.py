"""Console actions on one booking that the channels never need: the desk's booking form (one
booking per form, phone-only customers, a typed email already on file), re-sending its
notices and settling a refund. Each is one transaction with a history row naming the staff
member."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history, outbox
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.text import single_line
from booking.services import customers, holds
from booking.services.common import booking_for
from booking.services.holds import hold_in_session
from booking.tables.bookings import Booking
from booking.tables.customers import Customer
from booking.tables.desk import DeskFormKey
from booking.views import BookingView, CustomerView, load_booking

RESEND = ("booking", "tickets")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# -- the desk form -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A customer typed on the desk form. ``email`` may be empty (known by phone only)."""

    name: str
    email: str = ""
    phone: str = ""
    language: str = "en"


@dataclass(frozen=True, slots=True)
class DeskOutcome:
    """What a post of the desk form did.

    ``booking`` is the booking of this form: just made (``created``), or made by an earlier
    post of the same form. It is None when ``match`` asks first: the typed email belongs to
    that customer already (an email names one customer), and nothing was written.
    """

    booking: BookingView | None
    created: bool = False
    match: CustomerView | None = None


def new_form_key() -> str:
    """The one-time key a desk form carries (192 random bits: never reused by chance)."""
    return secrets.token_urlsafe(24)


def valid_form_key(key: str) -> bool:
    return bool(_FORM_KEY.match(key))


async def create_desk_booking(
    ctx: Context,
    *,
    actor: Actor,
    form_key: str,
    performance_id: int,
    lines: Sequence[holds.Line],
    buy: bool = False,
    customer_id: int | None = None,
    new_customer: NewCustomer | None = None,
    file_under: int | None = None,
) -> DeskOutcome:
    """Book for a customer at the desk, once per form.

    The customer is ``customer_id`` (chosen beforehand) or ``new_customer`` (typed). A typed
    email already on file books nothing and returns that customer as ``match``, unless
    ``file_under`` names that very customer (the staff member saw the match and chose it).

    The form's key is claimed first, in the booking's own transaction: a repeat post of the
    form (even at the same moment) finds it claimed and gets the booking already made; a
    refused booking rolls the claim back, so the corrected form can be sent again."""
    if actor.kind != "staff":
        raise BookingError("not_owner")
    if not valid_form_key(form_key):
        raise BookingError("bad_value", field="form_key")
    if not lines or any(line.count <= 0 for line in lines):
        raise BookingError("bad_value", field="quantity")  # the form sends only counts > 0
    if (customer_id is None) == (new_customer is None):
        raise BookingError("unknown_customer")
    if new_customer is not None:
        _check_new_customer(new_customer)

    async def work(session: AsyncSession) -> DeskOutcome:
        made = await _booking_of_key(session, form_key)
        if made is not None:
            return DeskOutcome(await load_booking(session, made), created=False)
        who = customer_id
        if new_customer is not None:
            match, who = await _on_file(session, new_customer, file_under)
            if match is not None:
                return DeskOutcome(None, match=match)  # nothing written: the staff decides
        session.add(DeskFormKey(key=form_key, staff_id=actor.id, created_at=ctx.clock.now()))
        await session.flush()  # PostgreSQL: a concurrent post of this form waits here, then fails
        if who is None:
            assert new_customer is not None
            who = await _add_customer(session, ctx, new_customer)
        # The one hold engine, inside this transaction: the key, the customer and the booking
        # are committed together or not at all.
        booking = await hold_in_session(session, ctx, actor, who, performance_id, list(lines), buy)
        await session.execute(
            update(DeskFormKey)
            .where(col(DeskFormKey.key) == form_key)
            .values(booking_id=booking.id)
            .execution_options(synchronize_session=False)
        )
        return DeskOutcome(booking, created=True)

    for attempt in (1, 2):
        try:
            return await ctx.db.write(work)
        except IntegrityError:
            # The key was claimed by a concurrent post that has committed (its booking is
            # shown), or the typed email by a customer made meanwhile (the retry asks).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def booking_of_form_key(ctx: Context, *, form_key: str) -> str | None:
    """The reference of the booking a desk form's key made, if any."""

    async def work(session: AsyncSession) -> str | None:
        made = await _booking_of_key(session, form_key)
        return made.reference if made is not None else None

    return await ctx.db.read(work)


async def _booking_of_key(session: AsyncSession, form_key: str) -> Booking | None:
    query = (
        select(Booking)
        .join(DeskFormKey, col(DeskFormKey.booking_id) == Booking.id)
        .where(col(DeskFormKey.key) == form_key)
    )
    return (await session.execute(query)).scalar_one_or_none()


def _check_new_customer(typed: NewCustomer) -> None:
    if not single_line(typed.name):
        raise BookingError("bad_value", field="name")
    if typed.email.strip():
        customers.email_key(typed.email)  # raises invalid_email
    elif not single_line(typed.phone, 40):
        raise BookingError("contact_required", field="email")


async def _on_file(
    session: AsyncSession, typed: NewCustomer, file_under: int | None
) -> tuple[CustomerView | None, int | None]:
    """(the customer to ask about, None), (None, the customer chosen after asking), or
    (None, None): the typed customer is new."""
    if not typed.email.strip():
        return None, None  # phone only: phones are shared (a family, an office), never matched
    key = customers.email_key(typed.email)
    query = select(Customer).where(col(Customer.email_key) == key)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        if file_under is not None:
            # The customer chosen no longer has this email: ask again rather than guess.
            raise BookingError("changed_meanwhile")
        return None, None
    if found.id != file_under:
        return CustomerView.of(found), None
    return None, found.id


async def _add_customer(session: AsyncSession, ctx: Context, typed: NewCustomer) -> int:
    made = await customers.add_customer(
        session,
        now=ctx.clock.now(),
        name=typed.name,
        email=typed.email,
        phone=typed.phone,
        language=typed.language,
    )
    assert made.id is not None
    return made.id


async def resend(ctx: Context, *, actor: Actor, reference: str, what: str, nonce: str) -> list[str]:
    """Queue the booking's email again (a hold's details, or a paid booking's tickets) on the
    customer's channels; returns those channels.

    ``nonce`` comes from the form that asked: a double click sends it twice and the outbox's
    unique key keeps one notice.
    """
    if what not in RESEND or not _NONCE.match(nonce):
        raise BookingError("bad_value", field="what")
    if actor.kind != "staff":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> list[str]:
        booking = await booking_for(session, reference, actor)
        assert booking.id is not None
        if what == "tickets" and booking.status != states.CONFIRMED:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        if what == "booking" and booking.status not in states.OPEN | {states.CONFIRMED}:
            raise BookingError("not_held", reference=booking.reference, status=booking.status)
        kind = "payment_confirmed" if booking.status == states.CONFIRMED else "booking_held"
        customer = await session.get(Customer, booking.customer_id)
        assert customer is not None
        now = ctx.clock.now()
        rows = outbox.rows_for(
            kind=kind,
            customer=customer,
            now=now,
            booking_id=booking.id,
            key=f"resend:{booking.id}:{nonce}",
            payload={"resent": True},
        )
        if await outbox.enqueue_rows(session, rows):
            history.record(
                session,
                booking_id=booking.id,
                actor=actor,
                at=now,
                action="resent",
                what=what,
                channels=",".join(r["channel"] for r in rows),
            )
        return [r["channel"] for r in rows]

    return await ctx.db.write(work)


async def settle_refund(ctx: Context, *, actor: Actor, reference: str, note: str = "") -> None:
    """The organizer paid back a payment that could not be applied (SPEC §4): clear the flag."""
    if actor.kind != "staff":
        raise BookingError("not_owner")

    async def work(session: AsyncSession) -> None:
        booking = await booking_for(session, reference, actor)
        now = ctx.clock.now()
        result = await session.execute(
            update(Booking)
            .where(col(Booking.id) == booking.id, col(Booking.refund_due).is_(True))
            .values(refund_due=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise BookingError("changed_meanwhile")
        history.record(
            session,
            booking_id=booking.id or 0,
            actor=actor,
            at=now,
            action="refunded",
            note=note.strip()[:500],
        )

    await ctx.db.write(work)
