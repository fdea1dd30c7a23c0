"""The box office's pass sale, the parts that grew with passes with choice and the holder's
photo (issue 12 items 1-2; the handlers are in routes/passes.py): what the form offers for one
product, the picked dates and the uploaded photo read back from a submitted form, the sale
with a photo, and the photo served for the pass's page.

A photo is stored only once everything the desk typed has passed the pure checks, just before
the sale, and discarded at once when the sale is refused (``unused_photos``): a refused sale
leaves no photo row. The form keeps the photo itself instead (the redrawn JPEG, re-checked on
every submit), so the desk does not choose the file again after fixing another field.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from booking.errors import BookingError
from booking.queries import pass_products as product_queries
from booking.queries import pass_sale
from booking.queries import passes as pass_queries
from booking.queries.pass_products import PassProductDetail
from booking.queries.pass_sale import ChoosableDate
from booking.queries.passes import IncludedDate, SeatChoice
from booking.rules import pass_holders
from booking.services import customers, pass_photos, passes, unused_photos
from booking.views import CustomerView
from console.web.forms import Form, int_or_none
from console.web.labels import N_
from console.web.pages import Page, guarded

PHOTO = "holder_photo"  # the file input; the core's photo errors name this field
KEPT = "photo_kept"  # the photo of an earlier try, as the redrawn JPEG in base64
DROP = "photo_drop"
PICKS = "picks"
# The upload may weigh what pass_photos accepts, plus the kept copy and the other fields: a
# photo a little over the limit still reaches the form and is refused beside its field.
BODY_MAX = pass_photos.BYTES_MAX + 2_000_000
KEPT_MAX = 1_000_000  # a redrawn photo (600 px, JPEG) is far smaller; a field's own limit

PICK_FROM_LIST = N_("Choose dates from the list.")
SOLD_OUT_PICKED = N_("Sold out: {date}. Pick another date.")
# The core's photo refusals speak to a customer in the bot ("send it as a photo"); the desk
# chooses a file.
PHOTO_ERRORS = {
    "photo_too_large": N_("This photo is too large: choose one of at most {max_mb} MB."),
    "photo_not_image": N_(
        "This file is not a picture we can read: choose a JPEG, PNG, WebP, GIF or BMP image."
    ),
}

# Refusals of the sale and the field that can put them right.
DATE_ERRORS = frozenset({"pass_picks_count", "pass_date_not_choosable", "sold_out"})
SEAT_ERRORS = frozenset({"pass_seat_taken", "pass_no_seat", "seat_taken", "bad_seats"})


@dataclass(frozen=True, slots=True)
class Offer:
    """What the form offers for one product now: the dates included (automatic), or the
    dates a holder may pick with the places left (with choice), and the seats."""

    product: PassProductDetail
    dates: tuple[IncludedDate, ...]
    choices: tuple[ChoosableDate, ...]
    seats: tuple[SeatChoice, ...]

    @property
    def with_choice(self) -> bool:
        return self.product.row.settings.includes == "choice"

    @property
    def choice_count(self) -> int:
        return self.product.row.settings.choice_count or 0

    @property
    def photo_mode(self) -> str:
        return self.product.row.settings.mode("photo")


async def offer(page: Page, product_id: int, picks: Sequence[int] = ()) -> Offer:
    """The offer for this product. A fixed seat of a pass with choice is offered among the
    seats free at every picked date (none picked yet: at every date not sold out)."""
    detail = await product_queries.product_detail(page.ctx, product_id=product_id)
    if detail.row.settings.includes != "choice":
        sale = await pass_queries.sale_form(page.ctx, product_id=product_id)
        return Offer(sale.product, sale.dates, (), sale.seats)
    choices = tuple(await pass_sale.choice_dates(page.ctx, product_id=product_id))
    seats: tuple[SeatChoice, ...] = ()
    if detail.row.settings.seating == "fixed_seat":
        open_ids = [c.date.performance_id for c in choices if not c.sold_out]
        at = [p for p in picks if p in open_ids] or open_ids
        found = await pass_sale.seats_free_at(
            page.ctx, area_id=detail.row.settings.area_id, performance_ids=at
        )
        seats = tuple(found)
    return Offer(detail, tuple(c.date for c in choices), choices, seats)


# -- reading the submitted form ------------------------------------------------------------------


def typed_picks(form: Form) -> list[int]:
    """The ticked dates as ids, in the order sent (anything else is left out here and refused
    by ``read_picks``)."""
    raw = form.values.get(PICKS, [])
    values = raw if isinstance(raw, list) else [raw]
    return [p for p in (int_or_none(v) for v in values) if p is not None]


def read_picks(page: Page, form: Form, sale: Offer) -> list[int]:
    """The picked dates of a pass with choice: 1 to N of its choosable dates, none sold out.
    Each problem is put beside the dates (the form then comes back, the ticks kept)."""
    raw = form.values.get(PICKS, [])
    typed = [v for v in (raw if isinstance(raw, list) else [raw]) if v]
    by_id = {c.date.performance_id: c for c in sale.choices}
    picks = list(dict.fromkeys(typed_picks(form)))
    if len(picks) != len(set(typed)) or any(p not in by_id for p in picks):
        form.error(PICKS, PICK_FROM_LIST)
        return []
    full = [by_id[p] for p in picks if by_id[p].sold_out]
    if full:
        day = page.formats.at(full[0].date.starts_at, full[0].date.timezone)
        form.errors.setdefault(PICKS, page._(SOLD_OUT_PICKED).format(date=day))
        return []
    if not 1 <= len(picks) <= sale.choice_count:
        refusal = BookingError("pass_picks_count", max=sale.choice_count)
        form.booking_error(refusal, page.error(refusal), field=PICKS)
        return []
    return picks


async def read_photo(page: Page, form: Form, sale: Offer) -> bytes | None:
    """The holder's photo as a redrawn JPEG: a file just chosen, else the one kept from an
    earlier try (unless the desk ticked "remove"). Not an image, over 5 MB, a decompression
    bomb: the error beside the field, nothing kept. None when the product asks no photo."""
    kept = form.get(KEPT)
    form.values.pop(KEPT, None)  # shown again only once it has passed the checks below
    if sale.photo_mode == "off":
        return None
    upload = page.form.get(PHOTO) if page.form is not None else None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(pass_photos.BYTES_MAX + 1)
    elif kept and not form.flag(DROP):
        data = _unbase64(kept)
    else:
        return None
    try:
        # Decoding a camera's photo is CPU work of tens of milliseconds: off the event loop.
        redrawn = await asyncio.to_thread(pass_photos.redraw, data)
    except BookingError as exc:
        desk = PHOTO_ERRORS.get(exc.code)
        text = page._(desk).format(**exc.params) if desk else page.error(exc)
        form.booking_error(exc, text, field=PHOTO)
        return None
    form.values[KEPT] = base64.b64encode(redrawn.data).decode()
    return redrawn.data


def _unbase64(kept: str) -> bytes:
    """The kept photo's bytes; a field someone edited reads as no image (refused as such)."""
    if len(kept) > KEPT_MAX:
        return b""
    try:
        return base64.b64decode(kept, validate=True)
    except (binascii.Error, ValueError):
        return b""


