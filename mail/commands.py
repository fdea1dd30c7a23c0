"""Read the command of an email reply (SPEC §10 "Email reply keywords").

The command is the first word of the first meaningful line of the *stripped* reply (run
``quotes.strip_reply`` first): empty lines, greetings ("Hi,", "Bonjour Madame Dupont,") and
thank-you lines ("Thanks!", "Merci beaucoup,") are skipped, and either may share the line
("Hello, CANCEL", "Thanks! PAY": a thank-you plus a command is a command).  Keywords are
English or French, case- and accent-insensitive.

Three readings change nothing and are told apart because each gets a different answer:

* THANKS: only thank-you lines, sign-offs and a name ("Thank you :)", "Merci beaucoup,
  Marie"). It gets no answer at all: answering a thank-you starts a loop of politeness.
* AMBIGUOUS: two different commands offered as alternatives ("cancel or maybe extend?",
  "annuler ou prolonger ?"), or a second command line below the first. It gets a question
  naming the options (``Command.options``); acting on either one could be the wrong one.
* UNKNOWN: anything else, which gets the short help reply: guessing intent from free text
  ("je veux annuler ?") would act on mail that did not ask for it.

Reasons (CANCEL, EXTEND): the rest of the keyword line; when the line holds nothing more,
the paragraph right below it (up to a blank line or a sign-off such as "Thanks,"), so
"CANCEL" then "I'm ill" on the next line still carries the reason.  No text: None.  A reason
is never cut: the service refuses one that is too long, saying so (``booking.rules.limits``).

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
    THANKS = "thanks"
    AMBIGUOUS = "ambiguous"
    UNKNOWN = "unknown"


DATE_UNREADABLE = "unreadable"
DATE_PAST = "past"


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    reason: str | None = None
    date: dt.date | None = None
    date_error: str | None = None
    options: tuple[Verb, ...] = ()  # AMBIGUOUS: the commands named, in the order written


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
# A thank-you opening a line, after an optional "OK," or "Great!".
_THANKS = re.compile(
    r"(?:(?:ok|okay|great|perfect|super|parfait|genial|top|d'accord)[\s,!.]+)?"
    r"(?:many |a big |big |un grand |grand |mille )?"
    r"(?:thanks|thank you|thank u|thx|merci|mercis|cheers)\b"
)
# What turns a thank-you line into a message that expects something back ("thanks, but…",
# "merci, pourriez-vous…", a question): that gets the help, never silence.
_EXPECTS_ANSWER = re.compile(
    r"\?|\b(but|however|though|please|pls|could|can you|would|want|need|how|when|where|why"
    r"|what|mais|cependant|pourtant|svp|stp|plait|pourriez|pourrais|pouvez|peux|voudrais"
    r"|veux|besoin|comment|quand|pourquoi|quel|quelle)\b"
)
_SENTENCE_END = re.compile(r"[!.;:,]+\s*")
_THANKS_TAIL_WORDS = 8  # "so much for the reminder, see you there!"
_NAME = re.compile(r"[^\W\d_]+(?:[-'’.][^\W\d_]+)*\.?")
# Words that offer alternatives: "cancel or extend", "annuler ou prolonger", "PAY/CANCEL".
_WORD = re.compile(r"[^\W\d_]+|/")
_OR = frozenset({"or", "ou", "/", "either", "soit", "otherwise", "sinon"})
_OR_SPAN = 4  # at most this many words from one keyword to the alternative
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
    thanked = False
    for index, line in enumerate(lines):
        meaningful = _after_greeting(line) if line else None
        if not meaningful:
            continue
        rest, thanks = _after_thanks(meaningful)
        thanked = thanked or thanks
        if rest is None or (thanked and _is_closing(rest)):
            continue  # a thank-you line, or the sign-off and name below one
        following = lines[index + 1 :]
        options = _alternatives(rest, following)
        if len(options) > 1:
            return Command(Verb.AMBIGUOUS, options=options)
        return _command(rest, following, today)
    return Command(Verb.THANKS if thanked else Verb.UNKNOWN)


def _after_thanks(line: str) -> tuple[str | None, bool]:
    """(what is left to read, whether the line opens with a thank-you). Left: None for a
    plain thank-you line, the command for "Thanks! PAY", the line itself otherwise."""
    found = _THANKS.match(fold(line))
    if found is None:
        return line, False
    tail = line[found.end() :]
    # The command may follow right away or after a sentence: "Merci beaucoup ! ANNULER …".
    for start in (0, *(m.end() for m in _SENTENCE_END.finditer(tail))):
        after = tail[start:].lstrip(" ,;:!.-–—")
        if _verb_of(after) is not None:
            return after, True
    key = fold(tail)
    if len(tail.split()) > _THANKS_TAIL_WORDS or _EXPECTS_ANSWER.search(key):
        return line, True
    # "Thanks for your help" is a thank-you; "Thanks, I will pay tonight" is not plain.
    if any(_KEYWORDS.get(w) not in (None, Verb.HELP) for w in _WORD.findall(key)):
        return line, True
    return None, True


def _is_closing(line: str) -> bool:
    """A sign-off ("Best,") or a short name ("Marie", "J.-P. Roux") below a thank-you."""
    words = line.rstrip(",.!").split()
    if _is_sign_off(line):
        return True
    if not 0 < len(words) <= 3 or _verb_of(line) is not None:
        return False
    return all(_NAME.fullmatch(word) for word in words)


def _alternatives(line: str, following: list[str]) -> tuple[Verb, ...]:
    """The different commands offered as alternatives on ``line`` ("cancel or maybe
    extend?"), or written at the start of a later line of the same message; () or one verb
    when the reply is not ambiguous. A reason naming another keyword ("CANCEL I cannot
    pay") is no alternative: only an "or" between two keywords makes one."""
    words = _WORD.findall(fold(line))
    found: list[Verb] = []
    last: tuple[int, Verb] | None = None
    for position, word in enumerate(words):
        verb = _KEYWORDS.get(word)
        if verb is None:
            continue
        near = last is not None and verb is not last[1] and position - last[0] <= _OR_SPAN
        if near and last is not None and _OR.intersection(words[last[0] + 1 : position]):
            found += [last[1], verb]
        last = (position, verb)
    first = _verb_of(line)
    if first is not None:
        found = [first, *found]
        for below in following:
            if _is_sign_off(below):
                break
            verb = _verb_of(below)
            if verb is not None and verb is not Verb.HELP:
                found.append(verb)
    return tuple(dict.fromkeys(found))


def _verb_of(line: str) -> Verb | None:
    """The command a line starts with, if any."""
    keyword = _KEYWORD.match(line)
    return _KEYWORDS.get(fold(keyword.group(1))) if keyword else None


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
    verb = _verb_of(line)
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
    return text or None


def _squeeze(text: str) -> str:
    """One line, without the separator people put after a keyword ("CANCEL: ill")."""
    return " ".join(text.split()).lstrip(":,;.-–— ")


def _is_sign_off(line: str) -> bool:
    """A short closing line ("Thanks,", "Bien cordialement,"), not "Merci d'annuler car…"."""
    return len(line.split()) <= 3 and _SIGN_OFF.match(fold(line)) is not None
