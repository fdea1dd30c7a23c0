"""Which payment provider the pay page uses, read from ``GUICHET_*`` variables."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    # "stripe" (the default when a Stripe key is set), "test" (demos: no money moves; must be
    # asked for explicitly), or "" (no online payment: the page says to contact the organizer).
    pay_provider: Literal["", "stripe", "test"] = ""
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_url: str = "https://api.stripe.com"
    # Stripe's own default; a replayed webhook older than this is refused.
    stripe_webhook_tolerance: int = 300
    # The test provider marks bookings paid with no money moving: behind an https PUBLIC_URL
    # (a real deployment) it runs only when this says so, on purpose (a public demo).
    allow_test_payments: bool = False

    @property
    def provider_name(self) -> str:
        if self.pay_provider:
            return self.pay_provider
        return "stripe" if self.stripe_secret_key.get_secret_value() else ""
