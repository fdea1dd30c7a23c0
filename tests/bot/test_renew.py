"""/renew end to end (issue 12): a holder of last season's pass renews it in the bot, keeping
the seat, the pass code and the QR; pays in the bot; the door admits the same QR. The Renew
button of the invitation; a window closed meanwhile; someone else's renewal named by a forged
button (with its companion); already renewed; no renewals; a chat not linked to a customer.
Real dispatcher over HTTP against the fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from booking.actors import Actor
from booking.context import Context
from booking.queries import passes as pass_queries
from booking.queries import renewals as renewal_queries
from booking.queries.passes import PassDetail
from booking.services import checkin, pass_products, passes, payments, renewals
from booking.services.renewals import CampaignSettings
from booking.views import CustomerView
from bot.renew_callbacks import RenewCb
from tests.booking.test_pass_products import product, season_with_events
from tests.bot.conftest import Desk, Person, linked_customer
from tests.builders import STAFF, make_customer

ANA, BOB, NOBODY = 3101, 3102, 3109
DOOR = Actor(kind="staff", name="Door Test", channel="console", id=None)
ORGANIZER = Actor(kind="staff", name="Organizer Test", channel="console", id=None)  # no staff row
OLD_NAME, NEW_NAME, CAMPAIGN = "Abonnement", "Saison 27/28", "Renouvellement 27/28"
WINDOW = timedelta(days=20)
STALLS = 10  # seats of the area both seasons' passes sit in (tests/booking/test_pass_products)


@dataclass
class Seasons:
    """Last season's product and a holder's paid pass; the new season's product at the same
    seats (the plan unchanged); a launched campaign from one to the other."""

    ids: dict[str, int]
    old_product: int
    new_product: int
    campaign: int


async def seasons(
    ctx: Context, *, closes_in: timedelta | None = WINDOW, opens_in: timedelta | None = None
) -> Seasons:
    ids = await season_with_events(ctx)
    old = await pass_products.create_product(ctx, actor=STAFF, settings=product(ids))
    new_settings = product(
        ids, season_id=ids["other_season"], name=NEW_NAME, event_ids=(ids["next_year"],)
    )
    new = await pass_products.create_product(ctx, actor=STAFF, settings=new_settings)
    closes = ctx.clock.now() + closes_in if closes_in is not None else None
    opens = ctx.clock.now() + opens_in if opens_in is not None else None
    campaign = await renewals.create_campaign(
        ctx,
        actor=ORGANIZER,
        settings=CampaignSettings(
            from_product_id=old,
            name=CAMPAIGN,
            offer_product_ids=(new,),
            opens_at=opens,
            closes_at=closes,
        ),
    )
    return Seasons(ids, old, new, campaign)


async def holder(
    ctx: Context, found: Seasons, user_id: int, *, seat: int | None = None, **who: str
) -> tuple[CustomerView, PassDetail]:
    """A linked customer holding a paid pass of last season's product."""
    customer = await linked_customer(ctx, user_id, **who)
    sold = await passes.sell(
        ctx,
        actor=STAFF,
        product_id=found.old_product,
        customer_id=customer.id,
        answers={"first_name": customer.name.split()[0]},
        seat_id=seat,
    )
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    return customer, await pass_queries.pass_detail(ctx, pass_id=sold.id)


async def launched(ctx: Context, found: Seasons) -> None:
    report = await renewals.launch(ctx, actor=ORGANIZER, campaign_id=found.campaign)
    assert report.invited >= 1 and report.not_kept == 0


async def passes_of(ctx: Context, customer: CustomerView) -> list[PassDetail]:
    return await pass_queries.customer_passes(ctx, customer_id=customer.id)


async def renewal_id(ctx: Context, customer: CustomerView) -> int:
    (choice,) = await renewal_queries.open_renewals(ctx, customer_id=customer.id)
    return choice.renewal_id


async def admit(ctx: Context, secret: str, performance_id: int) -> str:
    answer = await checkin.admit(
        ctx, actor=DOOR, secret=secret, performance_id=performance_id, door="North"
    )
    return answer.outcome


