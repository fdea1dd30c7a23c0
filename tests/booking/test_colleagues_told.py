"""Issue 11, points 4, 5, 8 and 22 at the service level: one recipients rule for every notice
of a booking (its owner, in every channel they have; only the owner's own chat is skipped when
they acted there), the colleague who acted named in the payload, and "book again" only while
the event has a date on sale."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from booking.context import Context
from booking.services import cancellations, customers, extensions, payments, releases
from booking.tables.outbox import OutboxMessage
from booking.views import CustomerView
from tests.builders import STAFF, Catalog, as_customer, make_catalog, make_customer
from tests.builders import make_held_booking as hold


async def notices(ctx: Context, kind: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(customer id, channel, payload) of each ``kind`` notice queued."""

    async def work(session: Any) -> list[tuple[int, str, dict[str, Any]]]:
        rows = await session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == kind)
            .order_by(col(OutboxMessage.channel))
        )
        return [(m.customer_id, m.channel, json.loads(m.payload)) for m in rows.scalars()]

    return await ctx.db.read(work)


async def acme(ctx: Context) -> tuple[CustomerView, CustomerView]:
    """Ana (owner, Telegram linked) and Bo, contacts of Acme SA."""
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    ana = await make_customer(ctx, organization_id=org, customer_type="b2b")
    ana = await customers.link_telegram(
        ctx, actor=STAFF, customer_id=ana.id, telegram_user_id=7001, chat_id=7001
    )
    bo = await make_customer(ctx, email="bo@acme.example", name="Bo Keller",
                             organization_id=org, customer_type="b2b")  # fmt: skip
    return ana, bo


async def test_a_colleague_cancelling_by_email_is_named_to_the_owner_everywhere(
    ctx: Context,
) -> None:
    ana, bo = await acme(ctx)
    held = await hold(ctx, await make_catalog(ctx), ana)

    await cancellations.cancel(ctx, actor=as_customer(bo, "email"), reference=held.reference,
                               reason="illness")  # fmt: skip

    told = await notices(ctx, "booking_cancelled")
    assert [(c, ch) for c, ch, _ in told] == [(ana.id, "email"), (ana.id, "telegram")]
    assert all(p["by"] == "Bo Keller (Acme SA)" and p["reason"] == "illness" for *_, p in told)


async def test_the_owner_acting_in_the_bot_gets_email_only_and_no_by(ctx: Context) -> None:
    ana, _ = await acme(ctx)
    held = await hold(ctx, await make_catalog(ctx), ana)

    await cancellations.cancel(ctx, actor=as_customer(ana), reference=held.reference,
                               reason="illness")  # fmt: skip

    assert [(c, ch, "by" in p) for c, ch, p in await notices(ctx, "booking_cancelled")] == [
        (ana.id, "email", False)
    ]


async def test_a_colleagues_telegram_payment_reaches_the_owners_telegram(ctx: Context) -> None:
    ana, bo = await acme(ctx)
    held = await hold(ctx, await make_catalog(ctx), ana)

    await payments.record_payment(
        ctx, actor=as_customer(bo), reference=held.reference, provider="telegram",
        provider_event_id="charge-1", amount_minor=held.total_minor, currency="CHF",
    )  # fmt: skip

    told = await notices(ctx, "payment_confirmed")
    assert [(c, ch, p["by"]) for c, ch, p in told] == [
        (ana.id, "email", "Bo Keller (Acme SA)"),
        (ana.id, "telegram", "Bo Keller (Acme SA)"),
    ]


async def test_released_and_extended_holds_are_told_in_every_channel(ctx: Context) -> None:
    """Point 4: the organizer's decisions go through the same rule (no actor named)."""
    ana, _ = await acme(ctx)
    cat = await make_catalog(ctx)
    kept, released = await hold(ctx, cat, ana), await hold(ctx, cat, ana)

    await releases.bulk_extend(ctx, actor=STAFF, references=[kept.reference], by_days=3)
    await releases.bulk_release(ctx, actor=STAFF, references=[released.reference],
                                include_not_due=True)  # fmt: skip

    for kind in ("deadline_extended", "booking_released"):
        told = await notices(ctx, kind)
        assert [(c, ch, "by" in p) for c, ch, p in told] == [
            (ana.id, "email", False),
            (ana.id, "telegram", False),
        ], kind


