"""Sharing one price over several items in whole minor units (a pass over its dates)."""

from __future__ import annotations

from collections.abc import Sequence


def apportion(total_minor: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_minor`` in proportion to ``weights`` by largest remainder: every share is
    the floor of its exact part, and the units left go one each to the largest remainders
    (ties to the earliest item). The shares add up to the total exactly, and no two items of
    equal weight differ by more than one unit, so refunding one date is computable."""
    if total_minor < 0 or not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("a non-negative total over non-negative weights, not all zero")
    whole = sum(weights)
    shares = [total_minor * w // whole for w in weights]
    remainders = [total_minor * w % whole for w in weights]
    left = total_minor - sum(shares)
    order = sorted(range(len(weights)), key=lambda k: (-remainders[k], k))
    for k in order[:left]:
        shares[k] += 1
    return shares
