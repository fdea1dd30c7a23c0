"""The email channel's settings, read from ``GUICHET_*`` variables or a ``.env`` file."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from booking.settings import PublicUrlSettings

TlsMode = Literal["starttls", "tls", "none"]


class MailSettings(PublicUrlSettings):
    model_config = SettingsConfigDict(env_prefix="GUICHET_", env_file=".env", extra="ignore")

    # Outbound. "starttls" upgrades a plain connection (port 587), "tls" is implicit TLS
    # (port 465), "none" is for a relay on localhost only.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: TlsMode = "starttls"
    smtp_timeout: float = Field(default=30.0, gt=0)
    # A CA bundle to trust for a relay with a private certificate (empty: the system's).
    smtp_ca_file: str = ""
    # Inbound: the mailbox the plus-addressed Reply-To lands in.
    imap_host: str = ""
    imap_port: int = 993
    imap_user: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_folder: str = "INBOX"
    imap_tls: TlsMode = "tls"
    imap_poll_seconds: float = Field(default=30.0, gt=0)
    imap_batch: int = Field(default=50, ge=1)
    imap_concurrency: int = Field(default=4, ge=1)  # messages processed at once
    # "Guichet <desk@venue.example>": replies come back to desk+<token>@venue.example.
    mail_from: str = "Guichet <guichet@localhost>"
    mail_max_bytes: int = Field(default=5_000_000, ge=10_000)
    # Without it, emails carry no Telegram link.
    bot_username: str = ""
    # The authserv-id the operator's receiving server writes in Authentication-Results
    # (e.g. "mx.venue.example"). Only those headers are read, for DMARC/SPF/DKIM verdicts;
    # empty: no verdict is read (anyone can add such a header), see mail.inbound.dmarc_failed.
    mail_authserv_id: str = ""

    @property
    def from_address(self) -> str:
        """The bare address of MAIL_FROM (``desk@venue.example``)."""
        return parseaddr(self.mail_from)[1] or "guichet@localhost"

    @property
    def from_name(self) -> str:
        return parseaddr(self.mail_from)[0] or "Guichet"

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"

    @property
    def configured(self) -> bool:
        return bool(self.smtp_host and self.imap_host)
