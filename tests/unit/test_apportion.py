"""The pure rules of a pass sale: the price shared over its dates, the holder's answers."""

from __future__ import annotations

from datetime import date

import pytest

from booking.errors import BookingError
from booking.rules import pass_products
from booking.rules.apportion import apportion
from booking.rules.pass_holders import check_answers, holder_name

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (24_001, [1] * 5, [4801, 4800, 4800, 4800, 4800]),
        (10_000, [1, 1, 1], [3334, 3333, 3333]),
        (100, [1, 2, 1], [25, 50, 25]),
        (5, [3, 3, 1], [2, 2, 1]),  # remainders 15/7, 15/7, 5/7: the two largest get one
        (2, [1, 1, 1], [1, 1, 0]),  # ties go to the earliest item
        (0, [1, 1], [0, 0]),
        (7, [0, 1], [0, 7]),
    ],
)
def test_shares_add_up_and_follow_the_largest_remainders(
    total: int, weights: list[int], shares: list[int]
) -> None:
    assert apportion(total, weights) == shares
    assert sum(shares) == total


def test_equal_weights_never_differ_by_more_than_one_unit() -> None:
    for total in range(0, 500, 7):
        for n in range(1, 12):
            got = apportion(total, [1] * n)
            assert sum(got) == total and max(got) - min(got) <= 1


@pytest.mark.parametrize(("total", "weights"), [(-1, [1]), (10, []), (10, [0, 0]), (10, [1, -1])])
def test_nonsense_is_refused(total: int, weights: list[int]) -> None:
    with pytest.raises(ValueError):
        apportion(total, weights)


MODES = pass_products.holder_fields(
    {"first_name": "required", "email": "optional", "mobile": "optional", "photo": "required"}
)


def test_answers_keep_only_asked_non_empty_fields_trimmed() -> None:
    kept = check_answers(MODES, {"first_name": "  Camille \n", "email": ""}, today=TODAY)
    assert kept == {"first_name": "Camille"}  # the photo is a file, asked elsewhere


@pytest.mark.parametrize(
    ("answers", "code", "field"),
    [
        ({}, "holder_field_required", "holder_first_name"),
        ({"first_name": "   "}, "holder_field_required", "holder_first_name"),
        ({"first_name": "C", "company": "X"}, "bad_value", "holder_company"),
        ({"first_name": "C", "email": "nope"}, "invalid_email", "holder_email"),
        ({"first_name": "C", "mobile": "call me"}, "bad_mobile", "holder_mobile"),
        ({"first_name": "C" * 121}, "too_long", "holder_first_name"),
    ],
)
def test_bad_answers_are_refused_by_field(answers: dict[str, str], code: str, field: str) -> None:
    with pytest.raises(BookingError) as caught:
        check_answers(MODES, answers, today=TODAY)
    assert (caught.value.code, caught.value.params["field"]) == (code, field)


@pytest.mark.parametrize("born", ["1990-13-01", "27.04.1990", "2027-01-01", "1899-12-31"])
def test_birth_dates_are_real_past_dates(born: str) -> None:
    modes = pass_products.holder_fields({"birth_date": "optional"})
    with pytest.raises(BookingError) as caught:
        check_answers(modes, {"birth_date": born}, today=TODAY)
    assert caught.value.code == "bad_birth_date"
    assert check_answers(modes, {"birth_date": "1990-04-27"}, today=TODAY) == {
        "birth_date": "1990-04-27"
    }


def test_the_printed_name_is_the_holders_else_the_customers() -> None:
    assert holder_name({"first_name": "Léa", "last_name": "Roux"}, "Ana") == "Léa Roux"
    assert holder_name({"last_name": "Roux"}, "Ana") == "Roux"
    assert holder_name({}, "Ana Test") == "Ana Test"
