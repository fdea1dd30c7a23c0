"""Customers and organizations: search, detail with bookings, contacts of an organization."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from booking.errors import BookingError
from booking.queries import directory
from booking.services import customers as customer_service
from console.web.forms import Form, int_or_none
from console.web.pages import Page, guarded

LANGUAGES = ("en", "fr")
KINDS = ("b2b", "group")


async def _customers(page: Page, form: Form | None = None, *, status: int = 200) -> Response:
    number = int_or_none(page.query("page")) or 1
    found = await directory.search_customers(page.ctx, text=page.query("q")[:200], page=number)
    return page.render(
        "console/customers/list.html",
        status=status,
        found=found,
        q=page.query("q"),
        form=form or Form(None, page._, language="en", customer_type="individual"),
        languages=LANGUAGES,
        types=customer_service.CUSTOMER_TYPES,
    )


@guarded("customers.view")
async def customers(page: Page) -> Response:
    return await _customers(page)


@guarded("customers.edit")
async def create_customer(page: Page) -> Response:
    form = Form(page.form, page._)
    email = form.text("email", required=True, max_length=254)
    name = form.text("name", required=True)
    phone = form.text("phone", max_length=40)
    language = form.choice("language", LANGUAGES)
    kind = form.choice("customer_type", customer_service.CUSTOMER_TYPES)
    if form.ok:
        try:
            customer, created = await customer_service.find_or_create_customer(
                page.ctx,
                actor=page.staff.actor(),
                email=email,
                name=name,
                phone=phone,
                language=language,
                customer_type=kind,
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc))
        else:
            text = "Customer created." if created else "A customer with this email already exists."
            return page.redirect(f"/console/customers/{customer.id}", flash=page._(text))
    return await _customers(page, form, status=400)


@guarded("customers.view")
async def customer(page: Page) -> Response:
    try:
        found = await directory.customer_detail(
            page.ctx, customer_id=int(page.request.path_params["customer_id"])
        )
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))
    return page.render("console/customers/detail.html", c=found)


# -- organizations ------------------------------------------------------------------------------


async def _organizations(page: Page, form: Form | None = None, *, status: int = 200) -> Response:
    number = int_or_none(page.query("page")) or 1
    found = await directory.search_organizations(page.ctx, text=page.query("q")[:200], page=number)
    return page.render(
        "console/organizations/list.html",
        status=status,
        found=found,
        q=page.query("q"),
        form=form or Form(None, page._, kind="b2b"),
        kinds=KINDS,
    )


@guarded("customers.view")
async def organizations(page: Page) -> Response:
    return await _organizations(page)


@guarded("organizations.edit")
async def create_organization(page: Page) -> Response:
    form = Form(page.form, page._)
    name = form.text("name", required=True)
    kind = form.choice("kind", KINDS)
    if form.ok and await directory.organization_named(page.ctx, name=name) is not None:
        form.error("name", "This name is already used.")
    if not form.ok:
        return await _organizations(page, form, status=400)
    organization_id = await customer_service.create_organization(
        page.ctx, actor=page.staff.actor(), name=name, kind=kind
    )
    return page.redirect(
        f"/console/organizations/{organization_id}", flash=page._("Organization created.")
    )


async def _organization(
    page: Page, organization_id: int, form: Form | None = None, *, status: int = 200
) -> Response:
    try:
        found = await directory.organization_detail(page.ctx, organization_id=organization_id)
    except BookingError as exc:
        return page.render("console/problem.html", status=404, message=page.error(exc))
    return page.render(
        "console/organizations/detail.html", status=status, o=found, form=form or Form(None, page._)
    )


@guarded("customers.view")
async def organization(page: Page) -> Response:
    return await _organization(page, int(page.request.path_params["organization_id"]))


@guarded("organizations.edit")
async def add_contact(page: Page) -> Response:
    """An existing customer (found by email) becomes a contact: they see all its bookings."""
    organization_id = int(page.request.path_params["organization_id"])
    form = Form(page.form, page._)
    email = form.text("email", required=True, max_length=254)
    if form.ok:
        try:
            found = await customer_service.find_by_email(page.ctx, email=email)
            if found is None:
                raise BookingError("unknown_customer")
            await customer_service.add_contact(
                page.ctx,
                actor=page.staff.actor(),
                organization_id=organization_id,
                customer_id=found.id,
            )
        except BookingError as exc:
            form.booking_error(exc, page.error(exc), field="email")
    if not form.ok:
        return await _organization(page, organization_id, form, status=400)
    return page.redirect(
        f"/console/organizations/{organization_id}", flash=page._("Contact added.")
    )


routes = [
    Route("/customers", customers, methods=["GET"]),
    Route("/customers", create_customer, methods=["POST"]),
    Route("/customers/{customer_id:int}", customer),
    Route("/organizations", organizations, methods=["GET"]),
    Route("/organizations", create_organization, methods=["POST"]),
    Route("/organizations/{organization_id:int}", organization),
    Route("/organizations/{organization_id:int}/contacts", add_contact, methods=["POST"]),
]
