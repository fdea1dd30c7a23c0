"""A staff member working in French reads no English: every console page of a realistic
catalogue (seats, paid tickets, a cancellation, holds the release job expired or made
overdue, a request for more time, notices in the outbox) and the pay page are scanned for
English-only words (tests/support/english.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
from babel.messages.pofile import read_po

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import cancellations, checkouts, extensions, holds, payments, releases
from booking.views import BookingView, CustomerView
from console.payments.test_provider import TestProvider
from console.web import pay
from console.web.app import build_app
from tests.builders import STAFF, Catalog, as_customer, make_catalog, make_customer
from tests.console.conftest import ConsoleFactory, email_of
from tests.support.english import STOP_WORDS, english_in, visible_text

LOCALES = Path(__file__).resolve().parents[2] / "booking" / "locales" / "fr" / "LC_MESSAGES"
PUBLIC_URL = "https://tickets.venue.example"
# What the builders and this test put in the database: data, not the console's words.
DATA = (
    "Test Concert", "Salle Test", "Salle Lune", "Salle Soleil", "Standing", "Seated", "Floor",
    "Stalls", "Test Organizer", "Organizer Test", "Admin Test", "Jeanne Dupont",
    "Marc Lefèvre", "Léa Martin", "Paul Girard", "jeanne@exemple.fr", "marc@exemple.fr",
    "lea@exemple.fr", "paul@exemple.fr", email_of("organizer"), email_of("admin"),
)  # fmt: skip


async def _hold(ctx: Context, cat: Catalog, who: CustomerView, line: holds.Line) -> BookingView:
    return await holds.hold(
        ctx,
        actor=as_customer(who, "email"),
        customer_id=who.id,
        performance_id=cat.performance_id,
        lines=[line],
    )


async def french_season(ctx: Context, clock: FrozenClock) -> dict[str, BookingView]:
    """One booking in each state the console shows, with seats, tickets and system actors."""
    customers = [
        await make_customer(ctx, name=name, email=email, language="fr")
        for name, email in (
            ("Jeanne Dupont", "jeanne@exemple.fr"),
            ("Marc Lefèvre", "marc@exemple.fr"),
            ("Léa Martin", "lea@exemple.fr"),
            ("Paul Girard", "paul@exemple.fr"),
        )
    ]
    jeanne, marc, lea, paul = customers
    late = await make_catalog(ctx, policy="flexible", days_after_booking=1, name="Salle Lune")
    firm = await make_catalog(ctx, days_after_booking=1, name="Salle Soleil")
    overdue = await _hold(ctx, late, paul, holds.Line(late.seat_tariff, quantity=1))
    expired = await _hold(ctx, firm, lea, holds.Line(firm.ga_tariff, quantity=1))
    clock.advance(timedelta(days=2))
    await releases.release_due(ctx)  # the release job: one expired, one overdue
    cat = await make_catalog(ctx)
    held = await _hold(ctx, cat, jeanne, holds.Line(cat.seat_tariff, quantity=2))
    await extensions.request_extension(
        ctx,
        actor=as_customer(jeanne, "email"),
        reference=held.reference,
        until=(clock.now() + timedelta(days=10)).date(),
        reason="Mon salaire arrive le 5.",
    )
    paid = await _hold(ctx, cat, marc, holds.Line(cat.seat_tariff, quantity=3))
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=paid.reference, method="cash"
    )
    cancelled = await _hold(ctx, cat, lea, holds.Line(cat.ga_tariff, quantity=1))
    await cancellations.cancel(
        ctx, actor=STAFF, reference=cancelled.reference, reason="other", note="Grippe."
    )
    return {
        "held": held,
        "paid": paid,
        "cancelled": cancelled,
        "expired": expired,
        "overdue": overdue,
    }


def report(english: dict[str, list[str]]) -> str:
    return "English in French:\n" + "\n".join(
        f"  {where}: {' | '.join(dict.fromkeys(found))}" for where, found in english.items()
    )


def test_the_stop_list_is_not_french() -> None:
    """No French translation uses a stop word, so a hit is English, never a false alarm."""
    placeholder = re.compile(r"\{\w+\}|%\(\w+\)s|/\w+")
    for path in LOCALES.glob("*.po"):
        with path.open("rb") as po:
            for message in read_po(po, locale="fr"):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for text in strings:
                    assert not english_in(placeholder.sub(" ", text or "")), (path.name, text)
    assert {"the", "seat", "row", "ticket", "held", "paid", "release", "job"} <= set(STOP_WORDS)


def test_the_scanner_finds_english_and_spares_data() -> None:
    html = (
        '<td data-label="Statut">Jeanne Dupont</td><p title="row A">2 place(s)</p>'
        "<script>var the = 1;</script><style>.the {}</style>"
    )
    found = english_in(visible_text(html), ["Jeanne Dupont"])
    assert len(found) == 2 and "row A" in found[0] and "place(s)" in found[1]
    assert english_in("Stalls · row A · seat 5 — release job") != []
    assert english_in("Stalls · rang A · place 5 — libération automatique", ["Stalls"]) == []
    assert english_in("/tickets https://t.me/the_bot paul.the@exemple.fr") == []


async def test_french_console_pages_show_no_english(
    app_ctx: Context, clock: FrozenClock, console_for: ConsoleFactory
) -> None:
    made = await french_season(app_ctx, clock)
    console = await console_for("admin")
    await console.post("/console/language", {"language": "fr"})
    pages = [
        "/console/",
        "/console/bookings",
        "/console/bookings?status=cancelled",
        *(f"/console/bookings/{b.reference}" for b in made.values()),
        "/console/releases",
        "/console/extensions",
        "/console/outbox",
        "/console/events",
        "/console/customers",
        "/console/reports",
    ]
    events = await console.get("/console/events")
    pages += sorted(set(re.findall(r'href="(/console/events/\d+)"', events.text)))
    customers = await console.get("/console/customers")
    pages += sorted(set(re.findall(r'href="(/console/customers/\d+)"', customers.text)))[:4]
    english: dict[str, list[str]] = {}
    for path in pages:
        page = await console.get(path)
        assert page.status_code == 200, path
        if found := english_in(visible_text(page.text), DATA):
            english[path] = found
    assert not english, report(english)


async def test_the_french_pay_page_shows_no_english(app_ctx: Context, clock: FrozenClock) -> None:
    made = await french_season(app_ctx, clock)
    app = build_app(app_ctx, {}, extra_routes=pay.routes(app_ctx, TestProvider(PUBLIC_URL)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL
    ) as web:
        english = {}
        for state in ("held", "paid", "overdue"):
            token = await checkouts.pay_link_token(app_ctx, booking=made[state])
            page = await web.get(f"/pay/{token}")
            assert made[state].reference in page.text
            if found := english_in(visible_text(page.text), DATA):
                english[state] = found
    assert not english, report(english)
