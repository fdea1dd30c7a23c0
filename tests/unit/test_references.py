"""Booking references a person can read aloud: ``K7M-4QX``."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.rules.references import ALPHABET, new_reference, normalize_reference

REFERENCE = re.compile(r"^[A-Z2-9]{3}-[A-Z2-9]{3}$")


def test_alphabet_has_no_characters_that_look_alike():
    for ambiguous in "0O1IL":
        assert ambiguous not in ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert ALPHABET.upper() == ALPHABET


def test_new_reference_is_three_and_three_characters_of_the_alphabet():
    for _ in range(200):
        reference = new_reference()
        assert REFERENCE.match(reference)
        assert set(reference.replace("-", "")) <= set(ALPHABET)


def test_new_references_differ():
    assert len({new_reference() for _ in range(500)}) > 490


@pytest.mark.parametrize("typed", ["k7m 4qx", "K7M4QX", " K7M-4QX ", "k7m_4qx", "k7m.4qx"])
def test_normalize_reads_what_a_person_typed(typed):
    assert normalize_reference(typed) == "K7M-4QX"


@pytest.mark.parametrize(
    "typed", ["", "K7M-4Q", "K7M-4QXX", "KOM-4QX", "K1M-4QX", "K7M-4QX-2", "PAY", "K7M/4QX"]
)
def test_normalize_refuses_what_is_not_a_reference(typed):
    assert normalize_reference(typed) is None


@given(st.data())
def test_new_reference_always_normalizes_to_itself(data):
    reference = new_reference()
    assert normalize_reference(reference) == reference
    # however it is typed back: lower case, spaces or nothing between the halves
    separator = data.draw(st.sampled_from(["", " ", "-", "  "]))
    typed = reference.replace("-", separator)
    typed = typed.lower() if data.draw(st.booleans()) else typed
    assert normalize_reference(typed) == reference


@given(st.text(alphabet=ALPHABET, min_size=6, max_size=6))
def test_any_six_characters_of_the_alphabet_are_a_reference(chars):
    assert normalize_reference(chars) == f"{chars[:3]}-{chars[3:]}"


@given(st.text(max_size=12))
def test_normalize_is_idempotent(text):
    normalized = normalize_reference(text)
    if normalized is not None:
        assert REFERENCE.match(normalized)
        assert normalize_reference(normalized) == normalized
