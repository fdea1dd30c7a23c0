"""strip_reply keeps only what the person newly wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail.parse import parse_message
from mail.quotes import fold, strip_reply

SAMPLES = Path(__file__).parent / "samples"
QUOTE = "> Hello Paul,\n>\n> Your booking K7M-4QX is held until 4 December.\n"


def stripped_sample(name: str) -> str:
    return strip_reply(parse_message((SAMPLES / name).read_bytes(), max_bytes=10**6).text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gmail_top_post.eml", "Cancel - my sister's wedding was moved to that weekend\n\nPaul"),
        ("outlook_html_only_cp1252.eml",
         "Annuler : nous n’avons plus de budget pour la sortie du comité d’entreprise.\n\n"
         "Bien cordialement,\nCéline Dupré\nCabinet Dupré – Comité d’entreprise"),
        ("apple_mail_bottom_post.eml", "PAY"),
        ("thunderbird_fr_latin1.eml", "ANNULER maladie\n\nBien à vous,\nMarie Lefèvre"),
        ("phone_base64_utf8.eml", "Prolonger 24 décembre, je suis en déplacement"),
        ("forwarded_booking.eml", "STATUS"),
        ("thanks.eml", "thanks!"),
    ],
)  # fmt: skip
def test_client_replies_are_stripped_to_the_new_text(name: str, expected: str) -> None:
    assert stripped_sample(name) == expected


def test_gmail_attribution_wrapped_over_two_lines_is_removed() -> None:
    text = (
        "PAY\n\nOn Mon, 23 Nov 2026 at 10:02, Guichet <desk+agjaqszxjuwtiukynj5jncautcpheer6@"
        "venue.example>\nwrote:\n\n" + QUOTE
    )
    assert strip_reply(text) == "PAY"


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 23 Nov 2026 at 10:02, Guichet <desk@venue.example> wrote:",
        "On 23 Nov 2026, at 10:02, Guichet <desk@venue.example> wrote:",
        "On Monday, November 23rd, 2026 at 10:02 AM, Guichet <desk@venue.example>\nwrote:",
        "Le 23/11/2026 à 10:02, Guichet a écrit :",
        "Le 23/11/2026 à 10:02, Guichet a écrit\xa0:",
        "Le lun. 23 nov. 2026 à 10:02, Guichet <desk@venue.example> a écrit :",
        "Le lun. 23 nov. 2026 à 10:02, Guichet <desk+abc@venue.example> a\nécrit :",
        "Le 23 nov. 2026 à 10:02, Service Billetterie, Guichet <desk@venue.example> a écrit :",
        "le 23 novembre 2026 a 10:02, Guichet a ecrit:",
    ],
)
def test_attributions_before_a_quote_are_removed(attribution: str) -> None:
    assert strip_reply(f"ANNULER maladie\n\n{attribution}\n{QUOTE}") == "ANNULER maladie"


@pytest.mark.parametrize(
    "header_block",
    [
        "From: Guichet <desk@venue.example>\nSent: Monday, November 23, 2026 10:02 AM\n"
        "To: Paul Martin <paul@example.org>\nSubject: Your booking K7M-4QX",
        "*From:* Guichet <desk@venue.example>\n*Sent:* Monday, November 23, 2026 10:02\n"
        "*To:* Paul Martin\n*Subject:* Your booking K7M-4QX",
        "De : Guichet <desk@venue.example>\nEnvoyé : lundi 23 novembre 2026 10:02\n"
        "À : Paul Martin\nObjet : Votre réservation K7M-4QX",
        "De\xa0: Guichet <desk@venue.example>\nEnvoyé\xa0: lundi 23 novembre 2026 10:02\n"
        "Cc\xa0: billetterie@venue.example\nÀ\xa0: Paul Martin\nObjet\xa0: Votre réservation",
        "From: Guichet <desk@venue.example>\nDate: Monday, 23 November 2026 at 10:02\n"
        "To: Paul Martin\nSubject: Your booking",
    ],
)
def test_outlook_header_blocks_cut_the_old_message(header_block: str) -> None:
    text = f"STATUS\n\n{header_block}\n\nHello Paul,\nYour booking is held.\n"
    assert strip_reply(text) == "STATUS"


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-----Message d'origine-----",
        "-------- Message d'origine --------",
        "________________________________",
        "---------- Forwarded message ---------",
        "---------- Message transféré ---------",
        "-------- Forwarded Message --------",
        "Begin forwarded message:",
        "Début du message réexpédié :",
        "Début du message transféré :",
    ],
)
def test_original_and_forwarded_message_separators_cut_the_old_message(separator: str) -> None:
    text = f"RENEW\n\n{separator}\nFrom: Guichet\nHello Paul, your pass…\n"
    assert strip_reply(text) == "RENEW"


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nPaul Martin\n+33 6 12 34 56 78",
        "--\nPaul",
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Sent from Mail for Windows",
        "Sent with Proton Mail secure email.",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/AAb9ysg>",
        "Envoyé de mon iPhone",
        "Envoyé depuis mon mobile",
        "Envoyé à partir de Outlook pour Android",
        "Télécharger Outlook pour iOS",
        "Obtenir Outlook pour Android",
    ],
)
def test_signatures_are_dropped(signature: str) -> None:
    assert strip_reply(f"EXTEND 24/12 waiting for my employer\n\n{signature}\n") == (
        "EXTEND 24/12 waiting for my employer"
    )


def test_a_long_sentence_starting_like_a_signature_is_kept() -> None:
    text = "Sent from the office because my phone died: I can't come on the 12th, sorry."
    assert strip_reply(text) == text


def test_bottom_posted_reply_keeps_the_lines_after_the_quote() -> None:
    text = (
        "On Mon, 23 Nov 2026 at 10:02, Guichet <desk@venue.example> wrote:\n"
        + QUOTE
        + "\nCANCEL\nmy daughter is ill\n\nSent from my iPhone\n"
    )
    assert strip_reply(text) == "CANCEL\nmy daughter is ill"


def test_interleaved_answers_keep_every_new_line() -> None:
    text = "> Do you want to pay?\nPAY\n> Anything else?\n\nNo thanks\n"
    assert strip_reply(text) == "PAY\n\nNo thanks"


def test_attribution_without_a_quote_below_cuts_the_rest() -> None:
    # Clients that quote without ">" marks: everything below the attribution is old.
    text = "STATUT\n\nLe 23/11/2026 à 10:02, Guichet a écrit :\nBonjour Marie,\nVotre réservation…"
    assert strip_reply(text) == "STATUT"


def test_a_sentence_starting_with_on_is_not_an_attribution() -> None:
    text = "On Friday my train arrives late.\nCan I still come in?"
    assert strip_reply(text) == text


def test_fully_quoted_reply_leaves_nothing() -> None:
    assert strip_reply("On Mon, Guichet wrote:\n" + QUOTE) == ""
    assert strip_reply("") == ""


def test_line_endings_and_blank_runs_are_tidied() -> None:
    assert strip_reply("\r\n\r\nPAY  \r\n\r\n\r\n\r\nthanks\r\n\r\n") == "PAY\n\nthanks"


@given(st.text(max_size=400))
def test_strip_reply_never_raises_and_never_invents_lines(text: str) -> None:
    result = strip_reply(text)
    original = {
        line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    }
    assert all(line in original for line in result.split("\n") if line)


@given(st.text(max_size=200))
def test_fold_keeps_the_length_so_slices_line_up(text: str) -> None:
    assert len(fold(text)) == len(text)


def test_fold_removes_case_and_accents() -> None:
    assert fold("Réponse AUTOMATIQUE – Début Ça") == "reponse automatique – debut ca"
