"""Core settings, read from ``GUICHET_*`` variables or a ``.env`` file."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def local_url(host: str, port: int) -> str:
    """The web role's own address (a wildcard host is reached on loopback)."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


class PublicUrlSettings(BaseSettings):
    """GUICHET_PUBLIC_URL, the base of links sent to customers. Unset, it is the web role's own
    address (GUICHET_WEB_HOST and GUICHET_WEB_PORT), so a changed port never breaks pay links;
    ``public_url_set`` tells serve to warn that customers elsewhere cannot reach it."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    public_url: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = 8000

    @property
    def public_url_set(self) -> bool:
        return "public_url" in self.model_fields_set

    @model_validator(mode="after")
    def _default_public_url(self) -> PublicUrlSettings:
        if not self.public_url:
            self.public_url = local_url(self.web_host, self.web_port)
            self.model_fields_set.discard("public_url")
        return self


class CoreSettings(PublicUrlSettings):
    """What the booking core needs, whatever roles run."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///guichet.db"
    secret_key: str = ""
    timezone: str = "Europe/Zurich"
    # Minutes before each deadline (3 days, 24 hours) unless an event says otherwise.
    reminder_offsets: str = "4320,1440"
    outbox_max_attempts: int = Field(default=8, ge=1)
    # How long a checkout ("buy only") keeps the places while the customer pays.
    checkout_minutes: int = Field(default=20, ge=1)
    # Bookings one customer may have waiting for payment (held or overdue) before a new hold
    # through Telegram or email is refused; 0: no limit. The box office is never limited.
    max_open_holds: int = Field(default=5, ge=0)
