"""Issue 11, points 5, 8 and 22 by email, against real SMTP and IMAP servers: a colleague's
cancellation names them in the owner's notice; the expiry notice says how to book again,
only while the event has a date on sale."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.context import Context
from booking.services import catalog_admin, customers, releases
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, reply_to, text_of
from tests.support.english import english_in, visible_text
from tests.support.mailservers import ReceivedMessage

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
DATA = ("Ana Test", "Bo Keller", "Acme SA", "Test Concert", "Standing", "Salle Test")
SAYS = {
    "en": {
        "cancel": "CANCEL we cannot come after all",
        "cancelled": "Booking {ref} for Test Concert on",
        "by": "Cancelled by Bo Keller (Acme SA).",
        "telegram": "Test Concert still has dates on sale: to book again, send /events to our "
        "Telegram bot.",
        "box_office": "Test Concert still has dates on sale: to book again, contact the box "
        "office.",
    },
    "fr": {
        "cancel": "ANNULER nous ne pouvons finalement pas venir",
        "cancelled": "La réservation {ref} pour Test Concert le",
        "by": "Annulée par Bo Keller (Acme SA).",
        "telegram": "Test Concert a encore des dates en vente : pour réserver à nouveau, "
        "envoyez /events à notre bot Telegram.",
        "box_office": "Test Concert a encore des dates en vente : pour réserver à nouveau, "
        "adressez-vous à la billetterie.",
    },
}


def french_only(mail: ReceivedMessage) -> None:
    html = mail.message.get_body(("html",))
    assert html is not None
    for text in (text_of(mail), visible_text(html.get_content()), str(mail.message["Subject"])):  # type: ignore[attr-defined]
        assert english_in(text, DATA) == [], text


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_colleagues_cancellation_by_email_names_them_to_the_owner(
    ctx: Context, desk: Desk, language: str
) -> None:
    says = SAYS[language]
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    ana = await make_customer(ctx, language=language, organization_id=org, customer_type="b2b")
    await make_customer(ctx, email="bo@acme.example", name="Bo Keller", language=language,
                        organization_id=org, customer_type="b2b")  # fmt: skip
    held = await make_held_booking(ctx, await make_catalog(ctx), ana)
    [held_mail] = await desk.send_out()

    # Ana forwarded her booking email to Bo, who answers it from his own address.
    await desk.receive(reply_to(held_mail, says["cancel"], sender="bo@acme.example",
                                name="Bo Keller"))  # fmt: skip
    mails = await desk.send_out()

    [told] = [m for m in mails if m.rcpt_tos == ["ana@example.org"]]
    assert says["cancelled"].format(ref=held.reference) in text_of(told)
    assert says["by"] in text_of(told)
    assert [m.rcpt_tos for m in mails if m is not told] == [["bo@acme.example"]]  # his answer
    if language == "fr":
        french_only(told)


async def expired_mail(
    ctx: Context, desk: Desk, language: str, *, telegram: bool = False, off_sale: bool = False
) -> ReceivedMessage:
    """The expiry email of Ana's hold. ``telegram``: Ana is a B2B contact whose chat is linked
    (contacts get email too); ``off_sale``: the organizer took the only date off sale."""
    cat = await make_catalog(ctx)
    org = await customers.create_organization(ctx, actor=STAFF, name="Acme SA")
    ana = await make_customer(ctx, language=language, organization_id=org, customer_type="b2b")
    if telegram:
        ana = await customers.link_telegram(
            ctx, actor=STAFF, customer_id=ana.id, telegram_user_id=5001, chat_id=5001
        )
    await make_held_booking(ctx, cat, ana, channel="email")
    await desk.send_out()  # only the email channel delivers here
    if off_sale:
        await catalog_admin.update_performance(
            ctx, actor=STAFF, event_id=cat.event_id, performance_id=cat.performance_id,
            policy=None, on_sale=False,
        )  # fmt: skip
    ctx.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]  # past the deadline
    assert (await releases.release_due(ctx)).expired == 1
    [mail] = await desk.send_out()
    return mail


def flat(mail: ReceivedMessage) -> str:
    return " ".join(text_of(mail).split())


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_expiry_email_sends_a_customer_without_telegram_to_the_box_office(
    ctx: Context, desk: Desk, language: str
) -> None:
    mail = await expired_mail(ctx, desk, language)

    assert SAYS[language]["box_office"] in flat(mail)
    assert "/events" not in flat(mail)
    if language == "fr":
        french_only(mail)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_expiry_email_sends_a_telegram_customer_to_the_bot(
    ctx: Context, desk: Desk, language: str
) -> None:
    mail = await expired_mail(ctx, desk, language, telegram=True)

    assert SAYS[language]["telegram"] in flat(mail)
    assert SAYS[language]["box_office"] not in flat(mail)
    if language == "fr":
        french_only(mail)


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_the_expiry_email_offers_nothing_when_no_date_is_on_sale(
    ctx: Context, desk: Desk, language: str
) -> None:
    mail = await expired_mail(ctx, desk, language, off_sale=True)

    says = SAYS[language]
    assert says["telegram"] not in flat(mail) and says["box_office"] not in flat(mail)
    assert "dates" not in flat(mail)
