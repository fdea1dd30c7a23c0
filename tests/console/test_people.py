"""Customers and organizations: search, detail with bookings, contacts of an organization."""

from __future__ import annotations

from booking.context import Context
from booking.queries import directory
from booking.services import customers
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory, references


async def test_customers_are_found_by_name_email_or_phone_and_shown_with_their_bookings(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    ana = await make_customer(app_ctx, email="ana@example.org", name="Ana Lima")
    booking = await make_held_booking(app_ctx, cat, ana)
    await make_customer(app_ctx, email="zoe@example.org", name="Zoé Blanc")
    console = await console_for("box_office")
    by_name = await console.get("/console/customers", q="lima")
    assert "Ana Lima" in by_name.text and "Zoé Blanc" not in by_name.text
    by_email = await console.get("/console/customers", q="zoe@")
    assert "Zoé Blanc" in by_email.text and "Ana Lima" not in by_email.text
    detail = await console.get(f"/console/customers/{ana.id}")
    assert references(detail.text) == [booking.reference]
    assert f"/console/bookings/new?customer={ana.id}" in detail.text
    assert (await console.get("/console/customers/999")).status_code == 404


async def test_a_customer_is_created_at_the_desk_and_a_bad_email_comes_back(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    console = await console_for("box_office")
    await console.get("/console/customers")
    fields = {
        "name": "Léon Roux",
        "email": "leon.roux",
        "phone": "+41 21 000 00 00",
        "language": "fr",
        "customer_type": "individual",
    }
    bad = await console.post("/console/customers", fields)
    assert bad.status_code == 400 and "Please give a valid email address." in bad.text
    assert 'value="Léon Roux"' in bad.text and 'value="+41 21 000 00 00"' in bad.text
    made = await console.post("/console/customers", {**fields, "email": "Leon.Roux@Example.org"})
    assert made.status_code == 303
    found = await customers.find_by_email(app_ctx, email="leon.roux@example.org")
    assert found is not None and found.language == "fr"
    again = await console.post("/console/customers", {**fields, "email": "leon.roux@example.org"})
    page = await console.get(again.headers["location"])
    assert "A customer with this email already exists." in page.text


async def test_organizations_with_their_contacts_and_bookings(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    console = await console_for("organizer")
    await console.get("/console/organizations")
    made = await console.post("/console/organizations", {"name": "Club Alpin", "kind": "group"})
    assert made.status_code == 303
    org_id = int(made.headers["location"].rsplit("/", 1)[1])
    twice = await console.post("/console/organizations", {"name": "Club Alpin", "kind": "group"})
    assert twice.status_code == 400 and "This name is already used." in twice.text
    contact = await make_customer(app_ctx, email="guide@club.example", name="Guide Chef")
    await console.get(f"/console/organizations/{org_id}")
    unknown = await console.post(
        f"/console/organizations/{org_id}/contacts", {"email": "nobody@club.example"}
    )
    assert unknown.status_code == 400 and "Customer not found." in unknown.text
    added = await console.post(
        f"/console/organizations/{org_id}/contacts", {"email": "GUIDE@club.example"}
    )
    assert added.status_code == 303
    member = await customers.get_customer(app_ctx, customer_id=contact.id)
    booking = await make_held_booking(app_ctx, cat, member)
    page = await console.get(f"/console/organizations/{org_id}")
    assert "Guide Chef" in page.text and references(page.text) == [booking.reference]
    by_org = await console.get("/console/bookings", org="ALPIN")
    assert references(by_org.text) == [booking.reference]
    on_screen = await console.get("/console/releases", org="alpin", horizon="10")
    assert references(on_screen.text) == [booking.reference]
    assert references((await console.get("/console/releases", org="nobody")).text) == []
    listing = await console.get("/console/organizations", q="alpin")
    assert "Club Alpin" in listing.text
    found = await directory.search_organizations(app_ctx, text="club")
    assert [(o.name, o.kind, o.contacts) for o in found.rows] == [("Club Alpin", "group", 1)]
    desk = await console_for("box_office")
    await desk.get("/console/organizations")
    refused = await desk.post("/console/organizations", {"name": "Other", "kind": "b2b"})
    assert refused.status_code == 403
    assert await directory.organization_named(app_ctx, name="Other") is None
    assert STAFF.kind == "staff"