async def expire(ctx: Context, cat: Catalog, ana: CustomerView, days: int) -> None:
    await hold(ctx, cat, ana)
    ctx.clock.advance(timedelta(days=days))  # type: ignore[attr-defined]
    await releases.release_due(ctx)


async def test_expiry_offers_to_book_again_while_a_date_is_on_sale(ctx: Context) -> None:
    ana, _ = await acme(ctx)
    cat = await make_catalog(ctx)

    await expire(ctx, cat, ana, days=8)

    told = await notices(ctx, "booking_expired")
    assert [(ch, p) for _, ch, p in told] == [
        ("email", {"book_again": cat.event_id}),
        ("telegram", {"book_again": cat.event_id}),
    ]


async def test_no_book_again_once_the_show_has_started(ctx: Context) -> None:
    """A flexible hold waits overdue, then closes when its (only) date starts: nothing is left
    to book, so nothing is offered."""
    ana, _ = await acme(ctx)
    cat = await make_catalog(ctx, policy="flexible", starts_in=timedelta(days=10))
    await expire(ctx, cat, ana, days=8)  # overdue
    ctx.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]  # the show has started

    await releases.release_due(ctx)

    assert [p for *_, p in await notices(ctx, "booking_expired")] == [{}, {}]


async def test_a_colleagues_payment_kept_for_refund_names_them_too(ctx: Context) -> None:
    ana, bo = await acme(ctx)
    held = await hold(ctx, await make_catalog(ctx), ana)

    await payments.record_payment(
        ctx, actor=as_customer(bo), reference=held.reference, provider="telegram",
        provider_event_id="charge-2", amount_minor=held.total_minor - 1, currency="CHF",
    )  # fmt: skip

    told = await notices(ctx, "payment_refund_due")
    assert [(ch, p["by"]) for _, ch, p in told] == [
        ("email", "Bo Keller (Acme SA)"),
        ("telegram", "Bo Keller (Acme SA)"),
    ]


async def test_the_colleague_who_asked_for_more_time_hears_the_decision(ctx: Context) -> None:
    """Bo asks by email for more time on Ana's booking: the organizer's answer reaches the
    owner (every channel) and Bo too (his own), not the owner alone."""
    ana, bo = await acme(ctx)
    held = await hold(ctx, await make_catalog(ctx), ana)
    asked = await extensions.request_extension(
        ctx, actor=as_customer(bo, "email"), reference=held.reference, reason="budget"
    )

    await extensions.deny_extension(ctx, actor=STAFF, request_id=asked.id, message="Désolés.")

    told = await notices(ctx, "extension_denied")
    assert sorted((c, ch) for c, ch, _ in told) == [
        (ana.id, "email"),
        (ana.id, "telegram"),
        (bo.id, "email"),
    ]


async def test_a_colleague_approved_at_once_in_the_bot_is_told_by_email_only(
    ctx: Context,
) -> None:
    """Auto-approval answers in the chat where the colleague asked: no second Telegram word."""
    ana, bo = await acme(ctx)
    bo = await customers.link_telegram(
        ctx, actor=STAFF, customer_id=bo.id, telegram_user_id=7002, chat_id=7002
    )
    held = await hold(ctx, await make_catalog(ctx, auto_extend_days=7), ana)

    await extensions.request_extension(
        ctx, actor=as_customer(bo, "telegram"), reference=held.reference
    )

    told = await notices(ctx, "extension_approved")
    assert (bo.id, "email") in [(c, ch) for c, ch, _ in told]
    assert (bo.id, "telegram") not in [(c, ch) for c, ch, _ in told]
    assert (ana.id, "telegram") in [(c, ch) for c, ch, _ in told]


async def test_the_owner_asking_is_not_told_twice(ctx: Context) -> None:
    ana, _ = await acme(ctx)
    held = await hold(ctx, await make_catalog(ctx), ana)
    asked = await extensions.request_extension(
        ctx, actor=as_customer(ana, "email"), reference=held.reference
    )

    await extensions.deny_extension(ctx, actor=STAFF, request_id=asked.id)

    told = await notices(ctx, "extension_denied")
    assert sorted((c, ch) for c, ch, _ in told) == [(ana.id, "email"), (ana.id, "telegram")]
