"""Core settings, read from ``GUICHET_*`` variables or a ``.env`` file."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """What the booking core needs, whatever roles run."""

    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///guichet.db"
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "Europe/Zurich"
    # Minutes before each deadline (3 days, 24 hours) unless an event says otherwise.
    reminder_offsets: str = "4320,1440"
    outbox_max_attempts: int = Field(default=8, ge=1)
    # How long a checkout ("buy only") keeps the places while the customer pays.
    checkout_minutes: int = Field(default=20, ge=1)
