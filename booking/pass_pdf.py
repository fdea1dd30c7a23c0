"""A season pass as an A4 PDF (fpdf2: maintained, pure Python, no system library).

Text is set in DejaVu Sans, bundled in ``booking/fonts`` (from Debian's fonts-dejavu-core; its
licence, next to it, allows bundling): the PDF's built-in Helvetica only covers Windows-1252,
so "Łukasz" printed as "?ukasz". fpdf2 embeds only the glyphs a page uses (a pass is 20-30 kB).

``render`` takes plain values only, so the console's preview of a product and the real passes
(mailed to their holder: ``pass_file`` gathers a sold pass's values) print the same page. The
page: an accent band with the product and the season, the holder's photo (or a drawn
placeholder) and name, the seat, the pass code, the QR of ``PUBLIC_URL/t/<secret>`` with its
4-module quiet zone, and the organizer's note.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.i18n import N_, gettext_for
from booking.qr import qr_png
from booking.queries import passes as pass_queries
from booking.services import pass_photos
from booking.services.tickets import ticket_url

PAGE_W = 210.0  # A4, millimetres
MARGIN = 18.0
BAND_H = 46.0
QR_MM = 70.0  # about 2 mm a module for a short URL: read from a phone or a door scanner
PHOTO_W, PHOTO_H = 38.0, 48.0
FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "dejavu"
MISSING = "?"  # a character the font has no glyph for (CJK, say): printed as this

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


@dataclass(frozen=True, slots=True)
class PassFile:
    """A sold pass's A4 PDF, with what a message about it says."""

    filename: str  # "pass-K7M-4QX.pdf"
    pdf: bytes
    code: str
    seat: str
    product_name: str
    season_name: str


async def pass_file(ctx: Context, *, pass_id: int, language: str) -> PassFile:
    """The pass as its holder receives it: name, seat, code, photo and the QR of its secret.
    Raises ``unknown_item`` for no such pass."""
    found = await pass_queries.pass_detail(ctx, pass_id=pass_id)
    photo = None
    if found.photo_id is not None:
        photo_id = found.photo_id

        async def work(session: AsyncSession) -> bytes | None:
            return await pass_photos.photo_data(session, photo_id)

        photo = await ctx.db.read(work)
    settings = found.product.row.settings
    seat = found.seat.label(language) if found.seat else found.product.row.area_name
    page = PassPage(
        product_name=settings.name,
        season_name=found.season_name,
        holder_name=found.holder_name,
        seat=seat,
        pass_code=found.code,
        qr_url=ticket_url(ctx.settings.public_url, found.secret),
        accent_colour=settings.accent_colour,
        note=settings.note,
        photo=photo,
        language=language,
    )
    # Embedding the font takes a fifth of a second of CPU: off the event loop.
    pdf = await asyncio.to_thread(render, page)
    return PassFile(
        f"pass-{found.code}.pdf", pdf, found.code, seat, settings.name, found.season_name
    )


def render(page: PassPage) -> bytes:
    def _(message: str) -> str:
        return gettext_for(page.language, message)

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(_plain(f"{page.product_name} · {page.season_name}"))
    pdf.set_creator("Guichet")
    pdf.set_auto_page_break(auto=False)
    _fonts(pdf)
    pdf.add_page()
    accent = _rgb(page.accent_colour)
    pdf.set_fill_color(*accent)
    pdf.rect(0, 0, PAGE_W, BAND_H, style="F")
    pdf.set_text_color(*_ink_on(accent))
    pdf.set_xy(MARGIN, 12)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 6, _text(pdf, _(SEASON_PASS).upper() + " · " + page.season_name))
    pdf.set_xy(MARGIN, 21)
    pdf.set_font(FONT, style="B", size=24)
    pdf.multi_cell(PAGE_W - 2 * MARGIN, 10, _text(pdf, page.product_name), max_line_height=10)

    top = BAND_H + 14
    _photo(pdf, page.photo, MARGIN, top)
    pdf.set_text_color(20, 20, 20)
    left = MARGIN + PHOTO_W + 8
    for line, (label, value) in enumerate(
        ((_(HOLDER), page.holder_name), (_(SEAT), page.seat), (_(PASS_CODE), page.pass_code))
    ):
        y = top + line * 16
        pdf.set_xy(left, y)
        pdf.set_font(FONT, size=9)
        pdf.cell(0, 5, _text(pdf, label.upper()))
        pdf.set_xy(left, y + 5)
        pdf.set_font(FONT, style="B", size=16)
        pdf.cell(0, 8, _text(pdf, value))

    qr_top = top + PHOTO_H + 18
    pdf.image(io.BytesIO(qr_png(page.qr_url)), x=(PAGE_W - QR_MM) / 2, y=qr_top, w=QR_MM)
    pdf.set_xy(MARGIN, qr_top + QR_MM + 4)
    pdf.set_font(FONT, size=10)
    pdf.cell(PAGE_W - 2 * MARGIN, 6, _text(pdf, _(SHOW_AT_DOOR)), align="C")
    if page.note:
        pdf.set_draw_color(*accent)
        pdf.set_line_width(0.8)
        y = qr_top + QR_MM + 18
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
        pdf.set_xy(MARGIN, y + 4)
        pdf.set_font(FONT, size=11)
        pdf.multi_cell(PAGE_W - 2 * MARGIN, 6, _text(pdf, page.note), align="C")
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


def _fonts(pdf: FPDF) -> None:
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))


def _text(pdf: FPDF, value: str) -> str:
    """``value`` with the characters the current font cannot draw replaced by ``MISSING``
    (DejaVu Sans covers Latin, Greek, Cyrillic and more; not CJK): a name in another script
    prints as "?" rather than as an empty box or a failed pass."""
    glyphs = pdf.current_font.cmap  # type: ignore[union-attr]  # a TTF font is set
    return "".join(c if ord(c) in glyphs or c.isspace() else MISSING for c in _plain(value))


def _plain(value: str) -> str:
    """Control and format characters (a pasted name may carry them) never reach the page;
    line breaks and tabs read as spaces."""
    return "".join(" " if c.isspace() else c for c in value if c.isprintable() or c.isspace())
