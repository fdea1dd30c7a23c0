"""Who may cancel what (SPEC §5): one rule for the service that cancels and for the card that
offers the button, so a customer is never shown "Cancel booking" only to be refused."""

from __future__ import annotations

from booking.rules import states


def customer_may_cancel(status: str, *, cancellation_allowed: bool) -> bool:
    """Holds can always be cancelled by their customer; paid tickets only where the event
    allows it. Closed bookings (cancelled, expired) cannot be cancelled by anyone."""
    if status in states.OPEN:
        return True
    return status == states.CONFIRMED and cancellation_allowed
