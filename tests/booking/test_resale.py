"""Resale of pass tickets, the core (issue 13), on SQLite and PostgreSQL: the organizer's
settings, the fee shown before listing, listing every chosen date or none, each refusal with
nothing written, withdrawing (a sold or reserved listing refuses), closing at the start with
the seller told once, the door refusing a pass performance on resale, French messages."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking import notices, views
from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.errors import MESSAGES, BookingError
from booking.i18n import error_text
from booking.queries import resale as resale_queries
from booking.rules.formatting import when
from booking.services import checkin, resale
from booking.services.resale import SettingsView, fee_for
from booking.tables.bookings import Booking, HistoryEntry, Item
from booking.tables.catalog import Event, Performance
from booking.tables.checkin import CheckIn
from booking.tables.outbox import OutboxMessage
from booking.tables.passes import Pass
from booking.tables.resale import ResaleListing
from tests.booking.test_pass_credit import Holder, holder_with_credit, rows, scalar
from tests.builders import STAFF, as_customer
from tests.support.english import english_in

DOOR = Actor(kind="staff", name="Door Test", channel="console")
IBAN_CH = "CH93 0076 2011 6238 5295 7"  # valid, Switzerland: in the SEPA area
IBAN_BAD_DIGITS = "CH94 0076 2011 6238 5295 7"
IBAN_US_LIKE = "BR15 0000 0000 0000 1093 2840 814P 2"  # valid, Brazil: outside SEPA


async def dates_of(ctx: Context, holder: Holder) -> list[tuple[int, int]]:
    """(performance id, event id) of every date of the holder's pass, by start."""
    query = (
        select(col(Performance.id), col(Performance.event_id))
        .join(Item, col(Item.performance_id) == Performance.id)
        .join(Pass, col(Pass.booking_id) == Item.booking_id)
        .where(col(Pass.id) == holder.pass_id)
        .order_by(col(Performance.starts_at))
    )

    async def work(session: AsyncSession) -> list[tuple[int, int]]:
        return [(p, e) for p, e in (await session.execute(query)).all()]

    return await ctx.db.read(work)


async def allow(
    ctx: Context,
    event_ids: Sequence[int],
    payouts: Sequence[str] = ("donate", "transfer", "credit"),
    fee_percent: int = 10,
    fee_fixed_minor: int = 50,
) -> None:
    for event_id in set(event_ids):
        await resale.set_settings(
            ctx, actor=STAFF, event_id=event_id, allowed=True, payouts=payouts,
            fee_percent=fee_percent, fee_fixed_minor=fee_fixed_minor,
        )  # fmt: skip


async def ana_on_resale(ctx: Context, **settings: Any) -> tuple[Holder, list[int]]:
    """Ana holds a paid pass; resale is allowed for its events. Returns her and its dates."""
    ana = await holder_with_credit(ctx, 0)
    dates = await dates_of(ctx, ana)
    await allow(ctx, [e for _, e in dates], **settings)
    return ana, [p for p, _ in dates]


async def bob_too(ctx: Context, ana: Holder) -> Holder:
    """Bob holds a pass of the same product as Ana (so the same dates)."""
    product_id = await scalar(ctx, select(Pass.product_id).where(col(Pass.id) == ana.pass_id))
    return await holder_with_credit(
        ctx, 0, product_id=product_id, email="bob@example.org", name="Bob Test"
    )


async def nothing_written(ctx: Context) -> tuple[int, int]:
    listings = await scalar(ctx, select(func.count()).select_from(ResaleListing))
    history = await scalar(
        ctx,
        select(func.count())
        .select_from(HistoryEntry)
        .where(col(HistoryEntry.action).like("resale%")),
    )
    return int(listings), int(history)


async def refused(work: Any) -> BookingError:
    with pytest.raises(BookingError) as caught:
        await work
    return caught.value


async def secret_of(ctx: Context, pass_id: int) -> str:
    return str(await scalar(ctx, select(Pass.secret).where(col(Pass.id) == pass_id)))


# -- the fee -------------------------------------------------------------------------------


