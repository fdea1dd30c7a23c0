"""Pick the configured provider (used by the composition root and the tests)."""

from __future__ import annotations

import logging

from booking.payment_providers import PaymentProvider
from console.payments.settings import PaySettings
from console.payments.stripe import StripeCheckout
from console.payments.test_provider import TestProvider
from console.settings import ConfigurationError

log = logging.getLogger(__name__)


def build_provider(settings: PaySettings, *, public_url: str) -> PaymentProvider | None:
    name = settings.provider_name
    if name == "stripe":
        if not settings.stripe_webhook_secret.get_secret_value():
            log.warning("pay page: GUICHET_STRIPE_WEBHOOK_SECRET is not set; payments made on "
                        "Stripe will not be confirmed")  # fmt: skip
        return StripeCheckout(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_url=settings.stripe_api_url,
            tolerance=settings.stripe_webhook_tolerance,
        )
    if name == "test":
        check_test_payments(public_url, allowed=settings.allow_test_payments)
        log.warning("pay page: the TEST payment provider is on; no real money moves")
        return TestProvider(public_url)
    return None


def check_test_payments(public_url: str, *, allowed: bool) -> None:
    """Behind https (a real deployment) the test provider, whose button marks a booking paid
    with no money moving, runs only when GUICHET_ALLOW_TEST_PAYMENTS says so."""
    if public_url.startswith("https://") and not allowed:
        raise ConfigurationError(
            "GUICHET_PAY_PROVIDER=test marks bookings paid with no money moving; it is refused "
            "behind an https GUICHET_PUBLIC_URL unless GUICHET_ALLOW_TEST_PAYMENTS=true"
        )
