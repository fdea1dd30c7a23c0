"""Numbered seats as a person reads a list of them: one line per row, "Stalls · row C · 12, 13,
14", instead of one long "Stalls, row C, seat 12" per seat.

The wizard's seat screens and summary use it; the booking card (``bot.cards``) can pass its
items' ``SeatPlace`` the same way, since both kinds of seat have a section, a row and a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.i18n import _


class NumberedSeat(Protocol):
    @property
    def section(self) -> str: ...

    @property
    def row(self) -> str: ...

    @property
    def number(self) -> int: ...


def seat_lines(seats: Iterable[NumberedSeat]) -> list[str]:
    """One line per section and row, in the order the rows first appear, numbers ascending."""
    rows: dict[tuple[str, str], list[int]] = {}
    for seat in seats:
        rows.setdefault((seat.section, seat.row), []).append(seat.number)
    return [
        _(
            "{section} · row {row} · {numbers}",
            section=section,
            row=row,
            numbers=", ".join(str(n) for n in sorted(numbers)),
        )
        for (section, row), numbers in rows.items()
    ]
