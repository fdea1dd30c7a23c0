"""Plus-address reply tokens: round trip, tamper detection, size limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail.tokens import (
    MAX_LOCAL_PART,
    MAX_TOKEN_LENGTH,
    TokenClaims,
    make_reply_token,
    read_reply_token,
    reply_address,
)

SECRET = b"test-secret-not-for-production"
B32 = "abcdefghijklmnopqrstuvwxyz234567"
refs = st.from_regex(r"[A-Z0-9]{3}-[A-Z0-9]{3}", fullmatch=True)
customer_ids = st.integers(min_value=0, max_value=2**40)


@given(refs, customer_ids)
def test_token_round_trips_to_the_same_booking_and_customer(ref: str, customer_id: int) -> None:
    token = make_reply_token(SECRET, ref, customer_id)
    assert read_reply_token(SECRET, token) == TokenClaims(ref, customer_id)


@given(refs, customer_ids)
def test_token_is_lowercase_base32_and_fits_the_local_part(ref: str, customer_id: int) -> None:
    token = make_reply_token(SECRET, ref, customer_id)
    assert set(token) <= set(B32)
    assert "=" not in token
    assert len(token) <= MAX_TOKEN_LENGTH
    assert len(f"booking+{token}") <= MAX_LOCAL_PART


@given(refs, customer_ids)
def test_token_survives_mail_systems_that_change_letter_case(ref: str, customer_id: int) -> None:
    token = make_reply_token(SECRET, ref, customer_id)
    assert read_reply_token(SECRET, token.upper()) == TokenClaims(ref, customer_id)
    assert read_reply_token(SECRET, f"  {token.title()} ") == TokenClaims(ref, customer_id)


@given(refs, customer_ids, st.data())
def test_any_single_changed_character_is_rejected(
    ref: str, customer_id: int, data: st.DataObject
) -> None:
    token = make_reply_token(SECRET, ref, customer_id)
    index = data.draw(st.integers(0, len(token) - 1), label="index")
    replacement = data.draw(st.sampled_from(B32.replace(token[index], "")), label="char")
    forged = token[:index] + replacement + token[index + 1 :]
    assert read_reply_token(SECRET, forged) is None


@given(refs, customer_ids)
def test_token_signed_with_another_secret_is_rejected(ref: str, customer_id: int) -> None:
    token = make_reply_token(b"someone-else's-secret", ref, customer_id)
    assert read_reply_token(SECRET, token) is None


@given(refs, customer_ids)
def test_truncated_or_extended_token_is_rejected(ref: str, customer_id: int) -> None:
    token = make_reply_token(SECRET, ref, customer_id)
    assert read_reply_token(SECRET, token[:-1]) is None
    assert read_reply_token(SECRET, token + "a") is None
    assert read_reply_token(SECRET, token[1:]) is None


@given(st.text(max_size=80))
def test_arbitrary_text_is_never_read_as_a_token(text: str) -> None:
    assert read_reply_token(SECRET, text) is None


@pytest.mark.parametrize(
    "junk", ["", "=", "a", "abc", "ABCDEFGH========", "desk", "0189", "é" * 16]
)
def test_malformed_tokens_are_rejected(junk: str) -> None:
    assert read_reply_token(SECRET, junk) is None


def test_empty_secret_reads_nothing() -> None:
    token = make_reply_token(SECRET, "K7M-4QX", 1042)
    assert read_reply_token(b"", token) is None


def test_longest_reference_that_fits_is_accepted_and_one_more_character_refused() -> None:
    longest = "R" * 23  # 24 payload bytes with a one-byte customer id
    token = make_reply_token(SECRET, longest, 5)
    assert len(token) == MAX_TOKEN_LENGTH
    assert read_reply_token(SECRET, token) == TokenClaims(longest, 5)
    with pytest.raises(ValueError, match="too long"):
        make_reply_token(SECRET, longest + "R", 5)


@pytest.mark.parametrize(
    ("secret", "ref", "customer_id"),
    [(b"", "K7M-4QX", 1), (SECRET, "", 1), (SECRET, "K7M 4QX", 1), (SECRET, "RÉF", 1),
     (SECRET, "K7M-4QX", -1)],
)  # fmt: skip
def test_bad_token_inputs_are_programming_errors(secret: bytes, ref: str, customer_id: int) -> None:
    with pytest.raises(ValueError):
        make_reply_token(secret, ref, customer_id)


def test_reply_address_puts_the_token_in_the_plus_part() -> None:
    token = make_reply_token(SECRET, "K7M-4QX", 1042)
    address = reply_address("desk@venue.example", token)
    assert address == f"desk+{token}@venue.example"
    local, _, _ = address.partition("@")
    assert read_reply_token(SECRET, local.partition("+")[2]) == TokenClaims("K7M-4QX", 1042)


@pytest.mark.parametrize(
    "mailbox", ["desk", "@venue.example", "desk@", "desk+old@venue.example", "d" * 40 + "@x.org"]
)
def test_reply_address_refuses_mailboxes_it_cannot_extend(mailbox: str) -> None:
    token = make_reply_token(SECRET, "K7M-4QX", 1042)
    with pytest.raises(ValueError):
        reply_address(mailbox, token)


def test_reply_address_refuses_what_is_not_a_token() -> None:
    with pytest.raises(ValueError):
        reply_address("desk@venue.example", "Not A Token")
