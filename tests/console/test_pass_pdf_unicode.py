"""The A4 pass prints every name in a Unicode font (DejaVu Sans, bundled): "Łukasz Zoë Ørsted"
comes out of the PDF as written, where the built-in Helvetica printed "?ukasz". A character
the font lacks prints as "?" and control characters never reach the page. Pure: no database."""

from __future__ import annotations

import io
from dataclasses import replace

import pypdf
import pytest
import zxingcpp

from booking import pass_pdf
from booking.pass_pdf import PassPage

PAGE = PassPage(
    product_name="Œuvres Świętokrzyska",
    season_name="2026/27",
    holder_name="Łukasz Zoë Ørsted",
    seat="Parterre · rang Č · place 7",
    pass_code="K7M-4QX",
    qr_url="https://tickets.venue.example/t/sEcReT-123",
    accent_colour="#1f4e79",
    note="Portes 30 min avant · Двери · Πόρτες",
    language="fr",
)


def text_of(pdf: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_latin_extended_greek_and_cyrillic_names_print_as_written() -> None:
    text = text_of(pass_pdf.render(PAGE))
    for written in (PAGE.holder_name, PAGE.product_name, PAGE.seat, PAGE.note, "TITULAIRE"):
        assert written in text, written
    assert "?" not in text


def test_the_bundled_font_is_embedded_and_its_licence_ships_beside_it() -> None:
    pdf = pass_pdf.render(PAGE)
    fonts = {
        str(f["/BaseFont"])
        for f in pypdf.PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()
    }
    assert any("DejaVuSans" in f for f in fonts), fonts
    assert not any("Helvetica" in f for f in fonts)
    licence = (pass_pdf.FONTS / "LICENSE-DejaVu.txt").read_text()
    assert "Bitstream" in licence and "permission" in licence.lower()


def test_companion_helvetica_cannot_print_the_name() -> None:
    """Without the bundled font (the old cp1252 path), "Ł" is lost: the reason it is there."""
    lossy = PAGE.holder_name.encode("cp1252", errors="replace").decode("cp1252")
    assert lossy != PAGE.holder_name and "?" in lossy


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("王小明", "???"),  # no CJK glyphs in DejaVu Sans: "?" rather than empty boxes
        ("Ana\u200b\u202eTest", "AnaTest"),  # zero-width and bidi overrides dropped
        ("Ana\nTest\tX", "Ana Test X"),  # line breaks read as spaces
    ],
)
def test_characters_the_font_cannot_draw_or_should_not_print(written: str, printed: str) -> None:
    text = text_of(pass_pdf.render(replace(PAGE, holder_name=written)))
    assert printed in text


def test_the_qr_still_decodes_to_the_ticket_url() -> None:
    pdf = pass_pdf.render(PAGE)
    images = [i.image for i in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images]
    decoded = [r.text for i in images for r in zxingcpp.read_barcodes(i.convert("L"))]
    assert decoded == [PAGE.qr_url]
