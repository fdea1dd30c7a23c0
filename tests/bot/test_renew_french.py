"""/renew in French from the invitation to the pass card: every text the holder reads is
scanned for English left over (tests/support/english.py), once what the test itself stored
(names, products, the campaign, the venue's area) is taken out."""

from __future__ import annotations

from booking.services import payments
from tests.bot.conftest import Desk, Reply
from tests.bot.test_renew import CAMPAIGN, NEW_NAME, OLD_NAME, holder, launched, passes_of, seasons
from tests.builders import STAFF
from tests.support.english import english_in

ZOE = 3201
DATA = (
    "Zoé Test",
    "Zoé",
    "zoe@example.org",
    OLD_NAME,
    NEW_NAME,
    CAMPAIGN,
    "Stalls",
    "Opera",
    "Jazz",
    "Next_Year",
    "2026/27b",
    "2026/27",
)


def read(reply: Reply) -> str:
    """The texts, button labels and alerts of a reply: all a holder reads."""
    labels = [label for call in reply.calls for label, _ in call.buttons()]
    return "\n".join([*reply.texts, *labels, *reply.alerts])


async def test_a_french_holder_is_invited_renews_and_gets_the_card_in_french(desk: Desk) -> None:
    found = await seasons(desk.ctx)
    zoe, old = await holder(
        desk.ctx, found, ZOE, email="zoe@example.org", name="Zoé Test", language="fr"
    )
    await desk.deliver()
    await launched(desk.ctx, found)
    chat = desk.person(ZOE, language="fr", first_name="Zoé")
    seen: list[str] = []

    _, sent = await desk.deliver()
    (invitation,) = sent.of("sendMessage")
    assert [label for label, _ in invitation.buttons()] == ["Renouveler mon abonnement"]
    seen.append(read(sent))

    reply = await chat.press("Renouveler mon abonnement", on=invitation)
    assert f"Abonnement {old.code} · {OLD_NAME} · Zoé" in reply.text
    assert f"Renouvellement : {CAMPAIGN}" in reply.text
    assert "Vous pouvez renouveler jusqu'au dim. 13 déc. 2026" in reply.text
    assert "gardée pour vous" in reply.text
    seen.append(read(reply))

    reply = await chat.press(NEW_NAME)
    assert f"Renouveler l'abonnement {old.code} en {NEW_NAME}" in reply.text
    assert chat.buttons()[0] == "Réserver, payer plus tard"
    seen.append(read(reply))

    reply = await chat.press("Réserver, payer plus tard")
    assert f"C'est fait ! L'abonnement {old.code} est renouvelé en {NEW_NAME}" in reply.text
    seen.append(read(reply))

    reply = await chat.send("/renew")
    assert "Déjà renouvelé : réservation" in reply.text
    seen.append(read(reply))

    renewed = next(p for p in await passes_of(desk.ctx, zoe) if p.id != old.id)
    await payments.record_box_office_payment(
        desk.ctx, actor=STAFF, reference=renewed.reference, method="cash"
    )
    _, sent = await desk.deliver()
    (card,) = sent.of("sendPhoto")
    assert card.text is not None and "Titulaire : Zoé" in card.text
    assert f"Code de l'abonnement : {old.code}" in card.text
    seen.append(read(sent))

    english = [hit for text in seen for hit in english_in(text, DATA)]
    assert english == [], english


async def test_a_french_chat_without_renewal_or_link_is_answered_in_french(desk: Desk) -> None:
    stranger = desk.person(ZOE, language="fr", first_name="Zoé")

    reply = await stranger.send("/renew")

    assert "cette conversation n'est pas reliée à votre fiche client" in reply.text
    assert english_in(reply.text, DATA) == []
