"""Money as people read it and as providers count it: the currency's own minor unit (CLDR,
through Babel) and the locale's pattern. The strings asserted are Babel's real output (a
no-break space U+00A0 before or after the code, a narrow one U+202F between French thousands).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.rules.formatting import (
    currency_code,
    minor_digits,
    money,
    parse_amount,
    plain_amount,
)
from console.payments.stripe import from_stripe, to_stripe

NB = "\u00a0"
NNB = "\u202f"


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "text"),
    [
        (13600, "CHF", "en", f"CHF{NB}136.00"),  # the "CHF 136.00"
        (13600, "CHF", "fr", f"136,00{NB}CHF"),  # the "136,00 CHF"
        (13600, "CHF", "fr-CH", f"136,00{NB}CHF"),  # a Swiss browser reads the French way
        (123450, "EUR", "en", "€1,234.50"),  # a sign symbol stays attached
        (123450, "EUR", "fr", f"1{NNB}234,50{NB}€"),
        (-4500, "CHF", "en", f"-CHF{NB}45.00"),
    ],
)
def test_money_follows_the_locale(minor: int, currency: str, locale: str, text: str) -> None:
    assert money(minor, currency, locale) == text


def test_jpy_has_no_decimals_where_every_amount_used_to_be_divided_by_100() -> None:
    assert minor_digits("JPY") == 0 and minor_digits("CHF") == 2 and minor_digits("EUR") == 2
    assert money(4500, "JPY", "en") == "¥4,500"  # was "¥45"
    assert money(4500, "JPY", "fr") == f"4{NNB}500{NB}JPY"
    assert plain_amount(4500, "JPY") == "4500" and plain_amount(4500, "CHF") == "45.00"
    assert plain_amount(4500, "BHD") == "4.500"  # three decimals


def test_a_typed_price_is_read_in_the_currency_s_minor_unit() -> None:
    assert parse_amount("45,5", "CHF") == 4550
    assert parse_amount("1'250.00", "CHF") == 125000
    assert parse_amount("4500", "JPY") == 4500
    for bad in ("45.5", "abc", "-1", "NaN"):
        with pytest.raises(ValueError):
            parse_amount(bad, "JPY")


def test_only_iso_4217_codes_in_use_are_currencies() -> None:
    assert currency_code(" chf") == "CHF" and currency_code("JPY") == "JPY"
    for code in ("XYZ", "DEM", "XXX", "XTS", "", "CH", "CHFF"):
        assert currency_code(code) is None, code


def test_stripe_amounts_are_stripe_s_minor_units_not_ours_times_100() -> None:
    assert to_stripe(4500, "JPY") == 4500  # ¥4,500: Stripe's JPY is zero-decimal
    assert to_stripe(4500, "CHF") == 4500
    assert to_stripe(500, "ISK") == 50000  # whole krónur for CLDR, two decimals for Stripe
    assert from_stripe(50000, "ISK") == 500 and from_stripe(4500, "JPY") == 4500
    assert from_stripe(50001, "ISK") == 50001  # no rounding into a match with a total


CURRENCIES = st.sampled_from(["CHF", "EUR", "JPY", "BHD", "ISK", "USD", "KRW"])


@given(st.integers(min_value=0, max_value=10**9), CURRENCIES)
def test_an_amount_survives_the_form_and_stripe(minor: int, currency: str) -> None:
    assert parse_amount(plain_amount(minor, currency), currency) == minor
    assert from_stripe(to_stripe(minor, currency), currency) == minor
