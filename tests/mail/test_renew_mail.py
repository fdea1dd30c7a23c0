"""RENEW / RENOUVELER by email, end to end against real SMTP and IMAP servers (SQLite and
PostgreSQL): the invitation carries the signed renewal link and says a reply RENEW renews; a
reply with the invitation's token renews into the one pass on offer (a hold, seat and code
kept) and answers with the new booking and its pay link; every refusal answered plainly; mail
without a token changes nothing. ``renewing`` (the builder) is shared with the page's tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking import renew_links
from booking.context import Context
from booking.queries import renewals as renewal_queries
from booking.services import bookings, pass_products, passes, payments, renewals
from booking.services.renewals import CampaignSettings
from booking.settings_store import secret_key
from booking.tables.bookings import Booking
from booking.tables.customers import Organization
from booking.tables.passes import Pass
from booking.tables.renewals import Renewal
from booking.tables.staff import StaffUser
from booking.views import BookingView, CustomerView
from mail.tokens import read_reply_token
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import seat_id
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import PUBLIC_URL, Desk, reply_address, reply_to, text_of
from tests.support.english import english_in

CHANNELS = ("telegram", "email", "console")
RENEW_LINK = re.compile(rf"{re.escape(PUBLIC_URL)}(/renew/[A-Za-z0-9_-]+)")


@dataclass(frozen=True, slots=True)
class Renewing:
    """A holder of last season's paid pass (seat A3), invited to renew."""

    ids: dict[str, int]
    holder: CustomerView
    old_pass_id: int
    old_booking: BookingView
    offers: tuple[int, ...]  # the new season's products, the fixed-seat one first
    campaign_id: int
    renewal_id: int
    closes_at: datetime | None


async def renewing(
    ctx: Context,
    *,
    language: str = "en",
    ga_offer: bool = False,
    closes_in: timedelta | None = timedelta(days=20),
    email: str = "ana@example.org",
    name: str = "Ana Test",
    launch: bool = True,
    organization_id: int | None = None,
) -> Renewing:
    """Last season: "Abonnement" at Stalls (opera and jazz); the new season: "Abonnement"
    at Stalls (the next year's event), and with ``ga_offer`` "Abonnement libre" on the Floor.
    The holder bought and paid the old pass at seat A3; the campaign is launched."""
    ids = await season_with_events(ctx)
    old_product = await pass_products.create_product(
        ctx, actor=STAFF, settings=product(ids, buy_channels=CHANNELS)
    )
    offers = [await next_season(ctx, ids, price_minor=26000)]
    if ga_offer:
        ga = {"seating": "ga", "area_id": ids["Floor"], "price_minor": 18000}
        offers.append(await next_season(ctx, ids, name="Abonnement libre", **ga))
    holder = await make_customer(
        ctx, language=language, email=email, name=name, organization_id=organization_id
    )
    a3 = await seat_id(ctx, ids["Stalls"], "A", 3)
    sold = await passes.sell(
        ctx, actor=STAFF, product_id=old_product, customer_id=holder.id,
        answers={"first_name": name.split()[0]}, seat_id=a3,
    )  # fmt: skip
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    closes_at = ctx.clock.now() + closes_in if closes_in is not None else None
    await organizer_on_file(ctx)
    campaign_id = await renewals.create_campaign(
        ctx,
        actor=STAFF,
        settings=CampaignSettings(
            from_product_id=old_product, name="Saison 2027", offer_product_ids=tuple(offers),
            closes_at=closes_at,
        ),
    )  # fmt: skip
    if launch:
        await renewals.launch(ctx, actor=STAFF, campaign_id=campaign_id)
    old_booking = await bookings.get_booking(ctx, actor=STAFF, reference=sold.reference)
    renewal_id = await renewal_of(ctx, sold.id) if launch else 0
    return Renewing(
        ids, holder, sold.id, old_booking, tuple(offers), campaign_id, renewal_id, closes_at
    )


async def next_season(ctx: Context, ids: dict[str, int], **changes: Any) -> int:
    """A product of the new season (its one event, "Next_Year"), at the same venue."""
    settings = product(
        ids, season_id=ids["other_season"], event_ids=(ids["next_year"],), buy_channels=CHANNELS,
        **changes,
    )  # fmt: skip
    return await pass_products.create_product(ctx, actor=STAFF, settings=settings)


async def organizer_on_file(ctx: Context) -> None:
    """STAFF (id 1) as a row: a campaign records who created it (a foreign key)."""

    async def work(session: AsyncSession) -> None:
        if await session.get(StaffUser, STAFF.id) is None:
            session.add(
                StaffUser(
                    id=STAFF.id, email="boss@venue.example", password_hash="-",
                    created_at=ctx.clock.now(),
                )
            )  # fmt: skip

    await ctx.db.write(work)


async def renewal_of(ctx: Context, pass_id: int) -> int:
    async def work(session: AsyncSession) -> int:
        found = await session.execute(select(Renewal.id).where(Renewal.pass_id == pass_id))
        return int(found.scalar_one())

    return await ctx.db.read(work)


