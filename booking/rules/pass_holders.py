"""A pass holder's answers to the fields its product asks (SPEC §9): pure checks, no database.

The answers are stored as JSON keyed by ``HOLDER_FIELDS`` names, like the product's modes, so
a purchase iterates one list. Only the fields the product asks are kept; a required field must
be answered. The photo is a file, not text: it is never one of these answers (a text answer
named ``photo`` is refused as a field the product does not ask). It is an uploaded
``PassPhoto`` the sale names by id, and ``check_photo`` holds it to the product's photo mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date

from booking.errors import BookingError
from booking.rules.pass_products import HOLDER_FIELDS
from booking.rules.text import single_line

TEXT_FIELDS = tuple(f for f in HOLDER_FIELDS if f != "photo")
LIMITS = {"postcode": 12, "mobile": 40, "birth_date": 10, "email": 254, "title": 20}
ANSWER_MAX = 120  # any other field: a name, a company, an address line
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MOBILE = re.compile(r"\+?[0-9 ().-]{6,40}")


def check_answers(
    modes: tuple[tuple[str, str], ...], answers: Mapping[str, str], *, today: date
) -> dict[str, str]:
    """The answers as stored: trimmed to one line, only the asked fields, none empty.

    Raises BookingError naming the field: ``holder_field_required`` (a required field left
    empty), ``too_long``, ``invalid_email``, ``bad_mobile``, ``bad_birth_date``, or
    ``bad_value`` for a field the product does not ask (a hand-made form)."""
    asked = {name: mode for name, mode in modes if mode != "off" and name in TEXT_FIELDS}
    unknown = sorted(set(answers) - set(asked))
    if unknown:
        raise BookingError("bad_value", field=f"holder_{unknown[0]}")
    kept: dict[str, str] = {}
    for name in TEXT_FIELDS:  # the canonical order, so the first problem shown is the first
        if name not in asked:
            continue
        limit = LIMITS.get(name, ANSWER_MAX)
        raw = answers.get(name, "")
        value = single_line(raw, limit + 1)
        if len(value) > limit:
            raise BookingError("too_long", length=len(raw), max=limit, field=f"holder_{name}")
        if not value:
            if asked[name] == "required":
                raise BookingError("holder_field_required", field=f"holder_{name}")
            continue
        _check_shape(name, value, today)
        kept[name] = value
    return kept


def check_photo(modes: tuple[tuple[str, str], ...], photo_id: int | None) -> None:
    """The photo against the product's mode: a required photo must be given (an uploaded
    photo's id), and a product that does not ask for one takes none."""
    mode = dict(modes).get("photo", "off")
    if photo_id is None and mode == "required":
        raise BookingError("holder_field_required", field="holder_photo")
    if photo_id is not None and mode == "off":
        raise BookingError("bad_value", field="holder_photo")


def _check_shape(name: str, value: str, today: date) -> None:
    field = f"holder_{name}"
    if name == "email" and not _EMAIL.fullmatch(value):
        raise BookingError("invalid_email", field=field)
    if name == "mobile" and not _MOBILE.fullmatch(value):
        raise BookingError("bad_mobile", field=field)
    if name == "birth_date":
        try:
            born = date.fromisoformat(value)
        except ValueError:
            raise BookingError("bad_birth_date", field=field) from None
        if not date(1900, 1, 1) <= born <= today:
            raise BookingError("bad_birth_date", field=field)


def answers_json(answers: Mapping[str, str]) -> str:
    return json.dumps(dict(answers), sort_keys=True, ensure_ascii=False)


def answers_from_json(text: str) -> dict[str, str]:
    raw = json.loads(text or "{}")
    return {str(k): str(v) for k, v in raw.items() if k in TEXT_FIELDS}


def holder_name(answers: Mapping[str, str], fallback: str) -> str:
    """The name printed on the pass: the answered first and last names, else the customer's."""
    name = " ".join(v for v in (answers.get("first_name", ""), answers.get("last_name", "")) if v)
    return name or fallback
