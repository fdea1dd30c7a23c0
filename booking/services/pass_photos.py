"""A pass holder's photo (SPEC §9, issue 12): checked, re-encoded and stored before the sale.

The bot asks the photo among the holder fields, before the pass exists; ``store`` keeps it as
a ``PassPhoto`` of the customer and the sale points the pass at it (``passes.sell(photo_id=)``).

What a customer uploads is never stored as sent. It must decode fully as an image (a file that
only looks like one, or is cut short, is refused), within a pixel budget checked from the
header before decoding (a small file can announce a huge canvas: a decompression bomb). It is
then redrawn as a JPEG of at most ``SIDE_MAX`` pixels on its long side: EXIF (places, camera
serial numbers), comments and anything appended after the image are gone, and the card and the
PDF read one small format.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.errors import BookingError
from booking.tables.customers import Customer
from booking.tables.passes import PassPhoto

BYTES_MAX = 5 * 1024 * 1024  # what a phone photo weighs at most; Telegram's own are far less
PIXELS_MAX = 40_000_000  # a 50-megapixel camera's 8000 x 5000 fits; a bomb's canvas does not
SIDE_MAX = 600  # the card and the A4 page print it a few centimetres wide
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")  # what phones and desktops send
QUALITY = 85


@dataclass(frozen=True, slots=True)
class Redrawn:
    data: bytes
    width: int
    height: int


async def store(ctx: Context, *, customer_id: int, data: bytes) -> int:
    """Check and re-encode ``data``, store it as the customer's photo; its id.

    Raises BookingError ``photo_too_large`` (over 5 MB, or too many pixels) or
    ``photo_not_image`` (not a complete image in a format we read)."""
    # Decoding is CPU work of tens of milliseconds: off the event loop.
    redrawn = await asyncio.to_thread(redraw, data)

    async def work(session: AsyncSession) -> int:
        if await session.get(Customer, customer_id) is None:
            raise BookingError("unknown_customer")
        row = PassPhoto(
            customer_id=customer_id,
            content_type="image/jpeg",
            data=redrawn.data,
            width=redrawn.width,
            height=redrawn.height,
            created_at=ctx.clock.now(),
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id

    return await ctx.db.write(work)


async def photo_data(session: AsyncSession, photo_id: int) -> bytes | None:
    """The stored JPEG, or None when there is no such photo."""
    row = await session.get(PassPhoto, photo_id)
    return bytes(row.data) if row is not None else None


def redraw(data: bytes) -> Redrawn:
    """``data`` as a fresh JPEG of at most SIDE_MAX pixels a side, or BookingError."""
    if len(data) > BYTES_MAX:
        raise BookingError("photo_too_large", max_mb=BYTES_MAX // (1024 * 1024))
    image = _decoded(data)
    try:
        image = ImageOps.exif_transpose(image)  # a phone's portrait stays upright without EXIF
        image.thumbnail((SIDE_MAX, SIDE_MAX), Image.Resampling.LANCZOS)
        flat = _flattened(image)
        out = io.BytesIO()
        flat.save(out, format="JPEG", quality=QUALITY, optimize=True)
    finally:
        image.close()
    return Redrawn(out.getvalue(), flat.width, flat.height)


def _decoded(data: bytes) -> Image.Image:
    """The image fully decoded, its canvas checked from the header first."""
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own MAX_IMAGE_PIXELS and raises past twice that; our
            # budget is checked below, before any pixel is decoded, whatever that global says.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > PIXELS_MAX:
                image.close()
                raise BookingError("photo_too_large", max_mb=BYTES_MAX // (1024 * 1024))
            if image.format == "JPEG":
                # A JPEG decodes at 1/2, 1/4 or 1/8 scale for a fraction of the work; every
                # byte is still read, so a cut-short file fails all the same.
                image.draft("RGB", (SIDE_MAX * 2, SIDE_MAX * 2))
            image.load()  # the whole file: a truncated or corrupt one fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BookingError("photo_too_large", max_mb=BYTES_MAX // (1024 * 1024)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise BookingError("photo_not_image") from None
    return image


def _flattened(image: Image.Image) -> Image.Image:
    """RGB for JPEG: a transparent background becomes white, as on the printed card."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
