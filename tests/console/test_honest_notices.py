"""Notices that say what really happened (issue 10, point 5): with email not configured the
outbox and the dashboard say how many messages wait instead of "every message went out", and
every flash after approve, deny, cancel or extend says which channel the notice was queued or
sent on, or that the customer cannot be reached, in English and French."""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update

from booking.context import Context
from booking.services import customers, extensions
from booking.tables.customers import Customer
from booking.views import BookingView, CustomerView, OutboxView
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking
from tests.console.conftest import Console, ConsoleFactory

ZURICH = ZoneInfo("Europe/Zurich")
EVERY_MESSAGE_WENT_OUT = "Nothing here: every message went out."


class Recording:
    """An email channel at our boundary that keeps what it is given (email configured)."""

    def __init__(self) -> None:
        self.messages: list[OutboxView] = []

    async def deliver(self, message: OutboxView) -> None:
        self.messages.append(message)


def text_of(response: httpx.Response) -> str:
    """The page as a person reads it: entities decoded, runs of white space as one space."""
    return " ".join(html.unescape(response.text).split())


async def in_french(console: Console) -> None:
    await console.post("/console/language", {"language": "fr"})


async def unreachable(ctx: Context, customer: CustomerView) -> None:
    """The customer's only address bounced for good: no channel is left to tell them."""

    async def work(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(Customer).where(Customer.id == customer.id).values(email_undeliverable=True)  # type: ignore[arg-type]
        )

    await ctx.db.write(work)


async def email_holds(ctx: Context, n: int) -> list[BookingView]:
    cat = await make_catalog(ctx)
    made = []
    for i in range(n):
        customer = await make_customer(ctx, email=f"waits{i}@example.org", name=f"Waits {i}")
        made.append(await make_held_booking(ctx, cat, customer, channel="email"))
    return made


# --- the outbox and the dashboard say a channel is off ------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_the_outbox_says_email_is_off_and_how_many_wait(
    app_ctx: Context, console_for: ConsoleFactory, lang: str
) -> None:
    await email_holds(app_ctx, 3)  # three "booking held" emails, and no email channel
    console = await console_for("organizer")
    if lang == "fr":
        await in_french(console)
    page = text_of(await console.get("/console/outbox"))
    board = text_of(await console.get("/console/"))
    if lang == "en":
        expected = "Email is not configured: 3 messages waiting."
        assert EVERY_MESSAGE_WENT_OUT not in page
        assert "3 messages are waiting to be sent." in page
    else:
        expected = "L'e-mail n'est pas configuré : 3 messages en attente."
        assert "Rien ici : tous les messages sont partis." not in page
    assert expected in page, page
    assert expected in board, board


async def test_the_outbox_says_telegram_is_off_when_notices_wait_for_a_chat(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx)
    await customers.link_telegram(
        app_ctx, actor=STAFF, customer_id=ana.id, telegram_user_id=1001, chat_id=1001
    )
    # Asked by email, linked: the notice goes to Telegram only.
    await make_held_booking(app_ctx, cat, ana, channel="email")
    console = await console_for("organizer")
    page = text_of(await console.get("/console/outbox"))
    assert "Telegram is not configured (GUICHET_BOT_TOKEN is not set): 1 notice waiting." in page
    assert "Email is not configured" not in page  # nothing waits for email
    assert "Telegram is not configured" in text_of(await console.get("/console/"))


