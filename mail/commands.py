"""Read the command of an email reply (SPEC §10 "Email reply keywords").

The command is the first word of the first meaningful line of the *stripped* reply (run
``quotes.strip_reply`` first): empty lines and greetings ("Hi,", "Bonjour Madame Dupont,")
are skipped, and a greeting may share the line ("Hello, CANCEL").  Keywords are English or
French, case- and accent-insensitive.  Anything else is UNKNOWN, which gets the short help
reply: guessing intent from free text ("thanks!", "je veux annuler ?") would act on mail
that did not ask for it.

Reasons (CANCEL, EXTEND): the rest of the keyword line; when the line holds nothing more,
the paragraph right below it (up to a blank line or a sign-off such as "Thanks,"), so
"CANCEL" then "I'm ill" on the next line still carries the reason.  No text: None.

Dates (EXTEND): read right after the keyword, optionally after "until"/"jusqu'au"/"le" and a
weekday.  Numeric dates are day first (a French-speaking, European product), except that
12/24 cannot be read day first and is read month first.  A date without a year is its next
occurrence, today included.  Something that starts like a date but is not one gives
``date_error="unreadable"``; a date before today gives ``date_error="past"``; in both cases
``date`` is None and the whole text after the keyword is kept as the reason, so nothing the
customer wrote is lost.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from mail.quotes import fold


class Verb(enum.Enum):
    PAY = "pay"
    CANCEL = "cancel"
    EXTEND = "extend"
    STATUS = "status"
    RENEW = "renew"
    HELP = "help"
    UNKNOWN = "unknown"


DATE_UNREADABLE = "unreadable"
DATE_PAST = "past"
MAX_REASON_LENGTH = 500  # a reason is a sentence, not a letter; keeps history rows small


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    reason: str | None = None
    date: dt.date | None = None
    date_error: str | None = None


_KEYWORDS = {
    "pay": Verb.PAY, "payer": Verb.PAY, "cancel": Verb.CANCEL, "annuler": Verb.CANCEL,
    "extend": Verb.EXTEND, "prolonger": Verb.EXTEND, "status": Verb.STATUS,
    "statut": Verb.STATUS, "renew": Verb.RENEW, "renouveler": Verb.RENEW,
    "help": Verb.HELP, "aide": Verb.HELP,
}  # fmt: skip
_MONTH_NAMES = (
    "january jan janvier janv", "february feb fevrier fevr fev", "march mar mars",
    "april apr avril avr", "may mai", "june jun juin", "july jul juillet juil",
    "august aug aout", "september sep sept septembre", "october oct octobre",
    "november nov novembre", "december dec decembre",
)  # fmt: skip
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
# All patterns run on fold()ed text: lowercase, no accents, same indices as the original.
_GREETING = re.compile(
    r"\s*(hi|hello|hey|hiya|dear|greetings|good (morning|afternoon|evening)|bonjour|bonsoir"
    r"|salut|coucou|chere?s?|madame|monsieur|mesdames|messieurs)\b"
)
_GREETING_TAIL = re.compile(r"([^,!.:;]*)([,!.:;]+)?")  # "Madame Dupont" then ",", "!"…
_SIGN_OFF = re.compile(
    r"(thanks|thank you|many thanks|regards|best|kind regards|cheers|sincerely|cordialement"
    r"|bien cordialement|bien a vous|merci|bonne (journee|soiree)|salutations|a bientot)\b"
)
_KEYWORD = re.compile(r"[\W_]*([^\W\d_]+)")
# Weekdays are skipped before a date ("jeudi 24 décembre"); "mar" (mardi) is left out
# because it is also March.
_WEEKDAYS = (
    r"(?:mon|tues?|wednes|thurs?|fri|satur|sun)(?:day)?|wed|thu|sat"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mer|jeu|ven|sam|dim"
)
_LEAD_IN = re.compile(
    r"[\s:,;\-–—]*(?:(?:until|till|to|through|by|on|the|for|jusqu['’]\s*(?:au|a)|au|le|du"
    rf"|(?:{_WEEKDAYS})\.?,?)\s+)*"
)
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\w)"),
    re.compile(r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})(?:[/.\-](?P<y>\d{4}|\d{2}))?(?![\w/])"),
    re.compile(r"(?P<d>\d{1,2})(?:eme|er|st|nd|rd|th|e)?\s*(?:of\s+)?(?P<mon>[a-z]+)\.?"
               r"(?:,?\s*(?P<y>\d{4}))?(?!\w)"),
    re.compile(r"(?P<mon>[a-z]+)\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s*(?P<y>\d{4}))?(?!\w)"),
)  # fmt: skip
_YEARS_AHEAD = 8  # enough to reach the next 29 February
_Resolved = tuple[dt.date | None, str | None]  # (date, date_error)


def read_command(text: str, *, today: dt.date, default_tz: str) -> Command:
    """The command of a stripped reply; never raises on any ``text``.

    ``default_tz`` is only validated: a command carries a calendar date, which the
    extension service turns into the end of that day in the event's timezone.
    """
    ZoneInfo(default_tz)  # a bad configuration fails loudly, on the first mail
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        meaningful = _after_greeting(line) if line else None
        if meaningful:
            return _command(meaningful, lines[index + 1 :], today)
    return Command(Verb.UNKNOWN)


def _after_greeting(line: str) -> str | None:
    """The line without its leading greetings; None when it holds nothing else."""
    key, pos = fold(line), 0
    while greeting := _GREETING.match(key, pos):
        tail = _GREETING_TAIL.match(line, greeting.end())
        assert tail is not None  # the pattern matches the empty string
        name, separator = tail.groups()
        words = name.split()
        # Misreading a sentence as a greeting costs nothing (its first word is not a
        # keyword either way), so names may be long: "Bonjour à toute l'équipe,".
        if len(words) > (6 if separator else 3):
            break
        if not separator:  # "Hello team" is a greeting, "Hello PAY" is a command
            return name.strip() if words and fold(words[0]) in _KEYWORDS else None
        pos = tail.end()
    return line[pos:].strip() or None


def _command(line: str, following: list[str], today: dt.date) -> Command:
    keyword = _KEYWORD.match(line)
    verb = _KEYWORDS.get(fold(keyword.group(1))) if keyword else None
    if keyword is None or verb is None:
        return Command(Verb.UNKNOWN)
    rest = line[keyword.end() :]
    if verb is Verb.CANCEL:
        return Command(verb, reason=_reason(rest, following))
    if verb is Verb.EXTEND:
        return _extend(rest, following, today)
    return Command(verb)


def _extend(rest: str, following: list[str], today: dt.date) -> Command:
    key = fold(rest)
    lead_in = _LEAD_IN.match(key)
    start = lead_in.end() if lead_in else 0
    for pattern in _DATE_PATTERNS:
        found = pattern.match(key, start)
        parts = _date_parts(found) if found else None
        if found and parts:
            date, error = _resolve(*parts, today=today)
            remainder = rest if error else rest[found.end() :]
            return Command(Verb.EXTEND, _reason(remainder, following), date, error)
    error = DATE_UNREADABLE if rest[start : start + 1].isdigit() else None
    return Command(Verb.EXTEND, reason=_reason(rest, following), date_error=error)


def _date_parts(found: re.Match[str]) -> tuple[int | None, int, int] | None:
    """(year, month, day) of a pattern match; None when the word is not a month name."""
    groups = found.groupdict()
    month = _MONTHS.get(groups["mon"]) if "mon" in groups else int(groups["m"])
    if month is None:
        return None
    year = groups.get("y")
    return (int(year) + (2000 if len(year) == 2 else 0) if year else None, month, int(groups["d"]))


def _resolve(year: int | None, month: int, day: int, *, today: dt.date) -> _Resolved:
    if month > 12 >= day:  # 12/24: cannot be day first, so it is month first
        month, day = day, month
    years = [year] if year is not None else range(today.year, today.year + _YEARS_AHEAD)
    for candidate_year in years:
        try:
            candidate = dt.date(candidate_year, month, day)
        except ValueError:  # 31/02, 29/02 in a common year, month 13…
            continue
        if candidate >= today:
            return candidate, None
        if year is not None:
            return None, DATE_PAST
    return None, DATE_UNREADABLE


def _reason(rest: str, following: Iterable[str]) -> str | None:
    """Text after the keyword, else the paragraph just below it (see the module docstring)."""
    text = _squeeze(rest)
    if not text:
        paragraph: list[str] = []
        for line in following:
            if not line and paragraph:
                break
            if _is_sign_off(line):
                break
            paragraph += [line] if line else []
        text = _squeeze(" ".join(paragraph))
    return text[:MAX_REASON_LENGTH] or None


def _squeeze(text: str) -> str:
    """One line, without the separator people put after a keyword ("CANCEL: ill")."""
    return " ".join(text.split()).lstrip(":,;.-–— ")


def _is_sign_off(line: str) -> bool:
    """A short closing line ("Thanks,", "Bien cordialement,"), not "Merci d'annuler car…"."""
    return len(line.split()) <= 3 and _SIGN_OFF.match(fold(line)) is not None
