"""Fixtures for the email channel: real SMTP (aiosmtpd) and IMAP (Dovecot) on loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from imap_tools import AND

from booking import outbox
from booking.context import Context
from mail.channel import EmailChannel
from mail.imap import ImapMailbox
from mail.runner import PollReport, poll_once
from mail.settings import MailSettings
from mail.smtp import SmtpSender
from tests.support.fixtures import dovecot, smtp_server  # noqa: F401
from tests.support.mailservers import Dovecot, ReceivedMessage, SmtpRecorder

SAMPLES = Path(__file__).parent / "samples"
DESK = "desk@venue.example"
PUBLIC_URL = "https://tickets.venue.example"


def settings_for(smtp: SmtpRecorder, imap: Dovecot | None = None, **extra: object) -> MailSettings:
    values: dict[str, object] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "mail_from": f"Salle Test <{DESK}>",
        "public_url": PUBLIC_URL,
        "bot_username": "GuichetTestBot",
        "mail_max_bytes": 200_000,
    }
    if imap is not None:
        values |= {
            "imap_host": imap.host,
            "imap_port": imap.port,
            "imap_user": imap.user,
            "imap_password": imap.password,
            "imap_tls": "none",
            "imap_poll_seconds": 0.05,
        }
    values |= extra
    return MailSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def mail_settings(smtp_server: SmtpRecorder) -> MailSettings:  # noqa: F811
    return settings_for(smtp_server)


@pytest.fixture
async def channel(ctx: Context, mail_settings: MailSettings) -> AsyncIterator[EmailChannel]:
    """The email channel registered on ``ctx``, as the runtime does."""
    sender = SmtpSender(mail_settings)
    email = EmailChannel(ctx, mail_settings, sender)
    ctx.channels["email"] = email
    yield email
    await sender.close()


async def deliver(ctx: Context) -> outbox.DeliveryReport:
    return await outbox.deliver_due(ctx)


def reply_to(
    original: ReceivedMessage | EmailMessage,
    body: str,
    *,
    sender: str = "ana@example.org",
    name: str = "Ana Test",
    quote: bool = True,
    html: str | None = None,
    charset: str = "utf-8",
    cte: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A reply as a mail client writes it: to the Reply-To, threaded, the original quoted."""
    message = original.message if isinstance(original, ReceivedMessage) else original
    reply = EmailMessage()
    reply["From"] = f"{name} <{sender}>"
    reply["To"] = str(message["Reply-To"] or message["From"])
    reply["Subject"] = f"Re: {message['Subject']}"
    reply["Message-ID"] = make_msgid(domain="mail.example.org")
    reply["In-Reply-To"] = str(message["Message-ID"])
    reply["References"] = str(message["Message-ID"])
    reply["Date"] = "Mon, 23 Nov 2026 10:14:37 +0100"
    for key, value in (headers or {}).items():
        reply[key] = value
    text = body
    if quote:
        original_text = message.get_body(("plain",))
        quoted = "\n".join(f"> {line}" for line in original_text.get_content().splitlines())  # type: ignore[union-attr]
        text = f"{body}\n\nOn Mon, 23 Nov 2026 at 10:02, Salle Test <{DESK}> wrote:\n\n{quoted}\n"
    if html is None:
        reply.set_content(text, charset=charset, cte=cte)
    else:
        reply.set_content(html, subtype="html", charset=charset, cte=cte)
    return reply.as_bytes()


def text_of(message: ReceivedMessage) -> str:
    body = message.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


class Desk:
    """The email channel wired to real servers: SMTP out (recorded), IMAP in (Dovecot)."""

    def __init__(
        self, ctx: Context, settings: MailSettings, smtp: SmtpRecorder, imap: Dovecot
    ) -> None:
        self.ctx, self.settings, self.smtp, self.imap = ctx, settings, smtp, imap
        self.sender = SmtpSender(settings)
        self.mailbox = ImapMailbox(settings)
        self._seen = 0
        ctx.channels["email"] = EmailChannel(ctx, settings, self.sender)

    async def send_out(self) -> list[ReceivedMessage]:
        """Deliver what the outbox holds; the messages the SMTP server received."""
        report = await deliver(self.ctx)
        assert not report.errors, report.errors
        messages = await self.smtp.wait_for_count(self._seen + report.sent)
        new, self._seen = messages[self._seen :], len(messages)
        return new

    async def receive(self, *raws: bytes) -> PollReport:
        """Put messages in the mailbox as a mail server would, then run one poll."""
        for raw in raws:
            await asyncio.to_thread(self.imap.append, raw)
        return await poll_once(self.ctx, self.settings, self.mailbox)

    def flagged(self) -> int:
        with self.imap.mailbox() as box:
            return len(list(box.fetch(AND(flagged=True), mark_seen=False, headers_only=True)))

    async def close(self) -> None:
        await self.mailbox.close()
        await self.sender.close()


@pytest.fixture
async def desk(
    ctx: Context,
    smtp_server: SmtpRecorder,  # noqa: F811
    dovecot: Dovecot,  # noqa: F811
) -> AsyncIterator[Desk]:
    found = Desk(ctx, settings_for(smtp_server, dovecot), smtp_server, dovecot)
    yield found
    await found.close()


def sample(name: str, reply_address: str | None = None) -> bytes:
    """A message from tests/mail/samples, re-addressed to a real booking's Reply-To."""
    raw = (SAMPLES / name).read_bytes()
    if reply_address is not None:
        raw = re.sub(rb"desk\+[a-z2-7]+@venue\.example", reply_address.encode(), raw)
    return raw


def bounced(raw: bytes, envelope: str) -> bytes:
    """A bounce sample as the mail system delivers it back to the envelope sender (VERP):
    addressed to ``envelope`` instead of the bare desk address."""
    return re.sub(
        rb"(?m)^(To|Delivered-To): desk@venue\.example", rb"\1: " + envelope.encode(), raw
    )


def reply_address(message: ReceivedMessage) -> str:
    return str(message.message["Reply-To"].addresses[0].addr_spec)  # type: ignore[union-attr]


def pay_path(message: ReceivedMessage) -> str:
    found = re.search(rf"{re.escape(PUBLIC_URL)}(/pay/[A-Za-z0-9_-]+)", text_of(message))
    assert found, text_of(message)
    return found.group(1)
