"""Sending through SMTP with aiosmtplib: STARTTLS or implicit TLS, login, a few kept connections.

Failures are sorted for the outbox (SPEC §11: never a lost message): a server that is down,
slow, refusing us or answering 4xx means ``RetryLater`` (the outbox backs off and tries
again); a permanent 5xx on the recipient means ``Unreachable`` (the address is dead: the
customer is marked undeliverable and the notice falls back to Telegram when linked).

Failures of the server itself (unreachable, login refused, 421, connection lost) are marked
``outage``: logged once and shown in /healthz until mail goes out again. Reasons name the
kind of failure and the SMTP code only, never the account or its password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from email import policy
from email.message import EmailMessage

import aiosmtplib

from booking.outbox import RetryLater, Unreachable
from mail.settings import MailSettings

log = logging.getLogger(__name__)
# Headers may use the 998 characters RFC 5322 allows: the stdlib's folding at 78 splits some
# subjects right after "Subject:" (the "(Switzerland Time)" of a deadline), which clients show
# with a leading space.
WIRE = policy.SMTP.clone(max_line_length=998)
SERVICE_NOT_AVAILABLE = 421  # RFC 5321 4.2.3: the server is closing the channel for everyone


class SmtpSender:
    """Keeps up to ``pool_size`` authenticated connections open; each send uses one alone."""

    def __init__(self, settings: MailSettings, *, pool_size: int = 8) -> None:
        self.settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(pool_size)

    async def send(
        self, message: EmailMessage | bytes, *, sender: str, recipients: list[str]
    ) -> None:
        async with self._slots:
            client = await self._client()
            try:
                await self._send_on(client, message, sender, recipients)
            except _Stale:
                # A kept connection the server closed while idle: once more on a fresh one.
                await _close(client)
                client = await self._connect()
                try:
                    await self._send_on(client, message, sender, recipients)
                except BaseException:
                    await _close(client)
                    raise
            except BaseException:
                await _close(client)
                raise
            self._idle.append(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _close(client, polite=True)

    async def _client(self) -> aiosmtplib.SMTP:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            cert_bundle=s.smtp_ca_file or None,
        )
        try:
            await client.connect()
            if s.smtp_user:
                await client.login(s.smtp_user, s.smtp_password.get_secret_value())
        except aiosmtplib.SMTPAuthenticationError as exc:
            await _close(client)
            # A configuration problem, not the customer's: keep the message and say why.
            raise RetryLater(f"SMTP login refused ({exc.code})", outage=True) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await _close(client)
            raise RetryLater(f"SMTP server unavailable: {type(exc).__name__}", outage=True) from exc
        return client

    async def _send_on(
        self,
        client: aiosmtplib.SMTP,
        message: EmailMessage | bytes,
        sender: str,
        recipients: list[str],
    ) -> None:
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=WIRE)
        try:
            await client.sendmail(sender, recipients, raw)
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise _Stale from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [e.code for e in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise Unreachable(f"recipient refused ({codes[0]})") from exc
            raise RetryLater(f"recipient deferred ({codes[0] if codes else '?'})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx is temporary by definition; a 5xx on MAIL or DATA is about the message or
            # our account, not the address, so it is retried too (and is dead after N tries).
            # 421 is the server itself closing for everyone: an outage, not this message.
            outage = exc.code == SERVICE_NOT_AVAILABLE
            raise RetryLater(f"SMTP server answered {exc.code}", outage=outage) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryLater(f"SMTP connection lost: {type(exc).__name__}", outage=True) from exc


class _Stale(RetryLater):
    def __init__(self) -> None:
        super().__init__("SMTP connection lost")


async def _close(client: aiosmtplib.SMTP, *, polite: bool = False) -> None:
    if polite and client.is_connected:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
            await client.quit()
            return
    client.close()
