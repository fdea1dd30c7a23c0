"""The pass by email (SQLite and PostgreSQL, real SMTP): when a pass booking is paid, the
"paid" email says it is the season pass (code, seat) and carries the A4 PDF as
``pass-<code>.pdf``, whose QR decodes to the pass's ``/t/<secret>`` and which prints the
holder's name (any Latin script) and photo. In French with no English left."""

from __future__ import annotations

import io

import pypdf
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.queries import passes as pass_queries
from booking.rules import pass_products as rules
from booking.services import pass_photos, pass_products, passes, payments, renewals
from booking.services.tickets import ticket_url
from booking.tables.passes import Pass
from tests.booking.test_pass_products import product, season_with_events
from tests.booking.test_pass_sale import seat_id
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.mail.conftest import Desk, text_of
from tests.mail.test_renew_mail import CHANNELS, booking_of, new_pass, renewing
from tests.support.english import english_in, visible_text

NAME = "Łukasz Zoë Ørsted"


async def paid_pass(
    ctx: Context, *, language: str = "en", photo: bytes | None = None
) -> tuple[Pass, str]:
    """A fixed-seat pass (seat A3) sold to Łukasz and paid at the box office."""
    ids = await season_with_events(ctx)
    fields = {"first_name": "required", "last_name": "optional", "photo": "optional"}
    product_id = await pass_products.create_product(
        ctx,
        actor=STAFF,
        settings=product(ids, buy_channels=CHANNELS, holder_fields=rules.holder_fields(fields)),
    )
    holder = await make_customer(ctx, name=NAME, language=language)
    photo_id = None
    if photo is not None:
        photo_id = await pass_photos.store(ctx, customer_id=holder.id, data=photo)
    sold = await passes.sell(
        ctx, actor=STAFF, product_id=product_id, customer_id=holder.id,
        answers={"first_name": "Łukasz Zoë", "last_name": "Ørsted"},
        seat_id=await seat_id(ctx, ids["Stalls"], "A", 3), photo_id=photo_id,
    )  # fmt: skip
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=sold.reference, method="cash"
    )

    async def work(session: AsyncSession) -> Pass:
        return (await session.execute(select(Pass).where(Pass.id == sold.id))).scalar_one()

    return await ctx.db.read(work), sold.reference


def portrait() -> bytes:
    """A 300 x 400 picture, two colours, as a phone would send."""
    image = Image.new("RGB", (300, 400), (200, 60, 40))
    image.paste((30, 90, 160), (0, 200, 300, 400))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf_of(message: object) -> tuple[str, bytes]:
    parts = [p for p in message.walk() if p.get_content_type() == "application/pdf"]  # type: ignore[attr-defined]
    assert len(parts) == 1
    return str(parts[0].get_filename()), parts[0].get_payload(decode=True)


def qr_texts(pdf: bytes) -> tuple[list[str], list[Image.Image]]:
    """What the QR codes embedded in the PDF say, and every image it embeds."""
    images = [img.image for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    found = [r.text for image in images for r in zxingcpp.read_barcodes(image.convert("L"))]
    return found, [i for i in images if i is not None]


async def test_a_paid_pass_mails_its_pdf_whose_qr_decodes_to_the_ticket_url(
    ctx: Context, desk: Desk
) -> None:
    sold, reference = await paid_pass(ctx)
    sent = await desk.send_out()
    [paid] = [m for m in sent if "is paid" in m.message["Subject"]]

    assert sold.code in paid.message["Subject"]
    text = text_of(paid)
    assert "here is your season pass" in text and "Your tickets follow" not in text
    assert f"Pass code: {sold.code}" in text and "Seat: Stalls · row A · seat 3" in text
    filename, pdf = pdf_of(paid.message)
    assert filename == f"pass-{sold.code}.pdf" and pdf.startswith(b"%PDF")
    assert not [p for p in paid.message.walk() if p.get_content_type() == "image/png"]
    found, _ = qr_texts(pdf)
    assert found == [ticket_url(ctx.settings.public_url, sold.secret)]
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert NAME in page and sold.code in page and reference not in page


async def test_the_pdf_prints_the_holders_photo(ctx: Context, desk: Desk) -> None:
    await paid_pass(ctx, photo=portrait())
    [paid] = [m for m in await desk.send_out() if "is paid" in m.message["Subject"]]

    found, images = qr_texts(pdf_of(paid.message)[1])

    assert len(found) == 1  # the QR
    photos = [i for i in images if i.size[1] > i.size[0]]  # portrait: the holder's photo
    assert len(photos) == 1
    picture = photos[0].convert("RGB")
    top, bottom = picture.getpixel((150, 50)), picture.getpixel((150, 350))
    assert top[0] > 150 and bottom[2] > 120  # the picture itself, not the drawn placeholder


async def test_a_paid_pass_mail_in_french_has_no_english(ctx: Context, desk: Desk) -> None:
    sold, _ = await paid_pass(ctx, language="fr")
    [paid] = [m for m in await desk.send_out() if sold.code in m.message["Subject"]
              and "payée" in m.message["Subject"]]  # fmt: skip
    text = text_of(paid)
    assert "voici votre abonnement" in text
    data = [NAME, "Łukasz", "Abonnement", "Stalls", "Opera", "Jazz"]
    assert not english_in(text, data), english_in(text, data)
    html = paid.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert not english_in(visible_text(html), data)
    page = pypdf.PdfReader(io.BytesIO(pdf_of(paid.message)[1])).pages[0].extract_text()
    assert "TITULAIRE" in page and NAME in page


async def test_an_ordinary_booking_gets_tickets_not_a_pass(ctx: Context, desk: Desk) -> None:
    cat = await make_catalog(ctx)
    ana = await make_customer(ctx)
    held = await make_held_booking(ctx, cat, ana)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=held.reference, method="cash"
    )
    [paid] = [m for m in await desk.send_out() if "is paid" in m.message["Subject"]]
    assert not [p for p in paid.message.walk() if p.get_content_type() == "application/pdf"]
    assert "season pass" not in text_of(paid)


async def test_customer_passes_lists_every_season_newest_first_and_pass_of_booking(
    ctx: Context,
) -> None:
    """The reads the mail adapter (and the bot's /passes) use: a holder's passes in every
    state, newest season first, with season, credit, choices and photo; the pass a booking
    bought."""
    r = await renewing(ctx)
    sold = await renewals.renew(ctx, actor=STAFF, renewal_id=r.renewal_id, product_id=r.offers[0])
    found = await pass_queries.customer_passes(ctx, customer_id=r.holder.id)
    assert [(p.id, p.status, p.season_name) for p in found] == [
        (sold.id, "held", "2026/27b"),
        (r.old_pass_id, "confirmed", "2026/27"),
    ]
    assert found[0].code == found[1].code and found[0].seat == found[1].seat
    assert {(p.credit_minor, p.choices_left, p.photo_id) for p in found} == {(0, None, None)}
    assert await pass_queries.customer_passes(ctx, customer_id=r.holder.id + 999) == []
    assert await pass_queries.booking_pass(ctx, booking_id=r.old_booking.id) == r.old_pass_id
    new_booking = await booking_of(ctx, (await new_pass(ctx, r.old_pass_id)).booking_id)  # type: ignore[union-attr]
    assert await pass_queries.booking_pass(ctx, booking_id=new_booking.id) == sold.id
    cat = await make_catalog(ctx)
    plain = await make_held_booking(ctx, cat, await make_customer(ctx, email="bo@example.org"))
    assert await pass_queries.booking_pass(ctx, booking_id=plain.id) is None
