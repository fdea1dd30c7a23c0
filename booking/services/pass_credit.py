"""A season pass's credit pays for purchases (issue 12 item 7, SPEC §9; seed 004: "créditer le
montant sur l'abonnement afin de pouvoir le réutiliser pour des achats ultérieurs").

- ``add``: credit comes onto a pass (a resale payout as credit, issue 13; staff). Once per key.
- ``booking_credit``: what a booking's holder could pay with credit now, for the pay steps of
  every channel (the bot's card, the pay page, the box office).
- ``apply``: a pass's credit pays one open booking of its holder. When it covers what is due
  the booking is paid (``payments.confirm_by_credit``); otherwise the part is applied and the
  rest stays due (``payments.amount_due``).
- Giving credit back when such a booking is cancelled or expires happens in the transaction of
  that move (``credit_ledger.give_back``).

Which credit pays which booking: the holder's own bookings (the pass's customer is the
booking's), in the pass's currency, while the pass is paid and not cancelled or refunded; once
per booking. docs/passes.md ("Credit") says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import history
from booking.actors import Actor
from booking.context import Context
from booking.errors import BookingError
from booking.rules import states
from booking.rules.limits import capped
from booking.services import credit_ledger, payments
from booking.services.common import booking_for
from booking.services.credit_ledger import Movement
from booking.tables.bookings import Booking
from booking.tables.pass_credit import PassCredit
from booking.tables.passes import Pass, PassProduct
from booking.views import BookingView, load_booking

# Who may put credit on a pass, and the word the ledger shows for it.
SOURCES = ("resale", "staff")
NOTE_MAX = 200

__all__ = [
    "SOURCES",
    "BookingCredit",
    "CreditApplied",
    "CreditOffer",
    "Movement",
    "add",
    "add_in",
    "apply",
    "booking_credit",
]


@dataclass(frozen=True, slots=True)
class CreditOffer:
    """One pass whose credit can pay the booking now, and what it would do."""

    pass_id: int
    code: str
    product_name: str
    balance_minor: int
    currency: str
    use_minor: int  # what it would pay: its balance, or all that is due
    rest_minor: int  # left to pay after it (0: the booking would be paid)

    @property
    def covers(self) -> bool:
        return self.rest_minor == 0


@dataclass(frozen=True, slots=True)
class BookingCredit:
    """A booking's amounts and the credit its holder could use on it now."""

    reference: str
    total_minor: int
    applied_minor: int  # pass credit the booking uses already
    due_minor: int  # total less applied: what any payment must be
    currency: str
    offers: tuple[CreditOffer, ...]  # most credit first; empty when none can be used

    @property
    def best(self) -> CreditOffer | None:
        return self.offers[0] if self.offers else None


@dataclass(frozen=True, slots=True)
class CreditApplied:
    outcome: Literal["paid", "partial"]
    booking: BookingView
    pass_code: str
    used_minor: int
    due_minor: int  # left to pay (0 when paid)
    balance_minor: int  # the pass's credit left


async def add(
    ctx: Context,
    *,
    actor: Actor,
    pass_id: int,
    amount_minor: int,
    source: str,
    note: str = "",
    key: str | None = None,
) -> Movement:
    """Put ``amount_minor`` of credit on a pass (its product's currency). With a ``key``
    ("payout:17"), the same addition asked twice is written once and its first row returned:
    a job that crashed and runs again, or two workers, add nothing more."""

    async def work(session: AsyncSession) -> Movement:
        return await add_in(
            session, ctx, actor=actor, pass_id=pass_id, amount_minor=amount_minor,
            source=source, note=note, key=key,
        )  # fmt: skip

    try:
        return await ctx.db.write(work)
    except IntegrityError:
        # Two callers with one key at once: the other's row is the addition.
        existing = await ctx.db.read(lambda s: _by_key(s, key)) if key else None
        if existing is None:
            raise
        return existing


async def add_in(
    session: AsyncSession,
    ctx: Context,
    *,
    actor: Actor,
    pass_id: int,
    amount_minor: int,
    source: str,
    note: str = "",
    key: str | None = None,
) -> Movement:
    """``add`` inside the caller's transaction (the resale payout writes its own rows in the
    same one)."""
    if actor.kind == "customer":
        raise BookingError("not_owner")  # credit is given, never taken by the holder
    if source not in SOURCES:
        raise BookingError("bad_value", field="source")
    if amount_minor <= 0:
        raise BookingError("credit_bad_amount")
    note = capped(note, NOTE_MAX)
    if key is not None and (existing := await _by_key(session, key)) is not None:
        return existing
    found = await session.get(Pass, pass_id)
    if found is None:
        raise BookingError("unknown_item")
    row = await credit_ledger.move(
        session, found=found, amount_minor=amount_minor, kind="added",
        currency=await _currency(session, found), actor=actor, now=ctx.clock.now(),
        source=source, key=key, note=note,
    )  # fmt: skip
    await session.flush()
    return Movement.of(row)


async def booking_credit(ctx: Context, *, actor: Actor, reference: str) -> BookingCredit:
    """The booking's total, the credit it uses, what is due, and the passes whose credit
    ``actor`` could use on it now (none for a colleague of an organization: only the holder
    spends a pass's credit, and on their own bookings)."""

    async def work(session: AsyncSession) -> BookingCredit:
        booking = await booking_for(session, reference, actor)
        applied = await credit_ledger.applied(session, booking.id or 0)
        due = booking.total_minor - applied
        offers: list[CreditOffer] = []
        if _may_take_credit(booking, actor, applied, due, ctx):
            offers = await _offers(session, booking, due)
        return BookingCredit(
            reference=booking.reference,
            total_minor=booking.total_minor,
            applied_minor=applied,
            due_minor=due,
            currency=booking.currency,
            offers=tuple(offers),
        )

    return await ctx.db.read(work)


