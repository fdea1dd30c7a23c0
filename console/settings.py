"""What the composition root reads to decide which roles run (all ``GUICHET_*``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """A configuration that must not run; the message names the variable to fix."""


class RuntimeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    web_host: str = "127.0.0.1"
    web_port: int = 8000
    log_level: str = "info"
    # Proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDRs, comma-separated). Empty:
    # none, the socket's peer is the client (see console.serving).
    trusted_proxies: str = ""
    # Presence of these turns the bot and mail roles on (their own packages read the rest).
    bot_token: str = ""
    smtp_host: str = ""
    imap_host: str = ""
