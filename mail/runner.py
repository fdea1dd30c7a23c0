"""The worker's IMAP loop: fetch new messages, process each, flag what was committed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field

from booking.context import Context
from booking.settings_store import secret_key
from mail.imap import Fetched, ImapError, ImapMailbox
from mail.inbound import process
from mail.settings import MailSettings

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    fetched: int = 0
    flagged: int = 0
    failed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


async def poll_once(ctx: Context, settings: MailSettings, mailbox: ImapMailbox) -> PollReport:
    """One batch. A message whose processing fails stays unflagged and is tried again at the
    next poll; it never holds the others back."""
    report = PollReport()
    fetched = await mailbox.fetch_new(limit=settings.imap_batch)
    report.fetched = len(fetched)
    if not fetched:
        return report
    secret = (await secret_key(ctx)).encode()
    done: list[str] = []
    # A few at a time: one message's reads overlap another's write. Two messages about one
    # booking may then run in either order, as mail may arrive in either order anyway.
    gate = asyncio.Semaphore(settings.imap_concurrency)

    async def one(message: Fetched) -> None:
        async with gate:
            try:
                outcome = await process(
                    ctx, message.raw, settings=settings, size=message.size, secret=secret
                )
            except Exception:  # a database outage or a bug: keep it for the next poll
                log.exception("inbound message uid %s failed; it will be retried", message.uid)
                report.failed += 1
                return
        report.outcomes[outcome.status] += 1
        done.append(message.uid)

    await asyncio.gather(*(one(m) for m in fetched))
    # Only now, after every commit above: a crash before this line re-runs them as no-ops.
    await mailbox.flag_done(done)
    report.flagged = len(done)
    return report


async def run_mail(
    ctx: Context, settings: MailSettings, stop: asyncio.Event, *, mailbox: ImapMailbox | None = None
) -> None:
    """Poll every ``imap_poll_seconds`` (at once again after a full batch) until ``stop``."""
    mailbox = mailbox or ImapMailbox(settings)
    log.info(
        "mail: reading %s@%s:%d/%s every %.0f s",
        settings.imap_user, settings.imap_host, settings.imap_port, settings.imap_folder,
        settings.imap_poll_seconds,
    )  # fmt: skip
    try:
        while not stop.is_set():
            full = False
            try:
                report = await poll_once(ctx, settings, mailbox)
                full = report.fetched >= settings.imap_batch
                if report.fetched:
                    log.info("mail: %s", dict(report.outcomes))
            except ImapError as exc:
                log.warning("mail: IMAP unavailable (%s); trying again later", exc)
            except Exception:  # the loop must outlive one bad poll
                log.exception("mail: poll failed")
            if not full:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(settings.imap_poll_seconds):
                        await stop.wait()
    finally:
        await mailbox.close()
