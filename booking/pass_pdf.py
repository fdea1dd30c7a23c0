"""A season pass as an A4 PDF (fpdf2: maintained, pure Python, no system library).

``render`` takes plain values only, so the console's preview of a product and the real passes
(mailed to their holder) print the same page. The page: an accent band with the product and
the season, the holder's photo (or a drawn placeholder) and name, the seat, the pass code, the
QR of ``PUBLIC_URL/t/<secret>`` with its 4-module quiet zone, and the organizer's note.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from fpdf import FPDF

from booking.i18n import N_, gettext_for
from booking.qr import qr_png

PAGE_W = 210.0  # A4, millimetres
MARGIN = 18.0
BAND_H = 46.0
QR_MM = 70.0  # about 2 mm a module for a short URL: read from a phone or a door scanner
PHOTO_W, PHOTO_H = 38.0, 48.0

SEASON_PASS = N_("Season pass")
HOLDER = N_("Holder")
SEAT = N_("Seat")
PASS_CODE = N_("Pass code")
SHOW_AT_DOOR = N_("Show this code at the door, printed or on your phone.")


@dataclass(frozen=True, slots=True)
class PassPage:
    product_name: str
    season_name: str
    holder_name: str
    seat: str  # "Balcon A 7", or the general-admission area's name
    pass_code: str
    qr_url: str  # PUBLIC_URL/t/<secret>
    accent_colour: str  # "#rrggbb", checked by booking.rules.pass_products
    note: str = ""
    photo: bytes | None = None  # JPEG or PNG; None draws a placeholder
    language: str = "en"


def render(page: PassPage) -> bytes:
    def _(message: str) -> str:
        return gettext_for(page.language, message)

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(_text(f"{page.product_name} · {page.season_name}"))
    pdf.set_creator("Guichet")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    accent = _rgb(page.accent_colour)
    pdf.set_fill_color(*accent)
    pdf.rect(0, 0, PAGE_W, BAND_H, style="F")
    pdf.set_text_color(*_ink_on(accent))
    pdf.set_xy(MARGIN, 12)
    pdf.set_font("helvetica", size=11)
    pdf.cell(0, 6, _text(_(SEASON_PASS).upper() + " · " + page.season_name))
    pdf.set_xy(MARGIN, 21)
    pdf.set_font("helvetica", style="B", size=24)
    pdf.multi_cell(PAGE_W - 2 * MARGIN, 10, _text(page.product_name), max_line_height=10)

    top = BAND_H + 14
    _photo(pdf, page.photo, MARGIN, top)
    pdf.set_text_color(20, 20, 20)
    left = MARGIN + PHOTO_W + 8
    for line, (label, value) in enumerate(
        ((_(HOLDER), page.holder_name), (_(SEAT), page.seat), (_(PASS_CODE), page.pass_code))
    ):
        y = top + line * 16
        pdf.set_xy(left, y)
        pdf.set_font("helvetica", size=9)
        pdf.cell(0, 5, _text(label.upper()))
        pdf.set_xy(left, y + 5)
        pdf.set_font("helvetica", style="B", size=16)
        pdf.cell(0, 8, _text(value))

    qr_top = top + PHOTO_H + 18
    pdf.image(io.BytesIO(qr_png(page.qr_url)), x=(PAGE_W - QR_MM) / 2, y=qr_top, w=QR_MM)
    pdf.set_xy(MARGIN, qr_top + QR_MM + 4)
    pdf.set_font("helvetica", size=10)
    pdf.cell(PAGE_W - 2 * MARGIN, 6, _text(_(SHOW_AT_DOOR)), align="C")
    if page.note:
        pdf.set_draw_color(*accent)
        pdf.set_line_width(0.8)
        y = qr_top + QR_MM + 18
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
        pdf.set_xy(MARGIN, y + 4)
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(PAGE_W - 2 * MARGIN, 6, _text(page.note), align="C")
    return bytes(pdf.output())


def _photo(pdf: FPDF, photo: bytes | None, x: float, y: float) -> None:
    if photo is not None:
        pdf.image(io.BytesIO(photo), x=x, y=y, w=PHOTO_W, h=PHOTO_H, keep_aspect_ratio=True)
        return
    # No photo yet (the console's preview): a drawn head and shoulders, not a stock image.
    pdf.set_fill_color(226, 229, 234)
    pdf.rect(x, y, PHOTO_W, PHOTO_H, style="F")
    pdf.set_fill_color(160, 167, 178)
    head = 16.0
    pdf.ellipse(x + (PHOTO_W - head) / 2, y + 8, head, head, style="F")
    pdf.ellipse(x + 5, y + 27, PHOTO_W - 10, 30, style="F")
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y + PHOTO_H, PHOTO_W, 12, style="F")  # the shoulders' lower half stays off


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def ink_on(colour: str) -> str:
    """The text colour ("#141414" or "#ffffff") that reads on the accent ``colour``; the phone
    card uses it too."""
    return "#{:02x}{:02x}{:02x}".format(*_ink_on(_rgb(colour)))


def _ink_on(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on the accent (WCAG relative luminance)."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (20, 20, 20) if luminance > 0.179 else (255, 255, 255)


def _text(value: str) -> str:
    """The PDF's built-in Helvetica covers Windows-1252 (every Western European name); other
    characters print as "?" rather than failing the whole pass. A Unicode font would lift
    this, at the cost of shipping a TTF file."""
    return value.encode("cp1252", errors="replace").decode("cp1252")
