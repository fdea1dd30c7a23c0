"""What the bot reads from ``GUICHET_*`` variables or a ``.env`` file."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from booking.settings import PublicUrlSettings

WEBHOOK_PATH = "/telegram/webhook"


class BotSettings(PublicUrlSettings):
    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    # SecretStr: tokens never show in a repr, a traceback or a log line.
    bot_token: SecretStr = SecretStr("")
    # Another Bot API server (self-hosted, or the tests' fake); empty: Telegram's.
    bot_api_url: str = ""
    bot_mode: Literal["polling", "webhook"] = "polling"
    payment_provider_token: SecretStr = SecretStr("")
    redis_url: SecretStr = SecretStr("")  # may carry a password
    # Empty: derived from the secret key, so every process agrees without configuration.
    webhook_secret: SecretStr = SecretStr("")
    # The web pay page's provider (read here only to know whether a pay link can be offered
    # when Telegram Payments are off; console.payments owns these settings).
    pay_provider: str = ""
    stripe_secret_key: SecretStr = SecretStr("")

    @property
    def webhook_url(self) -> str:
        return self.public_url.rstrip("/") + WEBHOOK_PATH

    @property
    def payments_on(self) -> bool:
        """Telegram Payments: an invoice in the chat."""
        return bool(self.payment_provider_token.get_secret_value())

    @property
    def pay_page_on(self) -> bool:
        """The web pay page of the email channel, reachable by a signed link."""
        return bool(self.pay_provider or self.stripe_secret_key.get_secret_value())

    @property
    def can_pay_online(self) -> bool:
        return self.payments_on or self.pay_page_on


def derive_webhook_secret(secret_key: str) -> str:
    """Telegram's secret_token allows 1-256 characters of [A-Za-z0-9_-]: 43 of base64url."""
    mac = hmac.new(secret_key.encode(), b"guichet/telegram-webhook/v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
