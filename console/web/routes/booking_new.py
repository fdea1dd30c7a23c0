"""A booking made for a customer at the desk or on the phone: choose the date, the places and
the customer; hold it (the customer gets the booking email) or take the payment at once.

The form carries a one-time key: its first post makes the booking, any repeat (a double
click, a reload, a retry) is shown that booking. The customer needs a name and an email or a
phone. An email already on file names one customer: the form shows who and asks to file the
booking under them, or to go back and change it; the typed name is never dropped unseen."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.services import booking_admin, catalog, catalog_admin, holds, payments
from booking.services.booking_admin import NewCustomer
from booking.services.catalog import Offer
from booking.views import CustomerView
from console.web.forms import Form, int_or_none
from console.web.labels import N_
from console.web.pages import Page, guarded

LANGUAGES = ("en", "fr")
PAYMENT = ("hold", "cash", "card", "transfer")
CONTACT_REQUIRED = N_("Give an email or a phone number.")


async def _offers(page: Page, performance_id: int | None, customer_type: str) -> list[Offer]:
    if performance_id is None:
        return []
    try:
        return await catalog.offers(
            page.ctx, performance_id=performance_id, channel="console", customer_type=customer_type
        )
    except BookingError:
        return []


async def _form_page(
    page: Page,
    form: Form,
    *,
    status: int = 200,
    match: CustomerView | None = None,
) -> Response:
    """The form; ``match`` is the customer a typed email belongs to (the page asks first)."""
    performance_id = int_or_none(form.get("performance"))
    customer = await page.chosen_customer(form.get("customer_id"))
    offers = await _offers(
        page, performance_id, customer.customer_type if customer else "individual"
    )
    if not booking_admin.valid_form_key(form.get("form_key")):
        form.values["form_key"] = booking_admin.new_form_key()
    form.values.pop("file_under", None)  # asked again on every showing that needs it
    return page.render(
        "console/bookings/new.html",
        status=status,
        form=form,
        performances=await catalog_admin.performances_on_sale(page.ctx),
        offers=offers,
        customer=customer,
        match=match,
        languages=LANGUAGES,
        payment=PAYMENT,
    )


@guarded("bookings.create")
async def new_booking(page: Page) -> Response:
    form = Form(
        None,
        page._,
        performance=page.query("performance"),
        customer_id=page.query("customer"),
        payment="hold",
        language="fr" if page.staff.language == "fr" else "en",
    )
    return await _form_page(page, form)


def _typed_customer(page: Page, form: Form) -> NewCustomer:
    """Name and an email or a phone: a customer at the desk may have no (working) email."""
    email = form.text("email", max_length=254)
    name = form.text("name", required=True)
    phone = form.text("phone", max_length=40)
    language = form.choice("language", LANGUAGES)
    if not email and not phone:
        form.error("email", CONTACT_REQUIRED)
        form.error("phone", CONTACT_REQUIRED)
    return NewCustomer(name=name, email=email, phone=phone, language=language)


@guarded("bookings.create")
async def create_booking(page: Page) -> Response:
    form = Form(page.form, page._)
    if form.get("back"):  # "go back and change": the form as typed, nothing asked
        return await _form_page(page, form)
    performance_id = form.integer("performance", required=True, low=1)
    customer = await page.chosen_customer(form.get("customer_id"))
    offers = await _offers(
        page, performance_id, customer.customer_type if customer else "individual"
    )
    lines = []
    for offer in offers:
        quantity = form.integer(f"qty_{offer.tariff_id}", low=0, high=100)
        if quantity:
            lines.append(holds.Line(offer.tariff_id, quantity=quantity))
    if performance_id is not None and not lines:
        form.problem = page._("Choose at least one place.")
    payment = form.choice("payment", PAYMENT)
    typed = _typed_customer(page, form) if customer is None else None
    key = form.get("form_key")
    if not booking_admin.valid_form_key(key):
        # An old page from before the keys, or a hand-made post: nothing is booked, the
        # typing comes back with a fresh key.
        form.problem = page._(
            "This form is out of date: check it and create the booking again. Nothing was booked."
        )
    if not form.ok or performance_id is None:
        return await _form_page(page, form, status=400)
    actor = page.staff.actor()
    try:
        outcome = await booking_admin.create_desk_booking(
            page.ctx,
            actor=actor,
            form_key=key,
            performance_id=performance_id,
            lines=lines,
            buy=payment != "hold",
            customer_id=customer.id if customer else None,
            new_customer=typed,
            file_under=int_or_none(form.get("file_under")),
        )
    except BookingError as exc:
        form.booking_error(exc, page.error(exc))
        return await _form_page(page, form, status=400)
    if outcome.booking is None:
        return await _form_page(page, form, status=409, match=outcome.match)
    url = f"/console/bookings/{outcome.booking.reference}"
    if not outcome.created:
        return page.redirect(
            url, flash=page._("This form was already sent: here is the booking it made.")
        )
    if payment == "hold":
        return page.redirect(url, flash=page._("Booking held; the customer gets the details."))
    try:
        await payments.record_box_office_payment(
            page.ctx, actor=actor, reference=outcome.booking.reference, method=payment
        )
    except BookingError as exc:
        return page.redirect(url, flash=page.error(exc), level="error")
    return page.redirect(url, flash=page._("Booking paid; the tickets are issued."))


routes = [
    Route("/bookings/new", new_booking, methods=["GET"]),
    Route("/bookings/new", create_booking, methods=["POST"]),
]
