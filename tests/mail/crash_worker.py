"""A mail worker that dies by SIGKILL at a chosen point (run by test_crash.py).

    python -m tests.mail.crash_worker DATABASE_URL IMAP_PORT SMTP_PORT MODE

MODE ``after-commit``: the poll commits what it did, then the process is killed before the
IMAP flag. MODE ``mid-transaction``: killed inside the transaction, after the service call and
before the commit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import inbound
from booking.settings import CoreSettings
from mail.imap import ImapMailbox
from mail.runner import poll_once
from mail.settings import MailSettings
from tests.conftest import NOW


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DyingMailbox(ImapMailbox):
    async def flag_done(self, uids: list[str]) -> None:
        die()


async def main(url: str, imap_port: int, smtp_port: int, mode: str) -> None:
    core = CoreSettings(database_url=url, secret_key="test-secret", _env_file=None)  # type: ignore[call-arg]
    ctx = Context.create(core, clock=FrozenClock(NOW))
    settings = MailSettings(
        _env_file=None,  # type: ignore[call-arg]
        smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_tls="none",
        imap_host="127.0.0.1", imap_port=imap_port, imap_user="desk", imap_password="secret",
        imap_tls="none", mail_from="Salle Test <desk@venue.example>",
    )  # fmt: skip
    if mode == "mid-transaction":
        queue = inbound._queue

        async def dying_queue(*args: object, **kwargs: object) -> None:
            await queue(*args, **kwargs)  # type: ignore[arg-type]
            die()

        inbound._queue = dying_queue  # type: ignore[assignment]
    await poll_once(ctx, settings, DyingMailbox(settings))
    raise SystemExit("the worker should have been killed")


if __name__ == "__main__":
    url, imap_port, smtp_port, mode = sys.argv[1:]
    asyncio.run(main(url, int(imap_port), int(smtp_port), mode))
