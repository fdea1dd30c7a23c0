"""Issue 11, points 16, 17 and 20 without a server: how read_command tells a plain thank-you
and an ambiguous reply from a command, and how safe_subject cleans a customer's subject."""

from __future__ import annotations

import datetime as dt

import pytest

from mail.commands import Command, Verb, read_command
from mail.render import SUBJECT_MAX, safe_subject


def read(text: str) -> Command:
    return read_command(text, today=dt.date(2026, 11, 23), default_tz="Europe/Zurich")


@pytest.mark.parametrize(
    "text",
    ["thanks!", "Thank you :)", "Thanks,\nPaul", "OK, thanks!",
     "Hi,\n\nMany thanks!\n\nBest,\nPaul", "merci", "Merci beaucoup !",
     "Merci pour votre aide !", "Bonjour,\n\nmerci beaucoup\n\nMarie"],
)  # fmt: skip
def test_a_plain_thank_you_reads_as_thanks(text: str) -> None:
    assert read(text) == Command(Verb.THANKS)


@pytest.mark.parametrize(
    "text",
    ["thanks, but I cannot come", "Thanks, please send me the invoice",
     "Thanks, I will pay tonight", "Merci, pourriez-vous m'envoyer la facture",
     "Thank you!\nWhere do I park?"],
)  # fmt: skip
def test_a_thank_you_that_expects_something_gets_the_help(text: str) -> None:
    assert read(text) == Command(Verb.UNKNOWN)


@pytest.mark.parametrize(
    ("text", "command"),
    [("Thanks! PAY", Command(Verb.PAY)),
     ("Merci beaucoup ! ANNULER je suis malade", Command(Verb.CANCEL, reason="je suis malade")),
     ("Thanks\n\nCANCEL ill", Command(Verb.CANCEL, reason="ill")),
     ("Thank you so much for the reminder! PAY", Command(Verb.PAY))],
)  # fmt: skip
def test_a_thank_you_plus_a_command_is_the_command(text: str, command: Command) -> None:
    assert read(text) == command


@pytest.mark.parametrize(
    ("text", "options"),
    [("cancel or maybe extend?", (Verb.CANCEL, Verb.EXTEND)),
     ("annuler ou prolonger ?", (Verb.CANCEL, Verb.EXTEND)),
     ("Should I cancel or extend?", (Verb.CANCEL, Verb.EXTEND)),
     ("PAY/CANCEL", (Verb.PAY, Verb.CANCEL)),
     ("CANCEL ill\nEXTEND 12/12", (Verb.CANCEL, Verb.EXTEND))],
)  # fmt: skip
def test_two_different_commands_read_as_ambiguous(text: str, options: tuple[Verb, ...]) -> None:
    assert read(text) == Command(Verb.AMBIGUOUS, options=options)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("CANCEL I can't pay or come", "I can't pay or come"),
     ("ANNULER je ne peux pas payer", "je ne peux pas payer")],
)  # fmt: skip
def test_a_reason_naming_another_keyword_is_not_ambiguous(text: str, reason: str) -> None:
    assert read(text) == Command(Verb.CANCEL, reason=reason)


@pytest.mark.parametrize(
    ("subject", "safe"),
    [("Re: caf\ufffd \ufffd\x07 concert\u202e", "Re: caf concert"), ("\ufffd\ufffd\ufffd x", ""),
     ("\x01\x02 ...", ""), ("Re: Réservation", "Re: Réservation")],
)  # fmt: skip
def test_safe_subject_drops_what_could_not_be_decoded_or_shown(subject: str, safe: str) -> None:
    assert safe_subject(subject) == safe


def test_safe_subject_is_bounded_at_a_word() -> None:
    safe = safe_subject("word " * 100)
    assert len(safe) <= SUBJECT_MAX + 1 and safe.endswith("word…")
