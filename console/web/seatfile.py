"""Reading a seat plan from a CSV file of section, block, row, seat (one seat a line).

Whatever a spreadsheet saves is accepted: UTF-8 (with or without BOM) or Windows-1252,
commas or semicolons, a header line or none. Every line is checked before anything is
imported, and every problem is reported with its line number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from booking.services.catalog import SeatSpec
from console.web.labels import N_

MAX_BYTES = 2_000_000
MAX_SEATS = 20_000
HEADERS = ({"section", "block", "row", "seat"}, {"section", "bloc", "rang", "place"})


@dataclass(frozen=True, slots=True)
class SeatFile:
    seats: tuple[SeatSpec, ...]
    # (line, English problem, the other line it refers to): the page translates the words.
    problems: tuple[tuple[int, str, int], ...]


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_seats(data: bytes) -> SeatFile:
    if len(data) > MAX_BYTES:
        return SeatFile((), ((0, N_("The file is too large (2 MB at most)."), 0),))
    text = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    seats: list[SeatSpec] = []
    problems: list[tuple[int, str, int]] = []
    seen: dict[tuple[str, str, int], int] = {}
    for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if number == 1 and {c.lower() for c in cells} in HEADERS:
            continue
        problem = _problem(cells)
        if problem is not None:
            problems.append((number, problem, 0))
            continue
        section, block, row, seat = cells
        key = (section, row, int(seat))
        if key in seen:
            problems.append((number, N_("the same seat as line {other}"), seen[key]))
            continue
        seen[key] = number
        seats.append(SeatSpec(section=section, block=block, row=row, number=int(seat)))
    if not seats and not problems:
        problems.append((0, N_("The file has no seats."), 0))
    if len(seats) > MAX_SEATS:
        problems.append((0, N_("Too many seats in one file (20,000 at most)."), 0))
    return SeatFile(tuple(seats), tuple(problems[:50]))


def _problem(cells: list[str]) -> str | None:
    if len(cells) != 4:
        return N_("expected 4 columns: section, block, row, seat")
    section, block, row, seat = cells
    if not section or not row:
        return N_("section and row cannot be empty")
    if len(section) > 40 or len(block) > 40 or len(row) > 10:
        return N_("a value is too long")
    if not seat.isdigit() or not 0 < int(seat) < 100_000:
        return N_("the seat must be a number")
    return None
