"""Folding and phone reading behind the one search (booking.rules.search_keys): pure."""

from __future__ import annotations

import pytest

from booking.rules.search_keys import fold, phone_prefixes, phone_tokens, query_terms, search_key


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Téléphone", "telephone"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("Æsir", "aesir"),
        ("Øre", "ore"),
        ("Işıl", "isil"),
        ("İstanbul", "istanbul"),
        ("Łódź", "lodz"),
        ("Dœuvre", "doeuvre"),
        ("Đorđe", "dorde"),
        ("ﬁlm", "film"),  # a ligature
        ("  two   spaces ", "two spaces"),
    ],
)
def test_fold(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@pytest.mark.parametrize(
    "typed",
    [
        "+41 79 123 45 67",
        "079 123 45 67",
        "0041 79 123 45 67",
        "0791234567",
        "+41 (0)79 123 45 67",
        "079/123.45.67",
        "079-123-45-67",
    ],
)
def test_every_common_form_of_a_swiss_mobile_reads_as_one_number(typed: str) -> None:
    assert "+41791234567" in phone_prefixes(typed)
    assert phone_tokens(typed)[0] == "+41791234567"


def test_a_part_of_a_number_is_a_prefix_of_its_digits() -> None:
    assert phone_prefixes("079 123") == {"079123"}
    assert phone_prefixes("+41 79 1") == {"+41791"}
    assert phone_prefixes("0041 79") == {"+4179"}
    assert phone_prefixes("12") == frozenset()  # too short to be read as a number
    assert phone_prefixes("jeanne") == frozenset()


def test_the_key_holds_name_words_email_and_phone() -> None:
    key = search_key("Jeanne Téléphone", "Jeanne.PH@example.org", "079 123 45 67").split()
    assert key == ["jeanne", "telephone", "jeanne.ph@example.org", "+41791234567", "0791234567"]


def test_a_name_cannot_flood_the_index() -> None:
    assert len(search_key(" ".join(f"w{i}" for i in range(100)), None, "").split()) <= 64


def test_a_typed_word_is_read_for_an_email_and_for_a_name() -> None:
    assert query_terms("Jeanne.Ph").words == (frozenset({"jeanne.ph", "jeanneph"}),)
    assert query_terms("o'brien").words == (frozenset({"o'brien", "obrien"}),)
    assert query_terms("% _ -").empty
