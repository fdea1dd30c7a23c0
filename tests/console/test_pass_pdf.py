"""The pass as an A4 PDF: the console's preview over HTTP, and booking.pass_pdf with a photo.
Read back with pypdf; the QR image it holds is decoded with zxing-cpp."""

from __future__ import annotations

import io

import pypdf
import zxingcpp
from PIL import Image

from booking import pass_pdf
from booking.context import Context
from booking.qr import QUIET_ZONE, qr_png
from booking.services import pass_products
from tests.booking.test_pass_products import product, season_with_events
from tests.builders import STAFF
from tests.console.conftest import ConsoleFactory

A4_POINTS = (595.28, 841.89)


def read(pdf: bytes) -> pypdf.PageObject:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (
        round(float(page.mediabox.width), 2),
        round(float(page.mediabox.height), 2),
    ) == A4_POINTS
    return page


def codes(page: pypdf.PageObject) -> list[str]:
    found = []
    for image in page.images:
        found += [b.text for b in zxingcpp.read_barcodes(image.image.convert("L"))]
    return found


async def test_preview_pdf_is_a4_with_the_names_and_a_qr_of_the_preview_url(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=product(ids))
    console = await console_for("organizer")
    response = await console.get(f"/console/passes/products/{product_id}/preview.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    page = read(response.content)
    text = page.extract_text()
    for shown in ("Abonnement", "2026/27", "Camille Exemple", "Stalls A 1", "PASS-0000",
                  "Portes 30 minutes avant."):  # fmt: skip
        assert shown in text, shown
    public = app_ctx.settings.public_url.rstrip("/")
    assert codes(page) == [f"{public}/t/sample-pass"]
    # The phone card on the product's page shows the same code.
    html = (await console.get(f"/console/passes/products/{product_id}")).text
    assert 'href="data:image/png;base64,' in html


async def test_preview_pdf_speaks_the_staff_language(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    ids = await season_with_events(app_ctx)
    product_id = await pass_products.create_product(app_ctx, actor=STAFF, settings=product(ids))
    console = await console_for("organizer")
    await console.post("/console/language", {"language": "fr", "back": "/console/"})
    response = await console.get(f"/console/passes/products/{product_id}/preview.pdf")
    text = read(response.content).extract_text()
    assert "ABONNEMENT DE SAISON" in text and "Code de l'abonnement".upper() in text
    assert "SEASON PASS" not in text


def test_a_real_photo_is_printed_and_any_name_renders() -> None:
    photo = io.BytesIO()
    Image.new("RGB", (300, 400), (200, 120, 40)).save(photo, format="JPEG")
    pdf = pass_pdf.render(
        pass_pdf.PassPage(
            product_name="Abonnement saison",
            season_name="2026/27",
            holder_name="Zoë Łukasiewicz 王",  # outside Windows-1252: printed, not a crash
            seat="Balcon A 7",
            pass_code="K7Q-29M",
            qr_url="https://tickets.venue.example/t/abc",
            accent_colour="#f4d35e",  # light: dark ink on it
            photo=photo.getvalue(),
        )
    )
    page = read(pdf)
    assert len(page.images) == 2  # the photo and the QR
    assert codes(page) == ["https://tickets.venue.example/t/abc"]
    assert "Zoë" in page.extract_text()
    assert pass_pdf.ink_on("#f4d35e") == "#141414" and pass_pdf.ink_on("#1f4e79") == "#ffffff"


def test_the_qr_keeps_a_four_module_quiet_zone() -> None:
    image = Image.open(io.BytesIO(qr_png("https://x.example/t/abc", scale=1)))
    pixels = image.convert("L")
    width, _ = pixels.size
    margin = next(x for x in range(width) if pixels.getpixel((x, width // 2)) < 128)
    # The middle row may start light inside the symbol; the finder pattern's row does not.
    finder = next(x for x in range(width) if pixels.getpixel((x, 4)) < 128)
    assert finder == QUIET_ZONE == 4 and margin >= 4
