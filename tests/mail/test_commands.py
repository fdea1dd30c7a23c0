"""read_command: the first meaningful line of a stripped reply, in English or French."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail.commands import (
    DATE_PAST,
    DATE_UNREADABLE,
    Command,
    Verb,
    read_command,
)
from mail.parse import parse_message
from mail.quotes import strip_reply

SAMPLES = Path(__file__).parent / "samples"
TODAY = dt.date(2026, 11, 23)


def read(text: str) -> Command:
    return read_command(text, today=TODAY, default_tz="Europe/Paris")


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("PAY", Verb.PAY), ("payer", Verb.PAY), ("Payer.", Verb.PAY), ("pay please", Verb.PAY),
        ("CANCEL", Verb.CANCEL), ("Annuler", Verb.CANCEL), ("ANNULER", Verb.CANCEL),
        ("extend", Verb.EXTEND), ("PROLONGER", Verb.EXTEND), ("Prolongér", Verb.EXTEND),
        ("STATUS", Verb.STATUS), ("Statut ?", Verb.STATUS), ("statut", Verb.STATUS),
        ("RENEW", Verb.RENEW), ("Renouveler", Verb.RENEW), ("RENOUVELER mon pass", Verb.RENEW),
        ("HELP", Verb.HELP), ("Help?", Verb.HELP), ("aide", Verb.HELP), ("AIDE !", Verb.HELP),
        ("*PAY*", Verb.PAY), ("  Status  ", Verb.STATUS),
    ],
)  # fmt: skip
def test_keywords_are_read_in_english_and_french_whatever_the_case(text: str, verb: Verb) -> None:
    assert read(text).verb is verb


@pytest.mark.parametrize(
    "text",
    [
        "ok", "I want to cancel", "Je voudrais annuler", "Payment done", "Cancelled already?",
        "1. PAY", "", "  \n \n", "Hi there is a problem with my booking, PAY does not work",
        "thanks, but I cannot come", "Merci, pourriez-vous m'envoyer la facture",
    ],
)  # fmt: skip
def test_anything_else_is_unknown(text: str) -> None:
    assert read(text) == Command(Verb.UNKNOWN)


@pytest.mark.parametrize(
    "text",
    [
        "Hi,\n\nPAY", "Hello\nPAY", "Hello team\nPAY", "Hello team,\n\nPAY", "Bonjour,\nPAY",
        "Bonjour Madame, Monsieur,\n\nPAY", "Dear Guichet team,\nPAY", "Good morning!\nPAY",
        "Bonjour à toute l'équipe,\nPAY", "Salut !\n\nPAY", "Hello, PAY", "Bonjour, payer",
        "Hello PAY",
    ],
)  # fmt: skip
def test_greetings_before_the_command_are_skipped(text: str) -> None:
    assert read(text).verb is Verb.PAY


def test_only_the_first_meaningful_line_counts() -> None:
    assert read("I have a question\nPAY") == Command(Verb.UNKNOWN)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ANNULER maladie", "maladie"),
        ("CANCEL: my flight was cancelled", "my flight was cancelled"),
        ("Cancel - my sister's wedding was moved", "my sister's wedding was moved"),
        ("CANCEL\nI'm ill and cannot come.\nSorry for the late notice.\n\nPaul",
         "I'm ill and cannot come. Sorry for the late notice."),
        ("ANNULER\n\nJe suis malade.\n\nCordialement,\nMarie", "Je suis malade."),
        ("CANCEL\nThanks,\nPaul", None),
        ("CANCEL", None),
        ("CANCEL   ", None),
        ("Annuler :", None),
        ("ANNULER\nMerci d'annuler car je suis malade", "Merci d'annuler car je suis malade"),
    ],
)  # fmt: skip
def test_cancel_reason_is_the_rest_of_the_line_or_the_paragraph_below(
    text: str, reason: str | None
) -> None:
    assert read(text) == Command(Verb.CANCEL, reason=reason)


def test_a_very_long_reason_is_kept_whole_for_the_service_to_refuse() -> None:
    """Never cut without a word: the service refuses it with its length (too_long)."""
    reason = read("CANCEL " + "word " * 400).reason
    assert reason is not None and len(reason) == len("word " * 400) - 1


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("EXTEND 2026-12-24", dt.date(2026, 12, 24)),
        ("EXTEND 24/12/2026", dt.date(2026, 12, 24)),
        ("EXTEND 24.12.2026", dt.date(2026, 12, 24)),
        ("EXTEND 24-12-2026", dt.date(2026, 12, 24)),
        ("EXTEND 24/12/26", dt.date(2026, 12, 24)),
        ("EXTEND 24/12", dt.date(2026, 12, 24)),
        ("EXTEND 24 December 2026", dt.date(2026, 12, 24)),
        ("EXTEND December 24", dt.date(2026, 12, 24)),
        ("EXTEND Dec 24, 2026", dt.date(2026, 12, 24)),
        ("EXTEND Dec. 24th", dt.date(2026, 12, 24)),
        ("EXTEND until the 24th of December", dt.date(2026, 12, 24)),
        ("EXTEND to Thursday 24 December", dt.date(2026, 12, 24)),
        ("EXTEND 12/24/2026", dt.date(2026, 12, 24)),  # cannot be day first
        ("PROLONGER 24 décembre 2026", dt.date(2026, 12, 24)),
        ("PROLONGER 24 DÉC.", dt.date(2026, 12, 24)),
        ("prolonger 24 dec", dt.date(2026, 12, 24)),
        ("PROLONGER le 24 décembre", dt.date(2026, 12, 24)),
        ("PROLONGER jusqu'au jeudi 24 décembre", dt.date(2026, 12, 24)),
        ("PROLONGER jusqu’au 24/12", dt.date(2026, 12, 24)),
        ("PROLONGER 1er janvier", dt.date(2027, 1, 1)),
        ("PROLONGER 3 mars", dt.date(2027, 3, 3)),
        ("EXTEND March 3", dt.date(2027, 3, 3)),
        ("EXTEND 23/11", TODAY),  # today is the next occurrence of today
        ("EXTEND 22/11", dt.date(2027, 11, 22)),  # yesterday's date means next year
        ("PROLONGER 29 février", dt.date(2028, 2, 29)),
    ],
)
def test_extend_reads_english_and_french_dates(text: str, date: dt.date) -> None:
    command = read(text)
    assert (command.verb, command.date, command.date_error) == (Verb.EXTEND, date, None)


def test_extend_reason_follows_the_date() -> None:
    assert read("Prolonger 24 décembre, je suis en déplacement") == Command(
        Verb.EXTEND, reason="je suis en déplacement", date=dt.date(2026, 12, 24)
    )


def test_extend_without_date_keeps_the_text_as_reason() -> None:
    assert read("EXTEND please, waiting for my company's approval") == Command(
        Verb.EXTEND, reason="please, waiting for my company's approval"
    )
    assert read("EXTEND") == Command(Verb.EXTEND)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("EXTEND 31/02", DATE_UNREADABLE),
        ("EXTEND 32/12/2026 my reason", DATE_UNREADABLE),
        ("EXTEND 24/13/2026", DATE_UNREADABLE),
        ("PROLONGER 24 décembruary", DATE_UNREADABLE),
        ("EXTEND for 2 weeks", DATE_UNREADABLE),
        ("EXTEND December 45", DATE_UNREADABLE),
        ("EXTEND 24/12/2025", DATE_PAST),
        ("EXTEND 2026-11-22", DATE_PAST),
    ],
)
def test_unusable_dates_are_reported_and_the_text_kept(text: str, error: str) -> None:
    command = read(text)
    assert (command.verb, command.date, command.date_error) == (Verb.EXTEND, None, error)
    assert command.reason == text.split(" ", 1)[1]


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("gmail_top_post.eml",
         Command(Verb.CANCEL, reason="my sister's wedding was moved to that weekend")),
        ("outlook_html_only_cp1252.eml",
         Command(Verb.CANCEL,
                 reason="nous n’avons plus de budget pour la sortie du comité d’entreprise.")),
        ("apple_mail_bottom_post.eml", Command(Verb.PAY)),
        ("thunderbird_fr_latin1.eml", Command(Verb.CANCEL, reason="maladie")),
        ("phone_base64_utf8.eml",
         Command(Verb.EXTEND, reason="je suis en déplacement", date=dt.date(2026, 12, 24))),
        ("forwarded_booking.eml", Command(Verb.STATUS)),
        ("thanks.eml", Command(Verb.THANKS)),  # answered with nothing
    ],
)  # fmt: skip
def test_client_replies_read_as_the_command_the_customer_meant(name: str, command: Command) -> None:
    parsed = parse_message((SAMPLES / name).read_bytes(), max_bytes=10**6)
    assert read(strip_reply(parsed.text)) == command


def test_a_misconfigured_timezone_fails_loudly() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        read_command("PAY", today=TODAY, default_tz="Europe/Atlantis")


@given(st.text(max_size=300), st.dates())
def test_read_command_never_raises_on_arbitrary_text(text: str, today: dt.date) -> None:
    command = read_command(text, today=today, default_tz="UTC")
    assert command.date is None or command.date >= today
    assert command.date is None or command.date_error is None


KEYWORDS = ["PAY", "annuler", "EXTEND", "Prolonger", "statut", "RENEW", "aide", "Bonjour,\nCANCEL"]


@given(st.sampled_from(KEYWORDS), st.text(max_size=200), st.dates())
def test_read_command_never_raises_after_a_keyword(keyword: str, rest: str, today: dt.date) -> None:
    command = read_command(f"{keyword} {rest}", today=today, default_tz="UTC")
    assert command.verb is not Verb.UNKNOWN
    assert command.reason is None or command.reason.strip() == command.reason != ""