def test_the_fee_is_a_percent_rounded_down_plus_a_fixed_part_never_above_the_price() -> None:
    rules = SettingsView(1, True, ("donate",), fee_percent=10, fee_fixed_minor=50, sell_first=True)
    assert fee_for(4599, rules) == 459 + 50
    assert fee_for(30, rules) == 30  # 3 + 50 capped: the payout is 0, never negative
    assert fee_for(0, rules) == 0
    free = SettingsView(1, True, ("donate",), fee_percent=0, fee_fixed_minor=0, sell_first=True)
    assert fee_for(4599, free) == 0


async def test_the_quote_shows_price_fee_and_payouts_and_writes_nothing(ctx: Context) -> None:
    ana, dates = await ana_on_resale(ctx, payouts=("donate", "credit"))

    quotes = await resale.quote(
        ctx, actor=as_customer(ana.customer), pass_id=ana.pass_id, performance_ids=dates[:2]
    )

    assert [q.performance_id for q in quotes] == dates[:2]
    for q in quotes:
        assert q.price_minor > 0 and q.currency == "CHF"
        assert q.fee_minor == q.price_minor * 10 // 100 + 50
        assert q.payout_minor == q.price_minor - q.fee_minor
        assert q.payouts == ("donate", "credit")
    assert await nothing_written(ctx) == (0, 0)


# -- settings ------------------------------------------------------------------------------


async def test_settings_default_to_no_resale_and_are_staff_only(ctx: Context) -> None:
    ana = await holder_with_credit(ctx, 0)
    (_, event_id), *_ = await dates_of(ctx, ana)

    assert not (await resale.settings_for(ctx, actor=STAFF, event_id=event_id)).allowed
    saved = await resale.set_settings(
        ctx, actor=STAFF, event_id=event_id, allowed=True, payouts=["credit", "donate"],
        fee_percent=5, fee_fixed_minor=0, sell_first=False,
    )  # fmt: skip
    assert (saved.allowed, saved.payouts, saved.fee_percent, saved.sell_first) == (
        True, ("donate", "credit"), 5, False,
    )  # fmt: skip
    assert await resale.settings_for(ctx, actor=STAFF, event_id=event_id) == saved
    customer = as_customer(ana.customer)
    assert (await refused(resale.settings_for(ctx, actor=customer, event_id=event_id))).code == (
        "not_owner"
    )
    for bad in ({"payouts": ["cash"]}, {"payouts": []}, {"fee_percent": 101}):
        args: dict[str, Any] = {"payouts": ["donate"], "fee_percent": 0, **bad}
        error = await refused(
            resale.set_settings(ctx, actor=STAFF, event_id=event_id, allowed=True, **args)
        )
        assert error.code == "bad_value"


# -- listing -------------------------------------------------------------------------------


async def test_a_holder_lists_two_dates_with_a_transfer_payout(ctx: Context) -> None:
    ana, dates = await ana_on_resale(ctx)

    listed = await resale.list_places(
        ctx, actor=as_customer(ana.customer), pass_id=ana.pass_id, performance_ids=dates[:2],
        payout="transfer", iban=IBAN_CH, account_holder="  Ana   Test ",
    )  # fmt: skip

    assert [(v.performance_id, v.state, v.payout) for v in listed] == [
        (dates[0], "listed", "transfer"),
        (dates[1], "listed", "transfer"),
    ]
    assert all(v.iban_end == "2957" and v.account_holder == "Ana Test" for v in listed)
    assert all(v.pass_code == ana.code and v.seat_id is not None for v in listed)
    assert all(v.payout_minor == v.price_minor - v.fee_minor for v in listed)
    stored = await rows(ctx, select(ResaleListing.iban))
    assert stored == ["CH9300762011623852957"] * 2  # compact
    opened = await resale_queries.open_listings(
        ctx, actor=as_customer(ana.customer), pass_id=ana.pass_id
    )
    assert [v.id for v in opened] == [v.id for v in listed]
    assert await nothing_written(ctx) == (2, 1)  # one history row for the one action
    # No placeholder check-in is left behind.
    assert await scalar(ctx, select(func.count()).select_from(CheckIn)) == 0


async def test_staff_may_list_for_the_holder_with_a_credit_payout(ctx: Context) -> None:
    ana, dates = await ana_on_resale(ctx)
    listed = await resale.list_places(
        ctx, actor=STAFF, pass_id=ana.pass_id, performance_ids=[dates[0]], payout="credit"
    )
    assert [(v.payout, v.iban_end, v.account_holder) for v in listed] == [("credit", "", "")]


