"""The mail role for the composition root: the email channel, and the IMAP loop to run."""

from __future__ import annotations

import asyncio

from booking.context import Context
from mail.channel import EmailChannel
from mail.imap import ImapMailbox
from mail.runner import run_mail
from mail.settings import MailSettings
from mail.smtp import SmtpSender


def role_status(settings: MailSettings, *, worker: bool) -> str:
    """``running``, or a plain sentence saying why not and what turns it on."""
    if not settings.configured:
        return "off: set GUICHET_SMTP_HOST and GUICHET_IMAP_HOST to send and read email"
    if not worker:
        return "off: email is sent and read by the worker role (--role worker)"
    return "running"


class MailRole:
    def __init__(self, ctx: Context, settings: MailSettings) -> None:
        self.ctx = ctx
        self.settings = settings
        self.sender = SmtpSender(settings)
        self.mailbox = ImapMailbox(settings)

    def channel(self) -> EmailChannel:
        """What ``ctx.channels["email"]`` holds: the outbox delivers notices through it."""
        return EmailChannel(self.ctx, self.settings, self.sender)

    async def run(self, stop: asyncio.Event) -> None:
        await run_mail(self.ctx, self.settings, stop, mailbox=self.mailbox)

    async def close(self) -> None:
        await self.sender.close()
        await self.mailbox.close()
