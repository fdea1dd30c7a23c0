"""A pass's credit pays for purchases (issue 12 item 7), on SQLite and PostgreSQL: in full
(the booking is paid through the payments path: a Payment "pass_credit", tickets, the paid
notice), in part (the rest stays due, and every way of paying asks for that), refused for
another currency, another customer's pass, a pass not paid, no credit, a second time; given
back when the booking is cancelled or expires; added once per key. The builders here serve the
race, bot, pay page and console tests too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.errors import BookingError
from booking.services import (
    bookings,
    cancellations,
    pass_credit,
    pass_products,
    passes,
    payments,
    releases,
)
from booking.tables.bookings import Payment, Ticket
from booking.tables.outbox import OutboxMessage
from booking.tables.pass_credit import PassCredit
from booking.tables.passes import Pass
from booking.views import BookingView, CustomerView
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking

RESALE = Actor.system("resale payout")  # what issue 13's payout job will add credit as


@dataclass
class Holder:
    customer: CustomerView
    pass_id: int
    code: str


async def scalar(ctx: Context, query: Any) -> Any:
    async def work(session: AsyncSession) -> Any:
        return (await session.execute(query)).scalar_one()

    return await ctx.db.read(work)


async def rows(ctx: Context, query: Any) -> list[Any]:
    async def work(session: AsyncSession) -> list[Any]:
        return list((await session.execute(query)).scalars())

    return await ctx.db.read(work)


async def pass_product(ctx: Context) -> int:
    """A season (opera 2 dates, jazz 3) and its CHF pass at a fixed seat in the Stalls."""
    ids = await season_with_events(ctx)
    return await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))


async def holder_with_credit(
    ctx: Context,
    credit_minor: int,
    *,
    product_id: int | None = None,
    email: str = "ana@example.org",
    name: str = "Ana Test",
    language: str = "en",
    paid: bool = True,
) -> Holder:
    """A customer holding a pass (paid at the box office unless ``paid`` is False) with
    ``credit_minor`` of credit on it, added as a resale payout would."""
    product_id = product_id or await pass_product(ctx)
    customer = await make_customer(ctx, email=email, name=name, language=language)
    sold = await passes.sell(
        ctx,
        actor=STAFF,
        product_id=product_id,
        customer_id=customer.id,
        answers={"first_name": name.split()[0]},
        buy=paid,
    )
    if paid:
        await payments.record_box_office_payment(
            ctx, actor=STAFF, reference=sold.reference, method="cash"
        )
    if credit_minor:
        await pass_credit.add(
            ctx, actor=RESALE, pass_id=sold.id, amount_minor=credit_minor, source="resale"
        )
    return Holder(customer, sold.id, sold.code)


async def tickets_of(ctx: Context, holder: Holder, *, currency: str = "CHF") -> BookingView:
    """Two standing places (2 × 45.00 = 90.00) for the holder, held until next week."""
    cat = await make_catalog(ctx, currency=currency, name=f"Salle {currency}")
    return await make_held_booking(ctx, cat, holder.customer)


async def balance(ctx: Context, pass_id: int) -> int:
    return int(await scalar(ctx, select(Pass.credit_minor).where(col(Pass.id) == pass_id)))


async def ledger(ctx: Context, pass_id: int) -> list[tuple[str, int, int]]:
    found = await rows(
        ctx, select(PassCredit).where(col(PassCredit.pass_id) == pass_id).order_by(PassCredit.id)
    )
    return [(r.kind, r.amount_minor, r.balance_minor) for r in found]


async def refused(work: Any) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await work
    return caught.value


async def test_credit_covering_the_total_pays_the_booking_like_any_payment(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 10_000)
    held = await tickets_of(ctx, ana)

    offered = await pass_credit.booking_credit(
        ctx, actor=as_customer(ana.customer), reference=held.reference
    )
    assert offered.best is not None and offered.best.covers
    assert (offered.best.code, offered.best.use_minor, offered.due_minor) == (ana.code, 9000, 9000)

    done = await pass_credit.apply(
        ctx, actor=as_customer(ana.customer), reference=held.reference, pass_id=ana.pass_id
    )

    assert (done.outcome, done.used_minor, done.due_minor, done.balance_minor) == (
        "paid",
        9000,
        0,
        1000,
    )
    assert done.booking.status == "confirmed"
    payment = (await rows(ctx, select(Payment).where(col(Payment.booking_id) == held.id)))[0]
    assert (payment.provider, payment.method, payment.amount_minor, payment.outcome) == (
        "pass_credit",
        "credit",
        9000,
        "confirmed",
    )
    issued = select(func.count()).select_from(Ticket).where(col(Ticket.booking_id) == held.id)
    assert await scalar(ctx, issued) == 2
    told = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            col(OutboxMessage.booking_id) == held.id, col(OutboxMessage.kind) == "payment_confirmed"
        )
    )
    assert await scalar(ctx, told) >= 1  # the tickets go out as for any payment
    assert await balance(ctx, ana.pass_id) == 1000
    assert await ledger(ctx, ana.pass_id) == [("added", 10_000, 10_000), ("spent", -9000, 1000)]


async def test_part_credit_leaves_the_rest_due_and_every_payment_asks_for_it(
    ctx: Context,
) -> None:
    ana = await holder_with_credit(ctx, 2500)
    held = await tickets_of(ctx, ana)

    done = await pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)

    assert (done.outcome, done.used_minor, done.due_minor, done.balance_minor) == (
        "partial",
        2500,
        6500,
        0,
    )
    assert done.booking.status == "held"
    after = await pass_credit.booking_credit(ctx, actor=STAFF, reference=held.reference)
    assert (after.total_minor, after.applied_minor, after.due_minor, after.offers) == (
        9000,
        2500,
        6500,
        (),
    )
    customer = as_customer(ana.customer)
    old_total = payments.check_payable(
        ctx, actor=customer, reference=held.reference, amount_minor=9000, currency="CHF"
    )
    mismatch = await refused(old_total)
    assert mismatch.code == "amount_mismatch"  # an invoice for the old total is refused
    await payments.check_payable(
        ctx, actor=customer, reference=held.reference, amount_minor=6500, currency="CHF"
    )
    paid = await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=held.reference, method="card"
    )  # the desk takes what is due, not the total
    assert paid.outcome == "confirmed"
    amounts = await rows(
        ctx, select(Payment.amount_minor).where(col(Payment.booking_id) == held.id)
    )
    assert amounts == [6500]


async def test_a_payment_of_the_old_total_after_credit_is_flagged_for_refund(ctx: Context) -> None:
    """Money for the total arriving after credit paid part (an invoice sent before): more than
    is due, so kept and flagged, never silently over-collected."""
    ana = await holder_with_credit(ctx, 2500)
    held = await tickets_of(ctx, ana)
    await pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)

    late = await payments.record_payment(
        ctx,
        actor=STAFF,
        reference=held.reference,
        provider="telegram",
        provider_event_id="old-invoice",
        amount_minor=9000,
        currency="CHF",
    )

    assert late.outcome == "refund_due" and late.booking.refund_due


async def test_credit_in_another_currency_is_refused_and_not_offered(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 10_000)
    held = await tickets_of(ctx, ana, currency="EUR")

    offered = await pass_credit.booking_credit(ctx, actor=STAFF, reference=held.reference)
    error = await refused(
        pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)
    )

    assert offered.offers == ()
    assert (error.code, error.params["pass_currency"], error.params["currency"]) == (
        "credit_currency",
        "CHF",
        "EUR",
    )
    assert await balance(ctx, ana.pass_id) == 10_000


async def test_another_customers_pass_cannot_pay(ctx: Context) -> None:
    product_id = await pass_product(ctx)
    ana = await holder_with_credit(ctx, 10_000, product_id=product_id)
    ben = await holder_with_credit(
        ctx, 10_000, product_id=product_id, email="ben@example.org", name="Ben Test"
    )
    held = await tickets_of(ctx, ana)

    as_ana, as_ben = as_customer(ana.customer), as_customer(ben.customer)
    by_ana = await refused(
        pass_credit.apply(ctx, actor=as_ana, reference=held.reference, pass_id=ben.pass_id)
    )
    by_staff = await refused(
        pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ben.pass_id)
    )
    by_ben = await refused(
        pass_credit.apply(ctx, actor=as_ben, reference=held.reference, pass_id=ben.pass_id)
    )

    assert (by_ana.code, by_staff.code) == ("credit_not_holder", "credit_not_holder")
    assert by_ben.code == "not_owner"  # Ana's booking is not Ben's to pay
    offered = await pass_credit.booking_credit(ctx, actor=STAFF, reference=held.reference)
    assert [o.code for o in offered.offers] == [ana.code]
    assert await balance(ctx, ben.pass_id) == 10_000


async def test_no_credit_or_an_unpaid_pass_pays_nothing(ctx: Context) -> None:
    product_id = await pass_product(ctx)
    ana = await holder_with_credit(ctx, 0, product_id=product_id)
    held = await tickets_of(ctx, ana)
    unpaid = await holder_with_credit(
        ctx, 0, product_id=product_id, email="cleo@example.org", name="Cleo Test", paid=False
    )
    await pass_credit.add(
        ctx, actor=STAFF, pass_id=unpaid.pass_id, amount_minor=500, source="staff"
    )

    none = await refused(
        pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)
    )
    assert none.code == "credit_none"
    assert (
        await pass_credit.booking_credit(ctx, actor=STAFF, reference=held.reference)
    ).offers == ()

    cat = await make_catalog(ctx, name="Salle Cleo")
    cleo_tickets = await make_held_booking(ctx, cat, unpaid.customer)
    void = await refused(
        pass_credit.apply(
            ctx, actor=STAFF, reference=cleo_tickets.reference, pass_id=unpaid.pass_id
        )
    )
    assert void.code == "credit_pass_void"
    offered = await pass_credit.booking_credit(ctx, actor=STAFF, reference=cleo_tickets.reference)
    assert offered.offers == ()


async def test_a_booking_uses_credit_once_and_a_paid_one_takes_none(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 2000)
    held = await tickets_of(ctx, ana)
    await pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)
    await pass_credit.add(ctx, actor=STAFF, pass_id=ana.pass_id, amount_minor=3000, source="staff")

    again = await refused(
        pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)
    )
    assert again.code == "credit_used"

    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=held.reference, method="cash"
    )
    paid = await refused(
        pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)
    )
    assert paid.code == "already_paid"
    assert await balance(ctx, ana.pass_id) == 3000


async def test_cancelling_gives_the_credit_back_and_refunds_only_money(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 12_000)
    by_credit = await tickets_of(ctx, ana)
    await pass_credit.apply(ctx, actor=STAFF, reference=by_credit.reference, pass_id=ana.pass_id)
    assert await balance(ctx, ana.pass_id) == 3000

    cancelled = await cancellations.cancel(
        ctx, actor=STAFF, reference=by_credit.reference, reason="illness"
    )

    assert cancelled.status == "cancelled" and not cancelled.refund_due  # no money to return
    assert await balance(ctx, ana.pass_id) == 12_000
    assert (await ledger(ctx, ana.pass_id))[-1] == ("given_back", 9000, 12_000)

    # In part: the money part is refunded, the credit part goes back to the pass.
    cat = await make_catalog(ctx, name="Salle Deux")
    part = await make_held_booking(ctx, cat, ana.customer, quantity=3)  # 135.00
    await pass_credit.apply(ctx, actor=STAFF, reference=part.reference, pass_id=ana.pass_id)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=part.reference, method="cash"
    )
    assert await balance(ctx, ana.pass_id) == 0
    cancelled = await cancellations.cancel(
        ctx, actor=STAFF, reference=part.reference, reason="price"
    )
    assert cancelled.refund_due
    assert await balance(ctx, ana.pass_id) == 12_000
    history = await bookings.get_booking(ctx, actor=STAFF, reference=part.reference)
    assert history.status == "cancelled"


async def test_a_held_booking_cancelled_by_its_holder_gives_the_credit_back(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 4000)
    held = await tickets_of(ctx, ana)
    await pass_credit.apply(
        ctx, actor=as_customer(ana.customer), reference=held.reference, pass_id=ana.pass_id
    )

    await cancellations.cancel(
        ctx, actor=as_customer(ana.customer), reference=held.reference, reason="mistake"
    )

    assert await balance(ctx, ana.pass_id) == 4000
    assert [k for k, _, _ in await ledger(ctx, ana.pass_id)] == ["added", "spent", "given_back"]


async def test_an_expired_hold_gives_its_credit_back(ctx: Context, clock: FrozenClock) -> None:
    ana = await holder_with_credit(ctx, 4000)
    held = await tickets_of(ctx, ana)
    await pass_credit.apply(ctx, actor=STAFF, reference=held.reference, pass_id=ana.pass_id)
    assert await balance(ctx, ana.pass_id) == 0

    clock.advance(timedelta(days=8))  # past the 7-day deadline under a firm policy
    report = await releases.release_due(ctx)
    again = await releases.release_due(ctx)  # a second sweep gives nothing back twice

    assert report.expired == 1 and again.expired == 0
    assert await balance(ctx, ana.pass_id) == 4000
    assert (await ledger(ctx, ana.pass_id))[-1] == ("given_back", 4000, 4000)
    after = await pass_credit.booking_credit(ctx, actor=STAFF, reference=held.reference)
    assert (after.applied_minor, after.due_minor) == (0, 9000)


async def test_adding_credit_once_per_key_and_never_by_a_customer(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 0)

    first = await pass_credit.add(
        ctx,
        actor=RESALE,
        pass_id=ana.pass_id,
        amount_minor=1500,
        source="resale",
        key="payout:1",
        note="resale",
    )
    second = await pass_credit.add(
        ctx, actor=RESALE, pass_id=ana.pass_id, amount_minor=1500, source="resale", key="payout:1"
    )
    assert first == second and await balance(ctx, ana.pass_id) == 1500

    by_holder = pass_credit.add(
        ctx, actor=as_customer(ana.customer), pass_id=ana.pass_id, amount_minor=100, source="staff"
    )
    customer = await refused(by_holder)
    zero = await refused(
        pass_credit.add(ctx, actor=STAFF, pass_id=ana.pass_id, amount_minor=0, source="staff")
    )
    source = await refused(
        pass_credit.add(ctx, actor=STAFF, pass_id=ana.pass_id, amount_minor=5, source="gift")
    )
    assert (customer.code, zero.code, source.code) == (
        "not_owner",
        "credit_bad_amount",
        "bad_value",
    )
    assert await balance(ctx, ana.pass_id) == 1500
