"""Booking states and the moves between them (SPEC §3)."""

from __future__ import annotations

import pytest

from booking.rules import states
from booking.rules.states import CANCELLED, CONFIRMED, EXPIRED, HELD, OVERDUE, can_move

ALL = (HELD, OVERDUE, CONFIRMED, CANCELLED, EXPIRED)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (HELD, CONFIRMED),
        (HELD, CANCELLED),
        (HELD, EXPIRED),
        (HELD, OVERDUE),
        (HELD, HELD),  # a new deadline
        (OVERDUE, HELD),  # the organizer extends
        (OVERDUE, EXPIRED),  # the organizer releases, or the performance starts
        (OVERDUE, CANCELLED),
        (OVERDUE, CONFIRMED),
        (CONFIRMED, CANCELLED),
        (EXPIRED, CONFIRMED),  # a late payment re-instates
        (CANCELLED, CONFIRMED),
    ],
)
def test_allowed_moves(source, target):
    assert can_move(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (CONFIRMED, HELD),
        (CONFIRMED, EXPIRED),
        (CONFIRMED, OVERDUE),
        (EXPIRED, HELD),
        (EXPIRED, OVERDUE),
        (CANCELLED, HELD),
        (CANCELLED, EXPIRED),
        (OVERDUE, OVERDUE),
        ("refunded", HELD),
        (HELD, "refunded"),
    ],
)
def test_refused_moves(source, target):
    assert not can_move(source, target)


def test_every_state_has_its_transitions_declared():
    assert set(states.TRANSITIONS) == set(ALL)
    for targets in states.TRANSITIONS.values():
        assert targets <= set(ALL)


def test_open_bookings_wait_for_payment_and_hold_places():
    assert {HELD, OVERDUE} == states.OPEN
    assert states.OPEN < states.HOLDS_PLACES
    assert CONFIRMED in states.HOLDS_PLACES
    assert not states.CLOSED & states.HOLDS_PLACES
    assert states.OPEN | states.CLOSED | {CONFIRMED} == set(ALL)


def test_closed_bookings_can_only_be_revived_by_a_payment():
    for closed in states.CLOSED:
        assert [t for t in ALL if can_move(closed, t)] == [CONFIRMED]


def test_personal_area_puts_overdue_then_held_then_confirmed_then_closed():
    ranked = sorted([EXPIRED, CONFIRMED, HELD, CANCELLED, OVERDUE], key=states.attention_rank)

    assert ranked[:3] == [OVERDUE, HELD, CONFIRMED]
    assert set(ranked[3:]) == {EXPIRED, CANCELLED}
    assert states.attention_rank(EXPIRED) == states.attention_rank(CANCELLED)


def test_cancel_reasons_include_other():
    assert set(states.CANCEL_REASONS) == {"cannot_attend", "illness", "mistake", "price", "other"}
