"""The pure rules of a pass product (booking.rules.pass_products), without a database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from booking.errors import BookingError
from booking.rules import pass_products as rules
from booking.rules.pass_products import PassProductSettings
from booking.services import catalog, customers


def settings(**changes: object) -> PassProductSettings:
    base = PassProductSettings(
        season_id=1,
        name="  Abonnement  ",
        price_minor=18000,
        currency="chf",
        customer_types=("b2b", "individual"),
        buy_channels=("console", "telegram"),
        seating="fixed_seat",
        area_id=2,
        includes="automatic",
        choice_count=None,
        event_ids=(5, 3, 5),
        holder_fields=rules.holder_fields({"first_name": "required", "photo": "optional"}),
        accent_colour=" #1F4E79 ",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def code_of(s: PassProductSettings) -> tuple[str, object]:
    with pytest.raises(BookingError) as refused:
        rules.check(s)
    return refused.value.code, refused.value.params.get("field")


def test_check_normalizes_what_is_stored() -> None:
    s = rules.check(settings())
    assert s.name == "Abonnement"
    assert s.currency == "CHF"
    assert s.accent_colour == "#1f4e79"
    assert s.event_ids == (3, 5)
    assert s.customer_types == ("individual", "b2b")  # the vocabulary's order
    assert s.buy_channels == ("telegram", "console")
    assert s.mode("first_name") == "required" and s.mode("company") == "off"


def test_the_vocabularies_are_the_tariffs() -> None:
    assert rules.CHANNELS == catalog.CHANNELS
    assert rules.CUSTOMER_TYPES == customers.CUSTOMER_TYPES


@pytest.mark.parametrize(
    "colour", ["1f4e79", "#1f4e7", "#1f4e79a", "#gggggg", "red", "", "#1f4e79;"]
)
def test_accent_colour_is_exactly_rrggbb(colour: str) -> None:
    assert code_of(settings(accent_colour=colour)) == ("bad_accent_colour", "accent_colour")


def test_automatic_needs_events_and_no_count() -> None:
    assert code_of(settings(event_ids=())) == ("pass_needs_events", "event_ids")
    assert rules.check(settings(choice_count=4)).choice_count is None


@pytest.mark.parametrize("count", [None, 0, -1, rules.CHOICE_MAX + 1])
def test_choice_needs_a_count_in_range(count: int | None) -> None:
    assert code_of(settings(includes="choice", choice_count=count)) == (
        "bad_choice_count",
        "choice_count",
    )


def test_choice_may_leave_the_events_open() -> None:
    s = rules.check(settings(includes="choice", choice_count=6, event_ids=()))
    assert (s.choice_count, s.event_ids) == (6, ())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"price_minor": -1}, "price_minor"),
        ({"customer_types": ("vip",)}, "customer_types"),
        ({"buy_channels": ("fax",)}, "buy_channels"),
        ({"seating": "standing"}, "seating"),
        ({"includes": "some"}, "includes"),
    ],
)
def test_unknown_values_name_their_field(change: dict[str, object], field: str) -> None:
    assert code_of(settings(**change)) == ("bad_value", field)


def test_too_long_texts_are_refused_with_their_length() -> None:
    assert code_of(settings(name="x" * 81)) == ("too_long", "name")
    assert code_of(settings(note="x" * 201)) == ("too_long", "note")


def test_holder_fields_vocabulary_and_modes() -> None:
    with pytest.raises(BookingError):
        rules.holder_fields({"shoe_size": "optional"})
    with pytest.raises(BookingError):
        rules.holder_fields({"email": "maybe"})
    every = rules.holder_fields({})
    assert [name for name, _ in every] == list(rules.HOLDER_FIELDS)
    assert {mode for _, mode in every} == {"off"}


def test_the_free_field_needs_a_label_when_asked() -> None:
    asked = rules.holder_fields({"free": "optional"})
    assert code_of(settings(holder_fields=asked)) == (
        "free_field_label_required",
        "free_field_label",
    )
    s = rules.check(settings(holder_fields=asked, free_field_label=" Member no. "))
    assert s.free_field_label == "Member no."
    # Off, its label is dropped: nothing asks for it.
    assert rules.check(settings(free_field_label="Member no.")).free_field_label == ""


def test_holder_fields_json_round_trip_keeps_only_what_is_asked() -> None:
    fields = rules.holder_fields({"email": "required", "photo": "optional"})
    text = rules.holder_fields_json(fields)
    assert text == '{"email": "required", "photo": "optional"}'
    assert rules.holder_fields_from_json(text) == fields
    with pytest.raises(BookingError):
        rules.holder_fields_from_json('["email"]')


def test_fingerprint_changes_with_any_setting() -> None:
    s = rules.check(settings())
    assert rules.fingerprint(s) == rules.fingerprint(rules.check(settings()))
    assert rules.fingerprint(s) != rules.fingerprint(replace(s, note="x"))
    assert rules.fingerprint(s) != rules.fingerprint(replace(s, event_ids=(3,)))