async def refusal(ctx: Context, ana: Holder, dates: Sequence[int], **kw: Any) -> str:
    args: dict[str, Any] = {"payout": "donate", "actor": as_customer(ana.customer), **kw}
    error = await refused(
        resale.list_places(ctx, pass_id=ana.pass_id, performance_ids=list(dates), **args)
    )
    return error.code


async def test_every_refusal_writes_nothing(ctx: Context, clock: FrozenClock) -> None:
    ana, dates = await ana_on_resale(ctx, payouts=("donate", "transfer"))
    bob = await bob_too(ctx, ana)
    bob_dates = [p for p, _ in await dates_of(ctx, bob)]
    # Bob's first date is used at the door; Ana's last is listed already.
    await checkin.admit(
        ctx, actor=DOOR, secret=await secret_of(ctx, bob.pass_id), performance_id=bob_dates[0]
    )
    await resale.list_places(
        ctx, actor=STAFF, pass_id=ana.pass_id, performance_ids=[dates[-1]], payout="donate"
    )
    before = await nothing_written(ctx)
    stranger = as_customer(bob.customer)
    BANK = {"payout": "transfer", "account_holder": "A"}
    cases: list[tuple[str, dict[str, Any]]] = [
        ("resale_unknown_pass", {"actor": stranger}),  # not theirs: as unknown
        ("resale_no_dates", {"dates": []}),
        ("resale_not_in_pass", {"dates": [dates[0], bob_dates[0] + 1000]}),
        ("resale_already_listed", {"dates": [dates[0], dates[-1]]}),
        ("resale_payout_not_offered", {"payout": "credit"}),
        ("bad_value", {"payout": "cash"}),
        ("resale_bad_iban", {**BANK, "iban": IBAN_BAD_DIGITS}),
        ("resale_bad_iban", {**BANK, "iban": "not an iban"}),
        ("resale_iban_not_sepa", {**BANK, "iban": IBAN_US_LIKE}),
        ("resale_holder_required", {**BANK, "iban": IBAN_CH, "account_holder": " "}),
    ]  # fmt: skip
    for code, kw in cases:
        chosen = kw.pop("dates", dates[:2])
        assert await refusal(ctx, ana, chosen, **kw) == code, (code, kw)
    unknown = await refused(
        resale.list_places(
            ctx, actor=STAFF, pass_id=999_999, performance_ids=dates[:1], payout="donate"
        )
    )
    assert unknown.code == "resale_unknown_pass"
    bob_actor = {"actor": stranger}
    assert await refusal_for(ctx, bob, bob_dates[:2], **bob_actor) == "resale_used"
    assert await nothing_written(ctx) == before
    # Bob's one admission, and no placeholder check-in left by any refusal.
    assert await scalar(ctx, select(func.count()).select_from(CheckIn)) == 1
    strangers = await refused(
        resale_queries.open_listings(ctx, actor=stranger, pass_id=ana.pass_id)
    )
    assert strangers.code == "resale_unknown_pass"


async def refusal_for(ctx: Context, holder: Holder, dates: Sequence[int], **kw: Any) -> str:
    return await refusal(ctx, holder, dates, **kw)


async def test_a_started_date_and_a_date_without_resale_are_refused(
    ctx: Context, clock: FrozenClock
) -> None:
    ana = await holder_with_credit(ctx, 0)
    dates = await dates_of(ctx, ana)
    first_event = dates[0][1]
    assert await refusal(ctx, ana, [dates[0][0]]) == "resale_not_allowed"
    await allow(ctx, [e for _, e in dates])
    starts = await scalar(
        ctx, select(Performance.starts_at).where(col(Performance.id) == dates[0][0])
    )
    clock.set(starts)
    assert await refusal(ctx, ana, [dates[0][0]]) == "resale_started"
    assert first_event  # (the first date's event allowed it: the date, not the event, refused)
    assert await nothing_written(ctx) == (0, 0)