async def test_with_email_on_the_waiting_mail_is_not_called_off(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    await email_holds(app_ctx, 2)
    app_ctx.channels["email"] = Recording()
    console = await console_for("organizer")
    page = text_of(await console.get("/console/outbox"))
    assert "Email is not configured" not in page
    assert "2 messages are waiting to be sent." in page and EVERY_MESSAGE_WENT_OUT not in page


async def test_the_empty_text_shows_only_when_nothing_waits(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    console = await console_for("organizer")
    page = text_of(await console.get("/console/outbox"))
    assert EVERY_MESSAGE_WENT_OUT in page and "not configured" not in page
    assert "not configured" not in text_of(await console.get("/console/"))


# --- flashes say what the outbox queued ---------------------------------------------------


def version_of(page: str, form: str) -> str:
    part = page.split(f'/{form}"', 1)[1]
    return re.search(r'name="version" value="([^"]+)"', part).group(1)  # type: ignore[union-attr]


async def flash_after(console: Console, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return text_of(await console.get(response.headers["location"]))


async def one_hold(ctx: Context, *, reachable: bool) -> tuple[CustomerView, BookingView]:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    booking = await make_held_booking(ctx, cat, ana, channel="email")
    if not reachable:
        await unreachable(ctx, ana)
    return ana, booking


async def cancel(console: Console, booking: BookingView) -> str:
    page = (await console.get(f"/console/bookings/{booking.reference}")).text
    response = await console.post(
        f"/console/bookings/{booking.reference}/cancel",
        {"reason": "mistake", "note": "", "version": version_of(page, "cancel")},
    )
    return await flash_after(console, response)


async def extend(console: Console, booking: BookingView) -> str:
    page = (await console.get(f"/console/bookings/{booking.reference}")).text
    response = await console.post(
        f"/console/bookings/{booking.reference}/extend",
        {"mode": "days", "days": "3", "version": version_of(page, "extend")},
    )
    return await flash_after(console, response)


async def approve(ctx: Context, console: Console, ana: CustomerView, booking: BookingView) -> str:
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana, "email"), reference=booking.reference, reason="salary"
    )
    await console.get("/console/extensions")
    until = request.proposed_until.astimezone(ZURICH).date().isoformat()
    response = await console.post(f"/console/extensions/{request.id}/approve", {"until": until})
    return await flash_after(console, response)


async def deny(ctx: Context, console: Console, ana: CustomerView, booking: BookingView) -> str:
    request = await extensions.request_extension(
        ctx, actor=as_customer(ana, "email"), reference=booking.reference, reason="salary"
    )
    await console.get("/console/extensions")
    response = await console.post(f"/console/extensions/{request.id}/deny", {"message": "No."})
    return await flash_after(console, response)


ACTIONS = {"cancel": cancel, "extend": extend}
DECISIONS = {"approve": approve, "deny": deny}
QUEUED = {
    "en": "Notice to the customer: queued for email (email is not configured).",
    "fr": "Avis au client : en attente pour l'e-mail (l'e-mail n'est pas configuré).",
}
NOBODY = {
    "en": "The customer has no email or Telegram: tell them yourself.",
    "fr": "Le client n'a ni e-mail ni Telegram : prévenez-le vous-même.",
}
LIES = ("the customer is told", "le client est prévenu")


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("reachable", [True, False])
@pytest.mark.parametrize("name", [*ACTIONS, *DECISIONS])
async def test_each_flash_says_what_the_outbox_queued(
    app_ctx: Context, console_for: ConsoleFactory, name: str, reachable: bool, lang: str
) -> None:
    ana, booking = await one_hold(app_ctx, reachable=reachable)
    console = await console_for("organizer")
    if lang == "fr":
        await in_french(console)
    if name in ACTIONS:
        text = await ACTIONS[name](console, booking)
    else:
        text = await DECISIONS[name](app_ctx, console, ana, booking)
    expected = QUEUED[lang] if reachable else NOBODY[lang]
    assert expected in text, text
    assert not any(lie in text for lie in LIES), text


async def test_a_flash_says_sent_when_telegram_delivered_it_already(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """The words follow the row's real status: "sent in Telegram" once it went out."""
    from booking import outbox
    from booking.services import outbox_admin

    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx)
    await customers.link_telegram(
        app_ctx, actor=STAFF, customer_id=ana.id, telegram_user_id=1001, chat_id=1001
    )
    booking = await make_held_booking(app_ctx, cat, ana, channel="email")
    request = await extensions.request_extension(
        app_ctx, actor=as_customer(ana, "email"), reference=booking.reference
    )
    mark = await outbox_admin.last_notice(app_ctx)
    app_ctx.channels["telegram"] = Recording()
    await extensions.deny_extension(app_ctx, actor=STAFF, request_id=request.id, message="")
    queued = await outbox_admin.notices_since(app_ctx, reference=booking.reference, after=mark)
    assert queued.channels == (("telegram", "pending"),) and queued.reachable
    await outbox.deliver_due(app_ctx)
    sent = await outbox_admin.notices_since(app_ctx, reference=booking.reference, after=mark)
    assert sent.channels == (("telegram", "sent"),)
    from console.web.render import translator
    from console.web.told import sentence

    assert sentence(sent, translator("en"), configured={"telegram"}) == (
        "Notice to the customer: sent in Telegram."
    )
    assert sentence(queued, translator("fr"), configured={"telegram"}) == (
        "Avis au client : en attente pour Telegram."
    )


async def test_a_double_clicked_resend_says_the_second_click_queued_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _ana, booking = await one_hold(app_ctx, reachable=True)
    console = await console_for("box_office")
    page = (await console.get(f"/console/bookings/{booking.reference}")).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"what": "booking", "nonce": nonce, "version": version_of(page, "resend")}
    path = f"/console/bookings/{booking.reference}/resend"
    first = await flash_after(console, await console.post(path, form))
    assert f"Resend asked. {QUEUED['en']}" in first, first
    second = await flash_after(console, await console.post(path, form))
    assert "No new notice for the customer: the same one is already queued." in second, second
