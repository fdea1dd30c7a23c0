"""The one search on the console's pages (issue 10, point 4): "jeanne" lists Jeanne
Téléphone's booking on the bookings page, on the release screen's customer filter and in the
directory, though it reads as the reference JEA-NNE; a typed reference still opens its
booking."""

from __future__ import annotations

from booking.context import Context
from booking.services import customers
from tests.builders import STAFF, make_catalog, make_held_booking
from tests.console.conftest import ConsoleFactory, both, references


@both
async def test_jeanne_is_found_on_every_page_that_searches_people(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    jeanne, _ = await customers.find_or_create_customer(
        app_ctx,
        actor=STAFF,
        email="jeanne.ph@example.org",
        name="Jeanne Téléphone",
        phone="079 123 45 67",
    )
    booking = await make_held_booking(app_ctx, cat, jeanne, quantity=1)
    console = await console_for("admin")
    for typed in ("jeanne", "telephone", "jeanne.ph", "0041 79 123 45 67"):
        listed = await console.get("/console/bookings", q=typed)
        assert listed.status_code == 200 and references(listed.text) == [booking.reference]
        released = await console.get("/console/releases", customer=typed, horizon="60")
        assert released.status_code == 200 and references(released.text) == [booking.reference]
        people = await console.get("/console/customers", q=typed)
        assert people.status_code == 200 and f"/console/customers/{jeanne.id}" in people.text
    typed = booking.reference.lower().replace("-", "")
    opened = await console.get("/console/bookings", q=typed)
    assert opened.status_code == 303 and opened.headers["location"].endswith(booking.reference)