async def test_a_pass_not_paid_or_refunded_is_refused(ctx: Context) -> None:
    ana, dates = await ana_on_resale(ctx)

    async def refund_due(session: AsyncSession) -> None:
        booking_id = select(Pass.booking_id).where(col(Pass.id) == ana.pass_id)
        await session.execute(
            update(Booking)
            .where(col(Booking.id) == booking_id.scalar_subquery())
            .values(refund_due=True)
        )

    await ctx.db.write(refund_due)
    assert await refusal(ctx, ana, dates[:1]) == "resale_pass_void"
    product_id = await scalar(ctx, select(Pass.product_id).where(col(Pass.id) == ana.pass_id))
    unpaid = await holder_with_credit(
        ctx, 0, product_id=product_id, email="cleo@example.org", paid=False
    )
    assert await refusal(ctx, unpaid, [p for p, _ in await dates_of(ctx, unpaid)][:1]) == (
        "resale_pass_void"
    )
    assert await nothing_written(ctx) == (0, 0)


# -- withdrawing ---------------------------------------------------------------------------


async def set_state(ctx: Context, listing_id: int, state: str) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(ResaleListing).where(col(ResaleListing.id) == listing_id).values(state=state)
        )

    await ctx.db.write(work)


async def test_withdraw_while_listed_then_list_again(ctx: Context) -> None:
    ana, dates = await ana_on_resale(ctx)
    actor = as_customer(ana.customer)
    (listed,) = await resale.list_places(
        ctx, actor=actor, pass_id=ana.pass_id, performance_ids=dates[:1], payout="donate"
    )

    done = await resale.withdraw(ctx, actor=actor, listing_id=listed.id)

    assert (done.state, done.ended_at) == ("withdrawn", ctx.clock.now())
    assert await resale_queries.open_listings(ctx, actor=actor, pass_id=ana.pass_id) == []
    again = await refused(resale.withdraw(ctx, actor=actor, listing_id=listed.id))
    assert again.code == "resale_ended"
    # Withdrawn is not open: the same date can go on resale again.
    (relisted,) = await resale.list_places(
        ctx, actor=actor, pass_id=ana.pass_id, performance_ids=dates[:1], payout="donate"
    )
    assert relisted.id != listed.id


async def test_a_sold_or_reserved_listing_cannot_be_withdrawn(ctx: Context) -> None:
    ana, dates = await ana_on_resale(ctx)
    actor = as_customer(ana.customer)
    first, second = await resale.list_places(
        ctx, actor=actor, pass_id=ana.pass_id, performance_ids=dates[:2], payout="donate"
    )
    await set_state(ctx, first.id, "sold")
    await set_state(ctx, second.id, "reserved")

    assert (await refused(resale.withdraw(ctx, actor=actor, listing_id=first.id))).code == (
        "resale_sold"
    )
    assert (await refused(resale.withdraw(ctx, actor=actor, listing_id=second.id))).code == (
        "resale_reserved"
    )
    bob = await bob_too(ctx, ana)
    stranger = as_customer(bob.customer)
    assert (await refused(resale.withdraw(ctx, actor=stranger, listing_id=first.id))).code == (
        "resale_unknown_listing"
    )
    states = await rows(ctx, select(ResaleListing.state).order_by(col(ResaleListing.id)))
    assert states == ["sold", "reserved"]


# -- closing at the start ------------------------------------------------------------------


async def test_started_listings_close_and_the_seller_is_told_once(
    ctx: Context, clock: FrozenClock
) -> None:
    ana, dates = await ana_on_resale(ctx)
    listed = await resale.list_places(
        ctx, actor=STAFF, pass_id=ana.pass_id, performance_ids=dates[:2], payout="donate"
    )
    await set_state(ctx, listed[1].id, "reserved")
    later = await scalar(ctx, select(Performance.starts_at).where(col(Performance.id) == dates[1]))

    assert await resale.close_started(ctx) == 0  # nothing started yet
    clock.set(later)
    assert await resale.close_started(ctx) == 2
    assert await resale.close_started(ctx) == 0  # a second run (or worker) closes nothing

    states = await rows(ctx, select(ResaleListing.state).order_by(col(ResaleListing.id)))
    assert states == ["closed", "closed"]
    notices = await rows(
        ctx,
        select(OutboxMessage)
        .where(col(OutboxMessage.kind) == "resale_closed")
        .order_by(col(OutboxMessage.id)),
    )
    assert sorted(n.dedupe_key.rsplit(":", 1)[0] for n in notices) == sorted(
        f"resale_closed:{v.id}" for v in listed
    )
    assert all(n.customer_id == ana.customer.id for n in notices)
    assert '"pass_code": "' + ana.code + '"' in notices[0].payload


# -- the door ------------------------------------------------------------------------------


