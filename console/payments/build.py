"""Pick the configured provider (used by the composition root and the tests)."""

from __future__ import annotations

import logging

from booking.payment_providers import PaymentProvider
from console.payments.settings import PaySettings
from console.payments.stripe import StripeCheckout
from console.payments.test_provider import TestProvider

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
        log.warning("pay page: the TEST payment provider is on; no real money moves")
        return TestProvider(public_url)
    return None
