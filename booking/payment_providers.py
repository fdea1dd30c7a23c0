"""What the pay page needs from a payment provider (Stripe Checkout, or the labelled test one).

The core declares the protocol; ``console.payments`` holds the concrete adapters and the
composition root picks one. A provider only starts a checkout and says where to send the
customer; confirming a payment always goes through ``booking.services.checkouts``, whatever
the provider (its webhook, or the test page's button).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    reference: str
    amount_minor: int
    currency: str
    description: str  # "Booking K7M-4QX · La Traviata"
    customer_email: str | None
    success_url: str
    cancel_url: str
    idempotency_key: str  # the same request twice opens one checkout at the provider


@dataclass(frozen=True, slots=True)
class CheckoutStart:
    session_id: str  # the provider's id, matched back when the payment is reported
    redirect_url: str  # where the customer's browser goes to pay


@dataclass(frozen=True, slots=True)
class PaymentReport:
    """A provider's verified word that a checkout session was paid."""

    session_id: str
    amount_minor: int
    currency: str


class PaymentProvider(Protocol):
    name: str  # stored with the checkout session and the payment ("stripe", "test")
    is_test: bool  # shown plainly on the pay page: no real money moves

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStart: ...

    def read_report(self, payload: bytes, headers: Mapping[str, str]) -> PaymentReport | None:
        """The payment a webhook call reports; None for events that report none. Raises
        UntrustedReport when the call cannot be verified (forged, replayed, malformed)."""
        ...


class UntrustedReport(Exception):
    """A webhook call that is not provably from the provider."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or refused the request; the customer may retry."""
