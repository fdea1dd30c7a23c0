"""What a customer can be found by, and what a typed search looks for: folded words.

One search serves the bookings list, the release screen's customer filter and the customer
directory (``booking.queries.search``). Each customer has a *search key*: the space-separated
tokens below, kept on the customer row and copied word by word into ``customertoken``, whose
primary key (token, customer) answers "a token starting with x" as one index range on SQLite
and PostgreSQL alike. Folding happens here, in Python, so that both databases compare the same
strings (neither's ``lower``/collation agrees with the other's on accents).

Tokens of a customer:

- every word of the name and the company, folded (accents off, case folded, ß → ss, æ → ae,
  dotless ı → i …), with its punctuation removed ("o'brien" → ``obrien``) and also each of its
  parts (``o``, ``brien``); and each particle run into the name that follows it ("van der
  berg" → ``vanderberg``, ``derberg``), so particles may be typed joined;
- the email, folded whole (found by its start: ``jeanne.ph``);
- the phone in E.164 (``+41791234567``) and as the national digits (``0791234567``).

A typed search matches a customer when every typed word is the start of one of their tokens
(word order free), or when the whole text, read as a phone number, starts one of them.

Phone numbers written without a country code are read in ``PHONE_REGION``: Guichet has no
country on a venue or an event yet, and its desks are in Switzerland, so it is ``CH``. The key
and the search use the same region, so the two always agree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

PHONE_REGION = "CH"
MAX_TOKEN = 120  # longer words are cut: a prefix search never needs more
MAX_TOKENS = 64  # per customer: a 200-character name cannot flood the index
MAX_QUERY_WORDS = 8
PARTICLE = 3  # "de", "la", "van", "der", "dos", "mc": words this short join the next

# Letters that Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {
        "æ": "ae",
        "ø": "o",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
        "ŧ": "t",
    }
)
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")


def fold(text: str) -> str:
    """``text`` without accents and case: "Téléphone" → "telephone", "Straße" → "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.translate(_LETTERS).split())


def _parts(word: str) -> list[str]:
    """The letter-and-digit runs of a folded word: "d'arc" → ["d", "arc"]."""
    return [p for p in re.split(r"[^\w]|_", word) if p]


def name_tokens(text: str) -> list[str]:
    """The tokens of a name or company (see the module's docstring), in a stable order."""
    words = [w for w in ("".join(_parts(w)) for w in fold(text).split()) if w]
    tokens: list[str] = []
    for word in fold(text).split():
        parts = _parts(word)
        tokens += ["".join(parts), *(parts if len(parts) > 1 else [])]
    tokens += _particles_joined(words)
    return tokens


def _particles_joined(words: list[str]) -> list[str]:
    """A particle run into the name it belongs to, as people also type it: "van der berg" →
    ``vanderberg``, ``derberg``; "de la fontaine" → ``delafontaine``, ``lafontaine``. Only from
    a short word (a particle) up to the next long one: joining any words would make "jeanne"
    find "Jean Neuhaus"."""
    joined = []
    for i, word in enumerate(words[:-1]):
        if len(word) > PARTICLE:
            continue
        end = next((j for j in range(i + 1, len(words)) if len(words[j]) > PARTICLE), None)
        if end is not None:
            joined.append("".join(words[i : end + 1]))
    return joined


def phone_tokens(phone: str, region: str = PHONE_REGION) -> list[str]:
    """E.164 and national digits of a phone number, or its bare digits when it is none."""
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return []
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return [digits]
    if not phonenumbers.is_possible_number(number):
        return [digits]
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return [e164, re.sub(r"\D", "", national)]


def search_key(name: str, email: str | None, phone: str, company: str = "") -> str:
    """The customer's tokens, space-separated, each once, in a stable order."""
    tokens = [*name_tokens(name), *name_tokens(company)]
    if email:
        tokens.append(fold(email).replace(" ", ""))
    tokens += phone_tokens(phone)
    kept = dict.fromkeys(t[:MAX_TOKEN] for t in tokens if t)
    return " ".join(list(kept)[:MAX_TOKENS])


def tokens_of(key: str) -> set[str]:
    return set(key.split())


@dataclass(frozen=True, slots=True)
class Terms:
    """A typed search: each entry of ``words`` is a set of prefixes, one of which must start
    a token of the customer; or the customer matches one prefix of ``phone``."""

    words: tuple[frozenset[str], ...]
    phone: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.words and not self.phone


def query_terms(text: str, region: str = PHONE_REGION) -> Terms:
    """What ``text`` typed in a search box looks for."""
    words: list[frozenset[str]] = []
    for word in fold(text).split()[:MAX_QUERY_WORDS]:
        compact = "".join(_parts(word))
        if not compact:
            continue  # punctuation alone ("-", "%") starts no name, email or number
        # As typed for an email ("jeanne.ph"), joined for a name ("o'brien" → "obrien").
        words.append(frozenset(w[:MAX_TOKEN] for w in (word, compact)))
    return Terms(tuple(words), phone_prefixes(text, region))


def phone_prefixes(text: str, region: str = PHONE_REGION) -> frozenset[str]:
    """The starts of phone tokens that ``text`` means, when it is written like a number:
    its E.164 form when it is a whole number ("079 123 45 67", "0041 79…", "+41 79…"), and
    its digits as typed (a part of a number, or a foreign one written nationally)."""
    text = text.strip()
    digits = re.sub(r"\D", "", text)
    if not _PHONE_LIKE.match(text) or len(digits) < 3:
        return frozenset()
    international = text.startswith("+") or digits.startswith("00")
    typed = "+" + digits.removeprefix("00") if international else digits
    found = {typed}
    tokens = phone_tokens(text, region)
    if tokens and tokens[0].startswith("+"):
        found.add(tokens[0])
    return frozenset(found)
