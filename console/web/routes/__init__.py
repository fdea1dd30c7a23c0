"""The console's routes, one module per page; mounted under /console by ``app.build_app``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from console.web.routes import (
    auth,
    booking_actions,
    booking_new,
    bookings,
    customers,
    dashboard,
    door,
    events,
    extensions,
    outbox,
    pass_additions,
    pass_holders,
    passes,
    releases,
    renewals,
    reports,
    staff,
    venues,
)


def console_routes() -> list[BaseRoute]:
    # booking_new before bookings: "/bookings/new" is not a booking reference.
    modules = (
        auth,
        dashboard,
        booking_new,
        booking_actions,
        bookings,
        releases,
        extensions,
        events,
        venues,
        customers,
        outbox,
        reports,
        staff,
        door,
        pass_holders,
        pass_additions,
        renewals,
        passes,
    )
    return [route for module in modules for route in module.routes]
