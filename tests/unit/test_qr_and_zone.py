"""Ticket QR codes keep the standard quiet zone, and times name the place a person reads
(issue 11, points 25 and 26)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import zxingcpp
from PIL import Image

from booking.qr import QUIET_ZONE, qr_png
from booking.rules.formatting import when
from booking.services.tickets import ticket_url

URL = ticket_url("https://tickets.example", "T" * 43)  # a ticket secret is 43 characters


def test_the_qr_code_has_four_light_modules_round_it_and_reads_back() -> None:
    scale = 8
    image = Image.open(io.BytesIO(qr_png(URL, scale=scale))).convert("L")
    assert QUIET_ZONE == 4  # ISO/IEC 18004
    margin = QUIET_ZONE * scale
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    border = [
        pixels[x, y]
        for x in range(width)
        for y in range(height)
        if x < margin or y < margin or x >= width - margin or y >= height - margin
    ]
    assert set(border) == {255}, "the quiet zone is not all light"
    # The first dark module (the finder pattern's corner) starts right after the margin.
    assert pixels[margin, margin] == 0 and pixels[margin - 1, margin - 1] == 255
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == URL == "https://tickets.example/t/" + "T" * 43


@pytest.mark.parametrize(
    ("timezone", "locale", "place"),
    [
        ("Europe/Zurich", "en", "(Switzerland Time)"),
        ("Europe/Zurich", "fr", "(heure : Suisse)"),
        ("America/New_York", "en", "(United States (New York) Time)"),
    ],
)
def test_a_time_names_its_place_not_the_tz_database(timezone: str, locale: str, place: str) -> None:
    text = when(datetime(2026, 12, 24, 22, 59, tzinfo=UTC), timezone, locale)
    assert text.endswith(place), text
    assert "/" not in text  # never "Europe/Zurich"