def error_field(exc: BookingError, sale: Offer) -> str | None:
    """The field beside which a refusal of the sale is shown (None: above the form)."""
    field = exc.params.get("field")
    if exc.code in DATE_ERRORS and sale.with_choice:
        return PICKS
    if exc.code in SEAT_ERRORS and sale.product.row.settings.seating == "fixed_seat":
        return "seat"
    if exc.code == "pass_photo_unknown":
        return PHOTO
    return field if isinstance(field, str) and field else None


# -- the sale ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sale's outcome: the pass, or the refusal; and the customer filed for it (a new
    customer whose photo had to be stored before the sale), shown as found if it is refused."""

    sold: passes.SoldPass | None
    refusal: BookingError | None
    filed: CustomerView | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """What the desk asked for, as read from the form."""

    customer: CustomerView | None
    new: passes.NewCustomer | None
    answers: Mapping[str, str]
    seat_id: int | None
    picks: Sequence[int]
    photo: bytes | None
    buy: bool


async def sell(page: Page, sale: Offer, order: Order) -> Attempt:
    """Sell the pass as ordered. Without a photo: ``passes.sell`` alone (one transaction,
    a new customer made in it). With a photo, which ``passes.sell`` takes as a stored photo of
    the buyer: the pure checks of the answers first (a refusal then writes nothing), the new
    customer filed (as the customers page does), the photo stored, the sale; a refused sale
    discards the photo, and the customer stays on file for the next try."""
    if order.photo is None:
        return await _sold(page, sale, order, order.customer.id if order.customer else None)
    try:
        modes = sale.product.row.settings.holder_fields
        pass_holders.check_answers(modes, order.answers, today=page.ctx.clock.now().date())
        pass_holders.check_photo(modes, 0)
        filed = None if order.customer is not None else await _file(page, order.new)
    except BookingError as exc:
        return Attempt(None, exc)
    buyer = order.customer or filed
    assert buyer is not None
    photo_id = await pass_photos.store(page.ctx, customer_id=buyer.id, data=order.photo)
    try:
        attempt = await _sold(page, sale, order, buyer.id, photo_id=photo_id)
    except BaseException:  # a lost connection too: the discard never removes a pass's photo
        await unused_photos.discard(page.ctx, photo_id=photo_id, customer_id=buyer.id)
        raise
    if attempt.sold is None:
        await unused_photos.discard(page.ctx, photo_id=photo_id, customer_id=buyer.id)
    return Attempt(attempt.sold, attempt.refusal, filed)


async def _sold(
    page: Page, sale: Offer, order: Order, customer_id: int | None, *, photo_id: int | None = None
) -> Attempt:
    try:
        sold = await passes.sell(
            page.ctx,
            actor=page.staff.actor(),
            product_id=sale.product.row.id,
            customer_id=customer_id,
            new_customer=order.new if customer_id is None else None,
            answers=order.answers,
            seat_id=order.seat_id,
            buy=order.buy,
            picks=order.picks,
            photo_id=photo_id,
        )
    except BookingError as exc:
        return Attempt(None, exc)
    return Attempt(sold, None)


async def _file(page: Page, new: passes.NewCustomer | None) -> CustomerView:
    """The new buyer on file. An address already on file is refused as ``passes.sell`` does:
    the desk sells under that customer by finding it, never by retyping it."""
    assert new is not None
    made, created = await customers.find_or_create_customer(
        page.ctx, actor=page.staff.actor(), email=new.email, name=new.name, language=new.language
    )
    if not created:
        raise BookingError("pass_customer_on_file", email=made.email or "", field="email")
    return made


# -- the photo on the pass's page ----------------------------------------------------------------


@guarded("bookings.view")
async def photo(page: Page) -> Response:
    """The holder's photo of one pass, for its page (staff only, never cached by a proxy)."""
    data = await pass_sale.pass_photo(page.ctx, pass_id=int(page.request.path_params["pass_id"]))
    if data is None:
        raise HTTPException(404)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