async def apply(ctx: Context, *, actor: Actor, reference: str, pass_id: int) -> CreditApplied:
    """Pay booking ``reference`` with the credit of pass ``pass_id``, as far as it goes.

    One transaction: the checks (owner of the booking and of the pass, the booking open, same
    currency, the pass paid), then the balance taken by a conditional UPDATE (``credit_short``
    when another booking took it meanwhile), its ledger row (unique ``spent:<booking>``: a
    double click or a second pass at once uses credit once), and either the payment that
    confirms the booking or a history row saying what is left to pay."""

    async def work(session: AsyncSession) -> CreditApplied:
        now = ctx.clock.now()
        booking = await booking_for(session, reference, actor)
        payments.check_open(booking, now)
        found = await _usable_pass(session, actor, booking, pass_id)
        if await credit_ledger.applied(session, booking.id or 0):
            raise BookingError("credit_used", reference=booking.reference)
        due = await payments.amount_due(session, booking)
        use = min(found.credit_minor, due)
        if use <= 0:
            raise BookingError("credit_none")
        history.record(
            session, booking_id=booking.id or 0, actor=actor, at=now,
            action="pass_credit_applied", amount=use, pass_code=found.code, due=due - use,
        )  # fmt: skip
        paid = None
        if use == due:  # the payment first: it must match what is due before the credit row
            paid = await payments.confirm_by_credit(
                session, ctx, actor=actor, booking=booking, amount_minor=due
            )
        row = await credit_ledger.move(
            session, found=found, amount_minor=-use, kind="spent", currency=booking.currency,
            actor=actor, now=now, booking_id=booking.id, key=f"spent:{booking.id}",
        )  # fmt: skip
        await session.flush()  # the unique key speaks here, inside this transaction
        view = paid.booking if paid is not None else await load_booking(session, booking)
        return CreditApplied(
            outcome="paid" if paid is not None else "partial", booking=view, pass_code=found.code,
            used_minor=use, due_minor=due - use, balance_minor=row.balance_minor,
        )  # fmt: skip

    try:
        return await ctx.db.write(work)
    except IntegrityError:
        # A second application of credit to this booking committed first (the unique key, or
        # its payment's unique provider event): nothing of this one was written.
        credit = await booking_credit(ctx, actor=actor, reference=reference)
        if credit.applied_minor == 0:
            raise
        raise BookingError("credit_used", reference=credit.reference) from None


# -- checks --------------------------------------------------------------------------------


def _may_take_credit(booking: Booking, actor: Actor, applied: int, due: int, ctx: Context) -> bool:
    """Whether any pass's credit could be offered on this booking to ``actor`` now."""
    if applied or due <= 0:
        return False
    if actor.kind == "customer" and actor.id != booking.customer_id:
        return False
    try:
        payments.check_open(booking, ctx.clock.now())
    except BookingError:
        return False
    return True


async def _usable_pass(session: AsyncSession, actor: Actor, booking: Booking, pass_id: int) -> Pass:
    """The pass, if its credit may pay this booking (raises with the reason otherwise)."""
    found = await session.get(Pass, pass_id)
    if found is None:
        raise BookingError("unknown_item")
    holder = found.customer_id == booking.customer_id
    if not holder or (actor.kind == "customer" and actor.id != found.customer_id):
        raise BookingError("credit_not_holder", pass_code=found.code)
    bought = await session.get(Booking, found.booking_id)
    assert bought is not None
    if bought.status != states.CONFIRMED or bought.refund_due:
        raise BookingError("credit_pass_void", pass_code=found.code)
    currency = await _currency(session, found)
    if currency != booking.currency:
        raise BookingError(
            "credit_currency",
            pass_code=found.code,
            pass_currency=currency,
            currency=booking.currency,
        )
    return found


async def _offers(session: AsyncSession, booking: Booking, due: int) -> list[CreditOffer]:
    """The holder's paid passes with credit in the booking's currency, most credit first."""
    rows = await session.execute(
        select(Pass, col(PassProduct.name))
        .join(PassProduct, col(PassProduct.id) == Pass.product_id)
        .join(Booking, col(Booking.id) == Pass.booking_id)
        .where(
            col(Pass.customer_id) == booking.customer_id,
            col(Pass.credit_minor) > 0,
            col(PassProduct.currency) == booking.currency,
            col(Booking.status) == states.CONFIRMED,
            col(Booking.refund_due).is_(False),
        )
        .order_by(col(Pass.credit_minor).desc(), col(Pass.id))
    )
    return [_offer(found, name, booking.currency, due) for found, name in rows.all()]


def _offer(found: Pass, name: str, currency: str, due: int) -> CreditOffer:
    use = min(found.credit_minor, due)
    return CreditOffer(
        pass_id=found.id or 0, code=found.code, product_name=name,
        balance_minor=found.credit_minor, currency=currency, use_minor=use, rest_minor=due - use,
    )  # fmt: skip


async def _currency(session: AsyncSession, found: Pass) -> str:
    """A pass's credit is in its product's currency."""
    product = await session.get(PassProduct, found.product_id)
    assert product is not None
    return product.currency


async def _by_key(session: AsyncSession, key: str | None) -> Movement | None:
    row = (
        await session.execute(select(PassCredit).where(col(PassCredit.key) == key))
    ).scalar_one_or_none()
    return Movement.of(row) if row is not None else None
