"""A booking's places as a person counts them: "2 × Plein tarif", not one line per place.

Items of the same ticket type at the same price make one line, in the order they were
booked, with their seats (numbered areas) kept in that line. Every channel (the pay page,
the emails, the chat) shows a booking through these lines, so they all count alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from booking.views import ItemView, SeatPlace


@dataclass(frozen=True, slots=True)
class ItemLine:
    count: int
    tariff: str
    unit_price_minor: int
    seats: tuple[SeatPlace, ...]

    @property
    def total_minor(self) -> int:
        return self.count * self.unit_price_minor


def item_lines(items: Sequence[ItemView]) -> list[ItemLine]:
    grouped: dict[tuple[str, int], list[ItemView]] = {}
    for item in items:
        grouped.setdefault((item.tariff_name, item.price_minor), []).append(item)
    return [
        ItemLine(
            count=len(group),
            tariff=tariff,
            unit_price_minor=price,
            seats=tuple(i.seat for i in group if i.seat is not None),
        )
        for (tariff, price), group in grouped.items()
    ]