async def test_the_door_refuses_a_pass_date_on_resale_and_admits_it_after_withdrawal(
    ctx: Context,
) -> None:
    ana, dates = await ana_on_resale(ctx)
    secret = await secret_of(ctx, ana.pass_id)
    (listed,) = await resale.list_places(
        ctx, actor=STAFF, pass_id=ana.pass_id, performance_ids=dates[:1], payout="donate"
    )

    checked = await checkin.check(ctx, actor=DOOR, secret=secret, performance_id=dates[0])
    answer = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=dates[0])
    other = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=dates[1])

    assert (checked.outcome, answer.outcome, other.outcome) == (
        "not_valid", "not_valid", "admitted",
    )  # fmt: skip
    assert checked.entitlement is not None and checked.entitlement.invalid == "on_resale"
    assert answer.entitlement is not None and answer.entitlement.invalid == "on_resale"
    assert await scalar(ctx, select(func.count()).select_from(CheckIn)) == 1  # dates[1] only
    await resale.withdraw(ctx, actor=STAFF, listing_id=listed.id)
    again = await checkin.admit(ctx, actor=DOOR, secret=secret, performance_id=dates[0])
    assert again.outcome == "admitted"


# -- French --------------------------------------------------------------------------------


def test_every_resale_refusal_has_its_french_message() -> None:
    codes = [code for code in MESSAGES if code.startswith("resale_")]
    assert len(codes) >= 15
    params = {"pass_code": "K7M-4QX", "event": "Opera", "country": "BR"}
    for code in codes:
        error = BookingError(code, **params)
        assert error_text(error, "fr") != error_text(error, "en"), code
    assert error_text(BookingError("resale_used"), "fr") == (
        "Votre billet pour cette date a déjà été utilisé à l'entrée : il ne peut pas être revendu."
    )


async def test_the_database_keeps_one_open_listing_per_pass_date(ctx: Context) -> None:
    """The partial unique index itself: a second open row fails, a closed one does not."""
    ana, dates = await ana_on_resale(ctx)
    (listed,) = await resale.list_places(
        ctx, actor=STAFF, pass_id=ana.pass_id, performance_ids=dates[:1], payout="donate"
    )

    listed_item = await rows(
        ctx, select(ResaleListing.item_id).where(col(ResaleListing.id) == listed.id)
    )

    def row(state: str) -> ResaleListing:
        return ResaleListing(
            pass_id=ana.pass_id, performance_id=dates[0], item_id=listed_item[0],
            state=state, payout="donate", price_minor=100, created_at=ctx.clock.now(),
        )  # fmt: skip

    async def add(state: str) -> None:
        async def work(session: AsyncSession) -> None:
            session.add(row(state))

        await ctx.db.write(work)

    await add("closed")
    await add("withdrawn")
    for state in ("listed", "reserved"):
        with pytest.raises(IntegrityError):
            await add(state)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_closed_notice_names_the_listed_date_in_the_sellers_language(
    ctx: Context, clock: FrozenClock, language: str
) -> None:
    ana = await holder_with_credit(ctx, 0, language=language)
    dates = await dates_of(ctx, ana)
    await allow(ctx, [e for _, e in dates])
    second = dates[1][0]
    await resale.list_places(
        ctx, actor=STAFF, pass_id=ana.pass_id, performance_ids=[second], payout="donate"
    )
    starts = await scalar(ctx, select(Performance.starts_at).where(col(Performance.id) == second))
    clock.set(starts)
    assert await resale.close_started(ctx) == 1

    (message,) = await rows(
        ctx, select(OutboxMessage).where(col(OutboxMessage.kind) == "resale_closed")
    )
    view = await ctx.db.read(partial(views.load_outbox, message_id=message.id or 0))
    assert view is not None
    notice = notices.render(view)
    text = f"{notice.subject}\n{notice.text}"
    event_id = dict(dates)[second]
    title = await scalar(ctx, select(Event.title).where(col(Event.id) == event_id))
    zone = await scalar(ctx, select(Event.timezone).where(col(Event.id) == event_id))
    assert title in notice.subject and when(starts, zone, language) in notice.subject
    assert ana.code in notice.text and "-" not in text.split(), text
    if language == "fr":
        assert english_in(text, [title, ana.code]) == [], text
    else:
        assert "was not resold" in notice.subject
