"""Booking states and the transitions between them (SPEC §3)."""

from __future__ import annotations

from typing import Final

HELD: Final = "held"
OVERDUE: Final = "overdue"
CONFIRMED: Final = "confirmed"
CANCELLED: Final = "cancelled"
EXPIRED: Final = "expired"

# Places are taken (gauge decremented, seats claimed) in these states only.
HOLDS_PLACES: Final = frozenset({HELD, OVERDUE, CONFIRMED})
OPEN: Final = frozenset({HELD, OVERDUE})  # waiting for payment
CLOSED: Final = frozenset({CANCELLED, EXPIRED})

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    HELD: frozenset({CONFIRMED, CANCELLED, EXPIRED, OVERDUE, HELD}),
    OVERDUE: frozenset({HELD, EXPIRED, CANCELLED, CONFIRMED}),
    CONFIRMED: frozenset({CANCELLED}),
    # A late payment re-instates a closed hold when its places are still free.
    EXPIRED: frozenset({CONFIRMED}),
    CANCELLED: frozenset({CONFIRMED}),
}

CANCEL_REASONS: Final = ("cannot_attend", "illness", "mistake", "price", "other")


def can_move(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, frozenset())


def attention_rank(status: str) -> int:
    """Personal area order: what needs the customer first (overdue, then held), then the rest."""
    return {OVERDUE: 0, HELD: 1, CONFIRMED: 2}.get(status, 3)
