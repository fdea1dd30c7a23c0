"""A booking made for a customer at the desk or on the phone: choose the date, the places and
the customer; hold it (the customer gets the booking email) or take the payment at once."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.services import catalog, catalog_admin, customers, holds, payments
from booking.services.catalog import Offer
from booking.views import CustomerView
from console.web.forms import Form, int_or_none
from console.web.pages import Page, guarded

LANGUAGES = ("en", "fr")
PAYMENT = ("hold", "cash", "card", "transfer")


async def _customer(page: Page, raw: str) -> CustomerView | None:
    customer_id = int_or_none(raw)
    if customer_id is None:
        return None
    try:
        return await customers.get_customer(page.ctx, customer_id=customer_id)
    except BookingError:
        return None


async def _offers(page: Page, performance_id: int | None, customer_type: str) -> list[Offer]:
    if performance_id is None:
        return []
    try:
        return await catalog.offers(
            page.ctx, performance_id=performance_id, channel="console", customer_type=customer_type
        )
    except BookingError:
        return []


async def _form_page(page: Page, form: Form, *, status: int = 200) -> Response:
    performance_id = int_or_none(form.get("performance"))
    customer = await _customer(page, form.get("customer_id"))
    offers = await _offers(
        page, performance_id, customer.customer_type if customer else "individual"
    )
    return page.render(
        "console/bookings/new.html",
        status=status,
        form=form,
        performances=await catalog_admin.performances_on_sale(page.ctx),
        offers=offers,
        customer=customer,
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


@guarded("bookings.create")
async def create_booking(page: Page) -> Response:
    form = Form(page.form, page._)
    performance_id = form.integer("performance", required=True, low=1)
    customer = await _customer(page, form.get("customer_id"))
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
    if customer is None:
        email = form.text("email", required=True, max_length=254)
        name = form.text("name", required=True)
        phone = form.text("phone", max_length=40)
        language = form.choice("language", LANGUAGES)
    if not form.ok or performance_id is None:
        return await _form_page(page, form, status=400)
    actor = page.staff.actor()
    try:
        if customer is None:
            customer, _ = await customers.find_or_create_customer(
                page.ctx, actor=actor, email=email, name=name, phone=phone, language=language
            )
        booking = await holds.hold(
            page.ctx,
            actor=actor,
            customer_id=customer.id,
            performance_id=performance_id,
            lines=lines,
            buy=payment != "hold",
        )
    except BookingError as exc:
        form.booking_error(exc, page.error(exc))
        return await _form_page(page, form, status=400)
    url = f"/console/bookings/{booking.reference}"
    if payment == "hold":
        return page.redirect(url, flash=page._("Booking held; the customer gets the details."))
    try:
        await payments.record_box_office_payment(
            page.ctx, actor=actor, reference=booking.reference, method=payment
        )
    except BookingError as exc:
        return page.redirect(url, flash=page.error(exc), level="error")
    return page.redirect(url, flash=page._("Booking paid; the tickets are issued."))


routes = [
    Route("/bookings/new", new_booking, methods=["GET"]),
    Route("/bookings/new", create_booking, methods=["POST"]),
]