async def pay_in_the_bot(desk: Desk, person: Person, reply_with_pay: str) -> str:
    """Press Pay on the card, answer the pre-checkout, pay; returns what the bot said."""
    reply = await person.press(reply_with_pay)
    (invoice,) = reply.of("sendInvoice")
    payload, amount = invoice.params["payload"], sum(p["amount"] for p in invoice.params["prices"])
    query = desk.fake.pre_checkout(person.user_id, payload, amount, "CHF", enqueue=False)
    (answer,) = (await desk.handle(person, query)).of("answerPreCheckoutQuery")
    assert answer.params["ok"] is True
    paid = desk.fake.successful_payment(person.user_id, payload, amount, "CHF", enqueue=False)
    return (await desk.handle(person, paid)).text


async def test_a_holder_renews_in_the_bot_keeping_seat_code_and_qr_pays_and_is_admitted(
    any_desk: Desk,
) -> None:
    desk = any_desk
    found = await seasons(desk.ctx)
    ana, old = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    chat = desk.person(ANA)

    reply = await chat.send("/renew")

    assert old.seat is not None
    seat = old.seat.label("en")
    assert f"Pass {old.code} · {OLD_NAME} · Ana" in reply.text
    assert f"Renewal: {CAMPAIGN}" in reply.text
    assert "You can renew until Sun 13 Dec 2026" in reply.text
    assert f"• {NEW_NAME} · CHF\u00a0240.00\n   Your seat {seat}, kept for you" in reply.text
    assert chat.buttons() == [f"{NEW_NAME} · CHF\u00a0240.00", "« All my renewals"]

    reply = await chat.press(NEW_NAME)
    assert f"Renew pass {old.code} as {NEW_NAME}" in reply.text
    assert (
        "Price: CHF\u00a0240.00" in reply.text and f"Your seat {seat}, kept for you" in reply.text
    )
    assert chat.buttons() == ["Hold it, pay later", "Pay now CHF\u00a0240.00", "« Other choices"]

    reply = await chat.press("Hold it, pay later")
    assert f"Done! Pass {old.code} is renewed as {NEW_NAME} and held for you until" in reply.text
    assert "Status: held, not paid yet" in reply.text
    renewed = next(
        p for p in await passes_of(desk.ctx, ana) if p.product.row.id == found.new_product
    )
    assert (renewed.code, renewed.secret, renewed.seat) == (old.code, old.secret, old.seat)
    assert renewed.reference in reply.text and renewed.status == "held"

    said = await pay_in_the_bot(desk, chat, "Pay CHF\u00a0240.00")

    assert f"Thank you! Booking {renewed.reference} is paid." in said
    renewed = await pass_queries.pass_detail(desk.ctx, pass_id=renewed.id)
    assert renewed.status == "confirmed"
    # The same QR (one secret, two seasons) admits at the new season's date, once.
    new_date = renewed.dates[0].performance_id
    assert await admit(desk.ctx, old.secret, new_date) == "admitted"
    assert await admit(desk.ctx, old.secret, new_date) == "already_used"


