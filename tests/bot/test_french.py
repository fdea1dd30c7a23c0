"""A whole flow in French: the language of the Telegram app, then remembered on the customer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.context import Context
from booking.services import customers, reminders
from tests.bot import db
from tests.bot.conftest import Desk, Recorder
from tests.builders import make_catalog


@pytest.fixture
def sqlite_ctx(sqlite_ctx: Context) -> Context:
    """Email is configured here, so codes can be mailed (tests/bot/test_email_off.py: not)."""
    sqlite_ctx.channels["email"] = Recorder()
    return sqlite_ctx


ZOE = 2001


async def test_a_french_customer_books_is_reminded_and_cancels_in_french(
    sqlite_desk: Desk,
) -> None:
    desk = sqlite_desk
    await make_catalog(desk.ctx)
    zoe = desk.person(ZOE, language="fr-CH", first_name="Zoé")

    reply = await zoe.send("/events")
    assert reply.texts == ["Test Concert\nSalle Test\nChoisissez une date :"]  # with the venue
    assert zoe.buttons() == ["mer. 23 déc., 10:00"]
    reply = await zoe.press("mer. 23 déc.")
    assert "Standing · Floor · 45,00\u00a0CHF — réservable jusqu'au lun. 30 nov., 23:59" in (
        reply.text
    )
    assert reply.text.endswith("Choisissez vos billets :")
    reply = await zoe.press("Standing")
    assert "Combien de places ?" in reply.text
    reply = await zoe.press("2")
    assert "Total : 90,00\u00a0CHF" in reply.text
    assert "Vous pouvez réserver ces places jusqu'au lun. 30 nov. 2026, 23:59" in reply.text
    assert zoe.buttons()[:2] == [
        "Réserver jusqu'au lun. 30 nov., 23:59",
        "Payer maintenant 90,00\u00a0CHF",
    ]
    reply = await zoe.press("Réserver")
    assert reply.texts == ["Pour mettre la réservation à votre nom : quel nom dois-je utiliser ?"]
    reply = await zoe.press("Utiliser « Zoé »")
    assert "Merci, Zoé. Et votre adresse e-mail ?" in reply.text
    reply = await zoe.send("adresse")
    assert reply.texts == ["Merci d'indiquer une adresse e-mail valide."]
    reply = await zoe.send("zoe@example.ch")
    assert "J'ai envoyé un code à 6 chiffres à zoe@example.ch." in reply.text
    reply = await zoe.send(await db.mailed_code(desk.ctx))
    assert "C'est fait ! Vos places sont réservées jusqu'au lun. 30 nov. 2026" in reply.text
    assert "État : réservée, pas encore payée" in reply.text
    reference = reply.text.split("Réservation ")[1].split(" ")[0]
    customer = await customers.find_by_telegram(desk.ctx, telegram_user_id=ZOE)
    assert customer is not None and customer.language == "fr"

    desk.ctx.clock.advance(timedelta(days=6, hours=1))  # 24 hours before # type: ignore[attr-defined]
    await reminders.plan_reminders(desk.ctx)
    _, sent = await desk.deliver()
    (reminder,) = sent.of("sendMessage")
    assert reminder.text is not None and reminder.text.startswith(
        f"Rappel : la réservation {reference}"
    )
    assert [label for label, _ in reminder.buttons()] == [
        "Payer 90,00\u00a0CHF",
        "Demander un délai",
        "Annuler la réservation",
    ]

    reply = await zoe.press("Annuler la réservation", on=reminder)
    assert f"Pourquoi voulez-vous annuler la réservation {reference} ?" in reply.text
    assert zoe.buttons()[:5] == [
        "Je ne peux pas venir",
        "Maladie",
        "Réservé par erreur",
        "Trop cher",
        "Autre raison…",
    ]
    reply = await zoe.press("Trop cher")
    assert f"Annuler la réservation {reference} (Trop cher) ?" in reply.text
    reply = await zoe.press("Oui, annuler")
    assert f"La réservation {reference} est annulée." in reply.text
    assert "État : annulée" in reply.text
    reply = await zoe.send("/aide")
    assert reply.texts == ["Je ne connais pas cette commande. /help liste ce que je sais faire."]
