"""Reading the mailbox with imap-tools; every blocking call runs in a thread, one at a time.

A message is "new" while it is not \\Flagged: it is fetched with BODY.PEEK (so it stays
unread for a person looking at the mailbox) and flagged only after ``process`` committed
what it did. A crash in between leaves it unflagged, and the next poll finds it again; the
Message-ID record makes that second pass a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.mailbox import BaseMailBox

from mail.settings import MailSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: str
    raw: bytes  # the whole message, or only its header section when it is oversized
    size: int  # RFC822.SIZE as the server reports it


class ImapError(Exception):
    """The server is unreachable or refused us; the runner waits and tries again."""


class ImapMailbox:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._box: BaseMailBox | None = None
        self._lock = asyncio.Lock()  # imaplib is not thread-safe: one command at a time

    async def fetch_new(self, *, limit: int) -> list[Fetched]:
        return await self._run(lambda box: _fetch_new(box, limit, self.settings.mail_max_bytes))

    async def flag_done(self, uids: list[str]) -> None:
        if uids:
            await self._run(lambda box: _store(box, uids))

    async def close(self) -> None:
        async with self._lock:
            box, self._box = self._box, None
            if box is not None:
                await asyncio.to_thread(_logout, box)

    async def _run(self, work: Callable[[BaseMailBox], T]) -> T:
        async with self._lock:
            try:
                return await asyncio.to_thread(self._call, work)
            except (imaplib.IMAP4.error, OSError, TimeoutError, ssl.SSLError) as exc:
                box, self._box = self._box, None
                if box is not None:
                    await asyncio.to_thread(_logout, box)
                raise ImapError(f"{type(exc).__name__}: {exc}") from exc

    def _call(self, work: Callable[[BaseMailBox], T]) -> T:
        if self._box is None:
            self._box = self._login()
        return work(self._box)

    def _login(self) -> BaseMailBox:
        s = self.settings
        box: BaseMailBox
        if s.imap_tls == "tls":
            box = MailBox(s.imap_host, s.imap_port, timeout=30)
        elif s.imap_tls == "starttls":
            box = MailBoxStartTls(s.imap_host, s.imap_port, timeout=30)
        else:
            box = MailBoxUnencrypted(s.imap_host, s.imap_port, timeout=30)
        box.login(s.imap_user, s.imap_password.get_secret_value(), initial_folder=s.imap_folder)
        return box


def _fetch_new(box: BaseMailBox, limit: int, max_bytes: int) -> list[Fetched]:
    client = box.client
    # Refresh the folder so messages appended since the last poll are seen.
    client.noop()
    status, data = client.uid("SEARCH", "UNFLAGGED", "UNDELETED")
    _check(status, data)
    uids = [u.decode() for u in (data[0] or b"").split()][:limit]
    if not uids:
        return []
    sizes = _sizes(client, uids)
    small = [u for u in uids if sizes.get(u, 0) <= max_bytes]
    large = [u for u in uids if sizes.get(u, 0) > max_bytes]
    bodies = _bodies(client, small, "BODY.PEEK[]") | _bodies(client, large, "BODY.PEEK[HEADER]")
    return [Fetched(u, bodies[u], sizes.get(u, len(bodies[u]))) for u in uids if u in bodies]


def _sizes(client: imaplib.IMAP4, uids: list[str]) -> dict[str, int]:
    status, data = client.uid("FETCH", ",".join(uids), "(RFC822.SIZE)")
    _check(status, data)
    sizes: dict[str, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (uid := _UID.search(line)) and (size := _SIZE.search(line)):
            sizes[uid.group(1).decode()] = int(size.group(1))
    return sizes


def _bodies(client: imaplib.IMAP4, uids: list[str], part: str) -> dict[str, bytes]:
    if not uids:
        return {}
    status, data = client.uid("FETCH", ",".join(uids), f"(UID {part})")
    _check(status, data)
    found: dict[str, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and (uid := _UID.search(item[0])):
            found[uid.group(1).decode()] = item[1]
    return found


def _store(box: BaseMailBox, uids: list[str]) -> None:
    # STORE directly: imap-tools' flag() also expunges, which is not ours to do.
    status, data = box.client.uid("STORE", ",".join(uids), "+FLAGS", r"(\Flagged \Seen)")
    _check(status, data)


def _check(status: str, data: Any) -> None:
    if status != "OK":
        raise imaplib.IMAP4.error(f"IMAP command failed: {status} {data!r}"[:300])


def _logout(box: BaseMailBox) -> None:
    with contextlib.suppress(Exception):  # the connection may already be gone
        box.logout()
