"""Plurals go through ngettext: French plural entries survive the merge and the in-memory
compile, every ngettext call has both French forms with the same placeholders, and the words
of seats, states and system actors come from the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from booking.actors import SYSTEM_NAMES, Actor, actor_label
from booking.errors import BookingError
from booking.i18n import (
    PluralFormsMismatch,
    compile_catalog,
    error_text,
    ngettext_for,
    status_word,
    translations,
)
from booking.notices import PASS_PLURAL_BODIES, PLURAL_BODIES
from booking.views import SeatPlace

ROOT = Path(__file__).resolve().parents[2]
FRENCH = ROOT / "booking" / "locales" / "fr" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)[sd]")


def french_plurals() -> list[tuple[str, str, str, str]]:
    """(file, singular, plural, French singular, French plural) of every plural entry."""
    found = []
    for path in sorted(FRENCH.glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale="fr"):
                if message.pluralizable and message.id[0]:
                    found.append((message.id[0], message.id[1], *message.string))
    return found


def ngettext_calls() -> set[tuple[str, str]]:
    """(singular, plural) of every ngettext() in templates and in the Python adapters, and of
    the core's plural notice bodies."""
    calls: set[tuple[str, str]] = {*PLURAL_BODIES.values(), *PASS_PLURAL_BODIES.values()}
    options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "1"}
    for path in (ROOT / "templates").rglob("*"):
        if path.is_file():
            with path.open("rb") as template:
                for _, _func, message, _ in babel_extract(template, ("ngettext",), [], options):
                    calls.add((message[0], message[1]))
    for package in ("bot", "mail", "console"):
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT / package),
            method_map=[("**.py", "python")],
            keywords={"ngettext": (1, 2), "plural": (2, 3), "ngettext_for": (2, 3)},
        ):
            if isinstance(message, tuple) and all(message[:2]):
                calls.add((message[0], message[1]))
    return calls


def test_plural_entries_survive_the_merge_and_compile() -> None:
    plurals = french_plurals()
    assert len(plurals) >= 6  # console, mail, bot and the core each have some
    french = translations("fr")
    for singular, plural, one, many in plurals:
        assert french.ngettext(singular, plural, 1) == one
        assert french.ngettext(singular, plural, 0) == one  # French: 0 is singular
        assert french.ngettext(singular, plural, 2) == many
        assert french.ngettext(singular, plural, 1_000_000) == many


def test_every_ngettext_call_has_both_french_forms_with_the_same_placeholders() -> None:
    calls = ngettext_calls()
    assert ("%(num)d place", "%(num)d places") in calls  # the extraction itself works
    assert ("{n} hold", "{n} holds") in calls
    entries = {(s, p): (one, many) for s, p, one, many in french_plurals()}
    missing = sorted(call for call in calls if call not in entries)
    assert not missing, f"no French plural entry for {missing}"
    for (singular, plural), (one, many) in entries.items():
        assert sorted(PLACEHOLDER.findall(one)) == sorted(PLACEHOLDER.findall(singular))
        assert sorted(PLACEHOLDER.findall(many)) == sorted(PLACEHOLDER.findall(plural))


def test_ngettext_for_picks_the_form_of_each_language() -> None:
    forms = ("{n} hold", "{n} holds")
    assert ngettext_for("en", *forms, 1) == "{n} hold"
    assert ngettext_for("en", *forms, 0) == "{n} holds"
    assert ngettext_for("fr", *forms, 0) == "{n} option"
    assert ngettext_for("fr-CH", *forms, 3) == "{n} options"


def test_a_plural_entry_with_the_wrong_number_of_forms_is_refused(tmp_path: Path) -> None:
    """A form left out would make ngettext show an empty string for those numbers."""
    po = tmp_path / "broken.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "un"\n'
    )
    with pytest.raises(PluralFormsMismatch):
        compile_catalog([po], "fr")


def test_seats_states_and_system_actors_read_in_french() -> None:
    seat = SeatPlace(section="Parterre", row="C", number=12)
    assert seat.label("en") == "Parterre · row C · seat 12"
    assert seat.label("fr") == "Parterre · rang C · place 12"
    assert status_word("fr", "cancelled") == "annulée"
    refusal = BookingError("not_held", reference="ABC-DEF", status="overdue")
    assert error_text(refusal, "fr").startswith("La réservation ABC-DEF est en retard")
    assert error_text(refusal, "en").startswith("Booking ABC-DEF is overdue")
    assert actor_label("system", "release job", "fr") == "Libération automatique"
    assert actor_label("system", "release job", "en") == "Automatic release"
    assert actor_label("system", "something new", "fr") == "Système"
    assert actor_label("staff", "Marie Curie", "fr") == "Marie Curie"


def test_every_system_actor_in_the_code_has_words() -> None:
    """``Actor.system("…")`` anywhere in the code is a key of SYSTEM_NAMES, with French."""
    call = re.compile(r'Actor\.system\(\s*"([^"]+)"')
    used = {
        name
        for package in ("booking", "bot", "mail", "console", "scheduler")
        for path in (ROOT / package).rglob("*.py")
        for name in call.findall(path.read_text())
    }
    assert "release job" in used
    assert used <= set(SYSTEM_NAMES) | {"scheduler"}, used - set(SYSTEM_NAMES)
    for name in {*SYSTEM_NAMES, Actor.system().name}:
        assert actor_label("system", name, "fr") != actor_label("system", name, "en"), name


def test_the_bot_shows_seats_in_the_language_of_the_update() -> None:
    from datetime import UTC, datetime

    from booking.views import BookingView, ItemView
    from bot.cards import items_lines
    from bot.i18n import ngettext, use_locale

    seat = SeatPlace(section="Parterre", row="A", number=5)
    start = datetime(2026, 12, 23, 19, 30, tzinfo=UTC)
    booking = BookingView(
        1, "ABC-DEF", "held", False, 1, None, "telegram", start, start, "Concert", "UTC",
        6500, "CHF", False, (ItemView(1, 1, 1, "Assis", 6500, seat),),
    )  # fmt: skip
    with use_locale("fr"):
        assert items_lines(booking) == ["1 × Assis", "  · Parterre · rang A · 5"]  # issue 11
        invoice = ngettext(
            "Booking {reference} · {date} · {n} place",
            "Booking {reference} · {date} · {n} places",
            1,
            reference="ABC-DEF",
            date="mer.",
        )
        assert invoice == "Réservation ABC-DEF · mer. · 1 place"
    with use_locale("en"):
        assert items_lines(booking)[1] == "  · Parterre · row A · 5"
