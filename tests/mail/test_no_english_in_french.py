"""A French customer's emails hold no English: every kind, subject, text and HTML, about a
booking with numbered seats (held, then paid with its tickets), scanned for English-only
words (tests/support/english.py)."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from booking.context import Context
from booking.notices import SUBJECTS
from booking.services import customers, holds, payments
from booking.views import BookingView, OutboxView
from mail.channel import EmailChannel
from mail.render import ANSWER_KINDS
from tests.builders import STAFF, as_customer, make_catalog, make_customer, make_held_booking
from tests.support.english import english_in, visible_text

pytestmark = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
DATA = ("Test Concert", "Standing", "Seated", "Stalls", "Jeanne Dupont", "Jeanne",
        "jeanne@exemple.fr", "Salle Test", "GuichetTestBot")  # fmt: skip
UNTIL = "2026-12-20T22:59:59+00:00"
PAYLOADS: dict[str, dict[str, object]] = {
    "link_code": {"code": "123456"},
    "email_changed": {"new_address": "j***@exemple.fr"},
    "mail_refusal": {
        "code": "not_held",
        "params": {"reference": "ABC-DEF", "status": "cancelled"},
    },
    "mail_too_large": {"limit": "5 MB"},
    "mail_not_owner": {"sender": "x@exemple.fr"},
    "mail_which_command": {"options": ["cancel", "extend"]},
    "mail_forged": {"sender": "x@exemple.fr"},
    "mail_done": {"action": "extension_approved", "until": UNTIL},
    "mail_extension_requested": {"until": UNTIL},
    "extension_approved": {"until": UNTIL},
    "deadline_extended": {"until": UNTIL},
    "extension_denied": {"message": "Désolés."},
}


def parts(raw: bytes) -> list[str]:
    email = message_from_bytes(raw, policy=policy.default)
    assert isinstance(email, EmailMessage)
    plain, html = email.get_body(("plain",)), email.get_body(("html",))
    assert plain is not None and html is not None
    return [str(email["Subject"]), plain.get_content(), visible_text(html.get_content())]


async def _seated(ctx: Context, quantity: int) -> tuple[BookingView, int]:
    cat = await make_catalog(ctx)
    jeanne = await make_customer(ctx, name="Jeanne Dupont", email="jeanne@exemple.fr",
                                 language="fr")  # fmt: skip
    booking = await holds.hold(
        ctx,
        actor=as_customer(jeanne, "email"),
        customer_id=jeanne.id,
        performance_id=cat.performance_id,
        lines=[holds.Line(cat.seat_tariff, quantity=quantity), holds.Line(cat.ga_tariff, 1)],
    )
    return booking, jeanne.id


async def test_every_french_email_is_free_of_english(ctx: Context, channel: EmailChannel) -> None:
    held, customer_id = await _seated(ctx, 2)
    customer = await customers.get_customer(ctx, customer_id=customer_id)
    english: dict[str, list[str]] = {}
    for n, kind in enumerate([*SUBJECTS, *ANSWER_KINDS, "unknown_kind"]):
        view = OutboxView(n, kind, "email", "fr", 0, PAYLOADS.get(kind, {}), customer, held)
        raw, _ = await channel.compose(await channel.gather(view))
        for text in parts(raw):
            english.setdefault(kind, []).extend(english_in(text, DATA))
    paid = await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=held.reference, method="cash"
    )
    view = OutboxView(99, "payment_confirmed", "email", "fr", 0, {}, customer, paid.booking)
    content = await channel.gather(view)
    assert len(content.tickets) == 3  # the QR tickets, with their seats, are in the scan
    for text in parts((await channel.compose(content))[0]):
        english.setdefault("payment_confirmed (tickets)", []).extend(english_in(text, DATA))
    english = {k: list(dict.fromkeys(v)) for k, v in english.items() if v}
    assert not english, "\n".join(f"{k}: {' | '.join(v)}" for k, v in english.items())


async def test_a_french_email_counts_places_in_french_plurals(
    ctx: Context, channel: EmailChannel
) -> None:
    """ "1 place", "3 places": ngettext, not "place(s)"."""
    cat = await make_catalog(ctx)
    jeanne = await make_customer(ctx, email="jeanne@exemple.fr", language="fr")
    one = await make_held_booking(ctx, cat, jeanne, quantity=1, channel="email")
    await make_held_booking(ctx, cat, jeanne, quantity=3, channel="email")
    customer = await customers.get_customer(ctx, customer_id=jeanne.id)
    view = OutboxView(1, "mail_status", "email", "fr", 0, {}, customer, one)
    for text in parts((await channel.compose(await channel.gather(view)))[0])[1:]:
        assert re.search(r"\b1 place\b", text) and "3 places" in text, text
        assert "(s)" not in text, text