async def pass_count(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(Pass))).scalar_one())

    return await ctx.db.read(work)


async def new_pass(ctx: Context, old_pass_id: int) -> Pass | None:
    async def work(session: AsyncSession) -> Pass | None:
        found = await session.execute(select(Pass).where(Pass.renewed_from_id == old_pass_id))
        return found.scalar_one_or_none()

    return await ctx.db.read(work)


async def invitation(desk: Desk) -> Any:
    """Everything the outbox holds is sent; the invitation among it."""
    sent = await desk.send_out()
    found = [m for m in sent if RENEW_LINK.search(text_of(m))]
    assert found, [m.message["Subject"] for m in sent]
    return found[-1]


def forged_reply(body: str, *, sender: str = "ana@example.org") -> bytes:
    """A message to the bare desk address: no reply token at all."""
    mail = EmailMessage()
    mail["From"] = f"Ana Test <{sender}>"
    mail["To"] = "desk@venue.example"
    mail["Subject"] = "renew"
    mail["Message-ID"] = make_msgid(domain="mail.example.org")
    mail.set_content(body)
    return mail.as_bytes()


# -- the invitation ---------------------------------------------------------------------------


async def test_the_invitation_carries_the_signed_link_and_says_reply_renew(
    ctx: Context, desk: Desk
) -> None:
    r = await renewing(ctx)
    mail = await invitation(desk)
    text = text_of(mail)
    assert mail.rcpt_tos == ["ana@example.org"]
    assert "RENEW" in text
    assert "Abonnement, CHF\xa0260.00: your seat kept, Stalls · row A · seat 3" in text
    found = RENEW_LINK.search(text)
    assert found is not None
    token = found.group(1).rsplit("/", 1)[1]
    assert await renew_links.read_renew_token(ctx, token) == r.renewal_id
    html = mail.message.get_body(("html",))
    assert html is not None and found.group(0) in html.get_content()  # type: ignore[attr-defined]
    # The reply token is the usual one, bound to the old pass's booking and its holder.
    plus = reply_address(mail).split("@")[0].split("+", 1)[1]
    claims = read_reply_token((await secret_key(ctx)).encode(), plus)
    assert claims is not None
    assert (claims.booking_ref, claims.customer_id) == (r.old_booking.reference, r.holder.id)


async def test_the_link_expires_when_the_window_closes(ctx: Context, desk: Desk) -> None:
    r = await renewing(ctx)
    token = RENEW_LINK.search(text_of(await invitation(desk))).group(1).rsplit("/", 1)[1]  # type: ignore[union-attr]
    assert r.closes_at is not None
    ctx.clock.set(r.closes_at - timedelta(seconds=1))  # type: ignore[attr-defined]
    assert await renew_links.read_renew_token(ctx, token) == r.renewal_id
    ctx.clock.set(r.closes_at)  # type: ignore[attr-defined]
    assert await renew_links.read_renew_token(ctx, token) is None


# -- RENEW with and without a token -----------------------------------------------------------


async def test_renew_with_a_valid_token_renews_keeping_seat_and_code(
    ctx: Context, desk: Desk
) -> None:
    r = await renewing(ctx)
    mail = await invitation(desk)

    report = await desk.receive(reply_to(mail, "RENEW"))

    assert dict(report.outcomes) == {"acted": 1} and report.flagged == 1
    renewed = await new_pass(ctx, r.old_pass_id)
    assert renewed is not None
    old = await passes_row(ctx, r.old_pass_id)
    assert (renewed.code, renewed.secret, renewed.seat_id) == (old.code, old.secret, old.seat_id)
    booking = await booking_of(ctx, renewed.booking_id)
    assert booking.status == "held" and booking.deadline is not None  # a hold with a deadline
    answers = [m for m in await desk.send_out() if m.message["Subject"].startswith("Re: ")]
    [answer] = answers
    text = text_of(answer)
    assert booking.reference in text and old.code in text
    assert f"{PUBLIC_URL}/pay/" in text  # the pay link, as PAY answers
    assert "Pay before" in text


async def test_renew_without_a_token_changes_nothing(ctx: Context, desk: Desk) -> None:
    r = await renewing(ctx)
    await desk.send_out()

    report = await desk.receive(forged_reply("RENEW"))

    assert "acted" not in dict(report.outcomes)
    assert await new_pass(ctx, r.old_pass_id) is None
    assert (await renewal_queries.renewal_choice(ctx, renewal_id=r.renewal_id)).state == "invited"  # type: ignore[union-attr]
    [answer] = await desk.send_out()
    assert "could not tell which booking" in text_of(answer)


async def test_renew_twice_answers_already_renewed_with_its_reference(
    ctx: Context, desk: Desk
) -> None:
    r = await renewing(ctx)
    mail = await invitation(desk)
    await desk.receive(reply_to(mail, "RENEW"))
    await desk.send_out()
    renewed = await new_pass(ctx, r.old_pass_id)
    assert renewed is not None
    reference = (await booking_of(ctx, renewed.booking_id)).reference

    report = await desk.receive(reply_to(mail, "renew"))

    assert dict(report.outcomes) == {"answered": 1}
    assert await pass_count(ctx) == 2  # the old pass and one renewal
    [answer] = await desk.send_out()
    assert "renewed already" in text_of(answer) and reference in text_of(answer)
    assert "Nothing was changed." in text_of(answer)


