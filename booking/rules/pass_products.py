"""What a season pass product may be: pure checks, no database (SPEC §9 "Pass products").

A product is checked here as plain values; the service adds what needs the database (the
season, the area's kind and venue, the events' venue and season, a unique name).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from booking.errors import BookingError

CHANNELS = ("telegram", "email", "console", "import")  # as Tariff.buy_channels
CUSTOMER_TYPES = ("individual", "group", "b2b")  # as Tariff.customer_types
SEATINGS = ("fixed_seat", "ga")  # a numbered area's seat, or general admission
AREA_KIND = {"fixed_seat": "seated", "ga": "ga"}  # Area.kind each seating needs
INCLUDES = ("automatic", "choice")
# The holder fields a product may ask, in the order a purchase asks them.
HOLDER_FIELDS = (
    "title",
    "first_name",
    "last_name",
    "company",
    "email",
    "address",
    "postcode",
    "mobile",
    "birth_date",
    "photo",
    "free",
)
FIELD_MODES = ("off", "optional", "required")
NAME_MAX = 80
NOTE_MAX = 200  # fits under the QR of the A4 page and on a phone card
FREE_LABEL_MAX = 60
CHOICE_MAX = 500  # performances a holder may pick: above any season's count
PRICE_MAX = 100_000_000  # minor units: a million in a two-decimal currency
_COLOUR = re.compile(r"#[0-9a-f]{6}")


@dataclass(frozen=True, slots=True)
class PassProductSettings:
    """Everything an organizer sets on a pass product."""

    season_id: int
    name: str
    price_minor: int  # in the minor unit of ``currency``
    currency: str  # ISO 4217, checked as events' currency is
    customer_types: tuple[str, ...]
    buy_channels: tuple[str, ...]
    seating: str  # "fixed_seat" | "ga"
    area_id: int
    includes: str  # "automatic" | "choice"
    choice_count: int | None  # "choice": how many performances the holder picks
    event_ids: tuple[int, ...]  # automatic: included; choice: allowed (empty: any of the season)
    holder_fields: tuple[tuple[str, str], ...]  # (field, mode) for every HOLDER_FIELDS entry
    free_field_label: str = ""
    accent_colour: str = "#1f4e79"
    note: str = ""
    active: bool = True

    def mode(self, name: str) -> str:
        return dict(self.holder_fields).get(name, "off")


def holder_fields(modes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Every holder field with its mode, in the canonical order; unnamed fields are off."""
    unknown = set(modes) - set(HOLDER_FIELDS)
    if unknown:
        raise BookingError("bad_value", field="holder_fields")
    for mode in modes.values():
        if mode not in FIELD_MODES:
            raise BookingError("bad_value", field="holder_fields")
    return tuple((name, modes.get(name, "off")) for name in HOLDER_FIELDS)


def holder_fields_json(fields_: tuple[tuple[str, str], ...]) -> str:
    """The stored form: only the fields asked, so a field added to the vocabulary later reads
    as "off" in every existing product."""
    return json.dumps({k: v for k, v in fields_ if v != "off"}, sort_keys=True)


def holder_fields_from_json(text: str) -> tuple[tuple[str, str], ...]:
    raw = json.loads(text or "{}")
    if not isinstance(raw, dict):
        raise BookingError("bad_value", field="holder_fields")
    return holder_fields({str(k): str(v) for k, v in raw.items()})


def accent_colour(text: str) -> str:
    """'#1F4E79 ' -> '#1f4e79'; anything else is refused (it lands in a PDF and an SVG
    attribute, so only this exact shape is ever stored)."""
    colour = text.strip().lower()
    if not _COLOUR.fullmatch(colour):
        raise BookingError("bad_accent_colour", field="accent_colour")
    return colour


def check(settings: PassProductSettings) -> PassProductSettings:
    """The settings as stored (trimmed, normalized), or BookingError naming the field."""
    name = settings.name.strip()
    if not name:
        raise BookingError("bad_value", field="name")
    if len(name) > NAME_MAX:
        raise BookingError("too_long", length=len(name), max=NAME_MAX, field="name")
    if not 0 <= settings.price_minor <= PRICE_MAX:
        raise BookingError("bad_value", field="price_minor")
    if not set(settings.customer_types) <= set(CUSTOMER_TYPES):
        raise BookingError("bad_value", field="customer_types")
    if not set(settings.buy_channels) <= set(CHANNELS):
        raise BookingError("bad_value", field="buy_channels")
    if settings.seating not in SEATINGS:
        raise BookingError("bad_value", field="seating")
    if settings.includes not in INCLUDES:
        raise BookingError("bad_value", field="includes")
    events = tuple(sorted(set(settings.event_ids)))
    choice_count = _choice_count(settings.includes, settings.choice_count, events)
    fields_ = holder_fields(dict(settings.holder_fields))
    free_label = settings.free_field_label.strip()
    if dict(fields_)["free"] != "off" and not free_label:
        raise BookingError("free_field_label_required", field="free_field_label")
    if len(free_label) > FREE_LABEL_MAX:
        raise BookingError(
            "too_long", length=len(free_label), max=FREE_LABEL_MAX, field="free_field_label"
        )
    note = settings.note.strip()
    if len(note) > NOTE_MAX:
        raise BookingError("too_long", length=len(note), max=NOTE_MAX, field="note")
    return PassProductSettings(
        season_id=settings.season_id,
        name=name,
        price_minor=settings.price_minor,
        currency=settings.currency.strip().upper(),
        customer_types=tuple(t for t in CUSTOMER_TYPES if t in settings.customer_types),
        buy_channels=tuple(c for c in CHANNELS if c in settings.buy_channels),
        seating=settings.seating,
        area_id=settings.area_id,
        includes=settings.includes,
        choice_count=choice_count,
        event_ids=events,
        holder_fields=fields_,
        free_field_label=free_label if dict(fields_)["free"] != "off" else "",
        accent_colour=accent_colour(settings.accent_colour),
        note=note,
        active=settings.active,
    )


def _choice_count(includes: str, count: int | None, events: tuple[int, ...]) -> int | None:
    """Automatic passes include every performance of at least one event; a pass with choice
    lets the holder pick 1..CHOICE_MAX performances (of the listed events, or any)."""
    if includes == "automatic":
        if not events:
            raise BookingError("pass_needs_events", field="event_ids")
        return None
    if count is None or not 1 <= count <= CHOICE_MAX:
        raise BookingError("bad_choice_count", max=CHOICE_MAX, field="choice_count")
    return count


def fingerprint(settings: PassProductSettings) -> str:
    """The version an edit form carries: a save is refused when the stored product's
    fingerprint is no longer the one the form was made from."""
    parts = tuple(getattr(settings, f.name) for f in fields(settings))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
