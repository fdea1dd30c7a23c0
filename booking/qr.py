"""QR codes as images: tickets, passes and their previews all draw them here, alike."""

from __future__ import annotations

import io

import segno

# ISO/IEC 18004 asks for a light margin of 4 modules round the symbol; with less, phone
# cameras and door scanners miss codes shown on a dark screen or printed near other ink.
QUIET_ZONE = 4


def qr_png(text: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()


def qr_svg(text: str, *, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=scale, border=QUIET_ZONE)
    return buffer.getvalue()