async def test_pay_now_renews_and_sends_the_invoice_at_once(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    ana, old = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    chat = desk.person(ANA)
    await chat.send("/renew")
    await chat.press(NEW_NAME)

    reply = await chat.press("Pay now")

    assert f"Pass {old.code} is renewed as {NEW_NAME}; it is kept for you while you pay." in (
        reply.text
    )
    (invoice,) = reply.of("sendInvoice")
    renewed = next(p for p in await passes_of(desk.ctx, ana) if p.id != old.id)
    assert invoice.params["payload"] == f"booking:{renewed.reference}"
    assert sum(p["amount"] for p in invoice.params["prices"]) == 24000


async def test_the_invitation_carries_a_renew_button_that_opens_the_choice(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    _, old = await holder(desk.ctx, found, ANA)
    await desk.deliver()  # the payment's notice
    await launched(desk.ctx, found)

    _, sent = await desk.deliver()

    (invitation,) = [c for c in sent.of("sendMessage") if c.params["chat_id"] == ANA]
    assert [label for label, _ in invitation.buttons()] == ["Renew my pass"]
    chat = desk.person(ANA)
    reply = await chat.press("Renew my pass", on=invitation)
    assert f"Pass {old.code} · {OLD_NAME}" in reply.text
    assert chat.buttons()[0] == f"{NEW_NAME} · CHF\u00a0240.00"


async def test_the_renew_button_after_the_window_closed_says_so_and_renews_nothing(
    desk: Desk,
) -> None:
    found = await seasons(desk.ctx)
    ana, old = await holder(desk.ctx, found, ANA)
    await desk.deliver()
    await launched(desk.ctx, found)
    _, sent = await desk.deliver()
    (invitation,) = sent.of("sendMessage")
    chat = desk.person(ANA)
    await chat.press("Renew my pass", on=invitation)
    summary = (await chat.press(NEW_NAME)).screen
    assert summary is not None

    desk.ctx.clock.advance(WINDOW + timedelta(minutes=1))  # type: ignore[attr-defined]
    reply = await chat.press("Renew my pass", on=invitation)
    assert "The renewal period has ended." in reply.text
    assert "/passes shows your passes" in reply.text
    assert chat.buttons() == ["« All my renewals"]  # no offer to press any more

    # The summary shown before the close: its Hold button is refused, over the renewal as it is.
    reply = await chat.press("Hold it, pay later", on=summary)
    assert "The renewal period has ended." in reply.text
    assert [p.id for p in await passes_of(desk.ctx, ana)] == [old.id]


async def forged_press(desk: Desk, found: Seasons) -> tuple[Person, PassDetail, int]:
    """Ana holds a pass; Bob, another holder, presses buttons naming Ana's renewal."""
    ana, ana_pass = await holder(desk.ctx, found, ANA)
    await holder(desk.ctx, found, BOB, email="bob@example.org", name="Bob Other", seat=None)
    await launched(desk.ctx, found)
    return desk.person(BOB), ana_pass, await renewal_id(desk.ctx, ana)


async def test_a_forged_button_naming_another_customers_renewal_changes_nothing(
    desk: Desk,
) -> None:
    found = await seasons(desk.ctx)
    bob, ana_pass, anas = await forged_press(desk, found)

    for action in ("open", "offer", "hold", "buy"):
        data = RenewCb(action=action, id=anas, product=found.new_product).pack()
        reply = await bob.press_data(data)
        assert reply.alerts == ["Only the holder of this pass can renew it."]
        assert ana_pass.code not in reply.text and "Ana" not in reply.text

    choice = await renewal_queries.renewal_choice(desk.ctx, renewal_id=anas)
    assert choice is not None and choice.state == "invited" and choice.new_pass_id is None


async def test_companion_without_the_owner_check_a_forged_button_shows_anothers_pass(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Companion: with ``owned`` saying yes to any renewal, Bob reads Ana's pass code, name
    and seat from a forged "open" button. (Renewing it stays refused by the core's own check
    of the holder, renewal_not_holder: that guard's companion is the core's.)"""
    from bot.routers import renew as renew_router

    monkeypatch.setattr(renew_router, "owned", lambda choice, customer: choice is not None)
    found = await seasons(desk.ctx)
    bob, ana_pass, anas = await forged_press(desk, found)

    reply = await bob.press_data(RenewCb(action="open", id=anas).pack())

    assert f"Pass {ana_pass.code} · {OLD_NAME} · Ana" in reply.text


async def test_already_renewed_says_so_with_the_booking_and_the_way_to_pay(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    ana, _ = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    sold = await renewals.renew(
        desk.ctx,
        actor=STAFF,
        renewal_id=await renewal_id(desk.ctx, ana),
        product_id=found.new_product,
    )
    chat = desk.person(ANA)

    reply = await chat.send("/renew")

    assert f"Already renewed: booking {sold.reference}." in reply.text
    assert "Status: held, not paid yet" in reply.text and "Pay by:" in reply.text
    assert chat.buttons() == [
        "Pay CHF\u00a0240.00",
        f"Open booking {sold.reference}",
        "« All my renewals",
    ]
    reply = await chat.press("Pay CHF")
    (invoice,) = reply.of("sendInvoice")
    assert invoice.params["payload"] == f"booking:{sold.reference}"
    reply = await chat.press(f"Open booking {sold.reference}")
    assert f"Booking {sold.reference}" in reply.text and "Pay by:" in reply.text


async def test_a_double_press_on_hold_renews_once_and_shows_the_booking_made(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    ana, old = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    chat = desk.person(ANA)
    await chat.send("/renew")
    summary = (await chat.press(NEW_NAME)).screen
    assert summary is not None
    data = next(d for label, d in summary.buttons() if label.startswith("Hold"))
    message_id = chat.message_id(summary)

    reply = await desk.handle_many(
        chat, [desk.fake.press_button(ANA, message_id, data, enqueue=False) for _ in range(2)]
    )

    assert len(await passes_of(desk.ctx, ana)) == 2  # the old one and one renewal
    renewed = next(p for p in await passes_of(desk.ctx, ana) if p.id != old.id)
    assert f"Already renewed: booking {renewed.reference}." in reply.text


async def test_no_renewal_says_so_and_points_to_passes(desk: Desk) -> None:
    await linked_customer(desk.ctx, ANA)

    reply = await desk.person(ANA).send("/renew")

    assert reply.texts == [
        "You have no pass to renew at the moment. When a renewal opens for your pass, you "
        "will be told here. /passes shows your passes and those on sale."
    ]


async def test_a_chat_not_linked_to_a_customer_is_refused(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    ana, _ = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    stranger = desk.person(NOBODY)

    reply = await stranger.send("/renew")
    assert "this chat is not linked to your customer record" in reply.text

    pressed = RenewCb(action="hold", id=await renewal_id(desk.ctx, ana), product=found.new_product)
    reply = await stranger.press_data(pressed.pack())
    assert reply.alerts and "not linked" in reply.alerts[0]
    assert len(await passes_of(desk.ctx, ana)) == 1


async def test_before_the_window_opens_the_holder_is_told_when_and_cannot_renew(
    desk: Desk,
) -> None:
    found = await seasons(desk.ctx, opens_in=timedelta(days=2))
    ana, old = await holder(desk.ctx, found, ANA)
    await launched(desk.ctx, found)
    chat = desk.person(ANA)

    reply = await chat.send("/renew")

    assert "Renewals open on Wed 25 Nov 2026" in reply.text
    assert chat.buttons() == ["« All my renewals"]
    forged = RenewCb(action="hold", id=await renewal_id(desk.ctx, ana), product=found.new_product)
    reply = await chat.press_data(forged.pack())
    assert "The renewal of this pass is not open yet" in reply.text
    assert [p.id for p in await passes_of(desk.ctx, ana)] == [old.id]


async def test_the_last_free_seats_taken_meanwhile_are_said_over_the_renewal(desk: Desk) -> None:
    """Ana's seat was sold in the new season before the launch, so none is kept for her: she
    is offered the best seat free at every date. While she reads the summary, the others go."""
    found = await seasons(desk.ctx)
    ana, old = await holder(desk.ctx, found, ANA)

    async def sell_new(n: int) -> None:
        other = await make_customer(desk.ctx, email=f"other{n}@example.org", name=f"Other {n}")
        await passes.sell(
            desk.ctx,
            actor=STAFF,
            product_id=found.new_product,
            customer_id=other.id,
            answers={"first_name": "Other"},
        )

    await sell_new(0)  # the best seat: Ana's
    report = await renewals.launch(desk.ctx, actor=ORGANIZER, campaign_id=found.campaign)
    assert (report.invited, report.not_kept) == (1, 1)
    chat = desk.person(ANA)
    await chat.send("/renew")
    reply = await chat.press(NEW_NAME)
    assert "Seat: the best one free at every date" in reply.text
    for n in range(1, STALLS):
        await sell_new(n)

    reply = await chat.press("Hold it, pay later")

    assert "No seat of this area is free at every date of the pass." in reply.text
    assert f"Pass {old.code} · {OLD_NAME}" in reply.text  # the renewal, as it is now
    assert chat.buttons() == [f"{NEW_NAME} · CHF\u00a0240.00", "« All my renewals"]
    assert [p.id for p in await passes_of(desk.ctx, ana)] == [old.id]
