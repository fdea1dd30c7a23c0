"""The holder's photo (issue 12): what is refused (too large, not an image, a decompression
bomb, a cut-short file), and what is kept of what is accepted (a small JPEG, without EXIF, in
its upright orientation), on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.errors import BookingError
from booking.services import pass_photos
from booking.tables.passes import PassPhoto
from tests.builders import make_customer

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def jpeg(width: int = 1200, height: int = 900, *, exif: bool = False, **save: object) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 40))
    image.paste((20, 40, 200), (0, 0, width // 2, height // 2))  # a corner to find again
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[MAKE] = "SpyCam 3000"
        tags[ORIENTATION] = 6  # the phone was turned: show it rotated by 90 degrees
        tags.get_ifd(GPS_IFD)[2] = (46.0, 12.0, 30.0)  # a latitude
        save["exif"] = tags.tobytes()
    image.save(out, format="JPEG", quality=90, **save)
    return out.getvalue()


def png_bomb(side: int) -> bytes:
    """A PNG that announces a ``side`` x ``side`` canvas in a few hundred bytes: its header is
    honest, its data is only a start (a decoder would allocate the whole canvas first)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit grey
    data = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)


async def stored(ctx: Context, photo_id: int) -> PassPhoto:
    async def work(session: AsyncSession) -> PassPhoto:
        row = await session.get(PassPhoto, photo_id)
        assert row is not None
        return row

    return await ctx.db.read(work)


async def photo_bytes(ctx: Context, photo_id: int) -> bytes | None:
    async def work(session: AsyncSession) -> bytes | None:
        return await pass_photos.photo_data(session, photo_id)

    return await ctx.db.read(work)


async def count(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(PassPhoto))).one()[0])

    return await ctx.db.read(work)


async def test_a_photo_is_stored_as_a_small_jpeg_of_its_owner(ctx: Context) -> None:
    ana = await make_customer(ctx)

    photo_id = await pass_photos.store(ctx, customer_id=ana.id, data=jpeg(1200, 900))

    row = await stored(ctx, photo_id)
    assert (row.customer_id, row.content_type) == (ana.id, "image/jpeg")
    assert (row.width, row.height) == (600, 450)  # 600 on the long side, proportions kept
    data = await photo_bytes(ctx, photo_id)
    assert data is not None
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("JPEG", (600, 450))
        top_left, bottom_right = image.getpixel((10, 10)), image.getpixel((590, 440))
    assert isinstance(top_left, tuple) and top_left[2] > 150  # the blue corner is still there
    assert isinstance(bottom_right, tuple) and bottom_right[0] > 150
    assert await photo_bytes(ctx, photo_id + 1000) is None


async def test_exif_is_dropped_and_the_orientation_applied(ctx: Context) -> None:
    ana = await make_customer(ctx)
    sent = jpeg(800, 400, exif=True)
    with Image.open(io.BytesIO(sent)) as original:
        assert original.getexif()[MAKE] == "SpyCam 3000"  # the test photo does carry it

    data = await photo_bytes(ctx, await pass_photos.store(ctx, customer_id=ana.id, data=sent))

    assert data is not None
    assert b"SpyCam" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert dict(image.getexif()) == {}
        assert image.size == (300, 600)  # turned upright: portrait now


async def test_a_png_with_transparency_gets_a_white_background(ctx: Context) -> None:
    ana = await make_customer(ctx)
    image = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")

    data = await photo_bytes(
        ctx, await pass_photos.store(ctx, customer_id=ana.id, data=out.getvalue())
    )

    assert data is not None
    with Image.open(io.BytesIO(data)) as redrawn:
        assert redrawn.size == (100, 80)  # small ones are not enlarged
        assert redrawn.getpixel((50, 40)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"%PDF-1.4 not a picture at all", "photo_not_image"),
        (b"", "photo_not_image"),
        (jpeg(400, 300)[:600], "photo_not_image"),  # cut short: the header alone is not enough
        (png_bomb(60_000), "photo_too_large"),  # 3.6 billion pixels announced
        (b"\xff\xd8" + b"\x00" * (pass_photos.BYTES_MAX + 1), "photo_too_large"),
    ],
    ids=["pdf", "empty", "truncated", "bomb", "over-5-mb"],
)
async def test_what_is_not_a_usable_photo_is_refused_and_nothing_stored(
    ctx: Context, data: bytes, code: str
) -> None:
    ana = await make_customer(ctx)

    with pytest.raises(BookingError) as caught:
        await pass_photos.store(ctx, customer_id=ana.id, data=data)

    assert caught.value.code == code
    assert await count(ctx) == 0


def test_the_bomb_is_refused_before_a_pixel_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Companion: without the pixel budget, the same file is decoded as a 3.6-billion-pixel
    canvas (Pillow's own global limit taken away, as a deployment might): the check is what
    refuses it, from the header, before any allocation."""
    bomb = png_bomb(60_000)
    monkeypatch.setattr(pass_photos, "PIXELS_MAX", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    with Image.open(io.BytesIO(bomb)) as announced:
        assert announced.size == (60_000, 60_000)  # a readable header: only the canvas is huge
    opened: list[tuple[int, int]] = []

    def spy(image: Image.Image) -> object:
        opened.append(image.size)
        raise MemoryError("the test stops the decoder before it allocates 450 MB")

    monkeypatch.setattr(Image.Image, "load", spy)
    with pytest.raises(MemoryError):
        pass_photos.redraw(bomb)
    assert opened == [(60_000, 60_000)]  # it did go on to decode the whole canvas


def test_over_the_size_limit_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid JPEG padded to just over 5 MB: refused on its size (and accepted once the limit is
    lifted, so the size is the only reason)."""
    small = jpeg(200, 200)
    big = small + b"\x00" * (pass_photos.BYTES_MAX + 1 - len(small))  # after the image: ignored
    with pytest.raises(BookingError) as caught:
        pass_photos.redraw(big)
    assert caught.value.code == "photo_too_large"
    assert caught.value.params == {"max_mb": 5}
    monkeypatch.setattr(pass_photos, "BYTES_MAX", 10 * 1024 * 1024)
    assert pass_photos.redraw(big).width == 200