async def test_renew_after_the_window_is_refused_as_closed(ctx: Context, desk: Desk) -> None:
    r = await renewing(ctx)
    mail = await invitation(desk)
    assert r.closes_at is not None
    ctx.clock.set(r.closes_at + timedelta(minutes=1))  # type: ignore[attr-defined]

    report = await desk.receive(reply_to(mail, "RENEW"))

    assert dict(report.outcomes) == {"answered": 1}
    assert await new_pass(ctx, r.old_pass_id) is None
    [answer] = await desk.send_out()
    assert "renewal window of this pass is closed" in text_of(answer)


async def test_renew_on_a_booking_that_is_not_a_pass_says_so(ctx: Context, desk: Desk) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    await make_held_booking(ctx, cat, ana)
    [held_mail] = await desk.send_out()

    report = await desk.receive(reply_to(held_mail, "RENEW"))

    assert dict(report.outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    assert "not a season pass" in text_of(answer)
    assert await pass_count(ctx) == 0


async def test_renew_on_a_pass_never_invited_is_no_renewal(ctx: Context, desk: Desk) -> None:
    r = await renewing(ctx, launch=False)
    sent = await desk.send_out()
    paid = [m for m in sent if "is paid" in m.message["Subject"]][-1]

    report = await desk.receive(reply_to(paid, "RENEW"))

    assert dict(report.outcomes) == {"answered": 1}
    [answer] = await desk.send_out()
    assert "renewal invitation does not exist" in text_of(answer)
    assert await new_pass(ctx, r.old_pass_id) is None


async def test_renew_from_a_colleague_who_is_not_the_holder_is_refused(
    ctx: Context, desk: Desk
) -> None:
    """Bob may act on his organization's bookings by email (a colleague's reply), but only the
    holder renews a pass."""
    org = await _organization(ctx)
    r = await renewing(ctx, organization_id=org)
    await make_customer(ctx, email="bob@example.org", name="Bob Test", organization_id=org)
    mail = await invitation(desk)

    report = await desk.receive(reply_to(mail, "RENEW", sender="bob@example.org", name="Bob"))

    assert dict(report.outcomes) == {"answered": 1}
    assert await new_pass(ctx, r.old_pass_id) is None
    [answer] = await desk.send_out()
    assert answer.rcpt_tos == ["bob@example.org"]
    assert "Only the holder of this pass can renew it." in text_of(answer)


async def test_renew_with_several_offers_answers_with_them_and_the_link(
    ctx: Context, desk: Desk
) -> None:
    r = await renewing(ctx, ga_offer=True)
    mail = await invitation(desk)

    report = await desk.receive(reply_to(mail, "RENEW"))

    assert dict(report.outcomes) == {"answered": 1}
    assert await new_pass(ctx, r.old_pass_id) is None  # the page lets them choose
    [answer] = await desk.send_out()
    text = text_of(answer)
    assert "Abonnement libre" in text and "general admission" in text
    assert "your seat kept" in text
    assert RENEW_LINK.search(text)


async def test_renouveler_in_french_renews_and_answers_in_french(ctx: Context, desk: Desk) -> None:
    r = await renewing(ctx, language="fr", name="Zoé Test")
    mail = await invitation(desk)
    invited = text_of(mail)
    assert "RENOUVELER" in invited

    report = await desk.receive(reply_to(mail, "Bonjour,\n\nRENOUVELER\n\nMerci", name="Zoé"))

    assert dict(report.outcomes) == {"acted": 1}
    renewed = await new_pass(ctx, r.old_pass_id)
    assert renewed is not None
    [answer] = [m for m in await desk.send_out() if m.message["Subject"].startswith("Re: ")]
    text = text_of(answer)
    assert "renouvelé" in text
    data = ["Zoé", "Test", "Abonnement", "Saison", "Stalls", "Opera", "Jazz", "Next_Year",
            "Next Year"]  # fmt: skip
    assert not english_in(text, data), english_in(text, data)
    assert not english_in(invited, data), english_in(invited, data)


# -- helpers on rows the tests read -----------------------------------------------------------


async def passes_row(ctx: Context, pass_id: int) -> Pass:
    async def work(session: AsyncSession) -> Pass:
        found = await session.get(Pass, pass_id)
        assert found is not None
        return found

    return await ctx.db.read(work)


async def booking_of(ctx: Context, booking_id: int) -> BookingView:
    async def work(session: AsyncSession) -> str:
        found = await session.get(Booking, booking_id)
        assert found is not None
        return found.reference

    return await bookings.get_booking(ctx, actor=STAFF, reference=await ctx.db.read(work))


async def _organization(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        org = Organization(name="Club des amis")
        session.add(org)
        await session.flush()
        assert org.id is not None
        return org.id

    return await ctx.db.write(work)
