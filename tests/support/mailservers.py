"""Real SMTP and IMAP servers on 127.0.0.1 for the mail tests.

``SmtpRecorder`` is an aiosmtpd server that keeps what it receives. ``Dovecot`` runs Debian's
dovecot from a throw-away directory, with one user (``desk``/``secret``) and a maildir.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imap_tools import MailBoxUnencrypted

LOOPBACK = "127.0.0.1"
DOVECOT_BIN = "/usr/sbin/dovecot"
DOVECOT_MISSING = "dovecot-imapd not installed (apt-get install dovecot-imapd)"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    login: str | None  # the AUTH user, when the client authenticated


class _LoopbackController(Controller):
    """Binds port 0 and reads the port back, instead of guessing a free one (no race)."""

    def _create_server(self) -> Any:
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
        )
        self.port = server.sockets[0].getsockname()[1]
        return server


class SmtpRecorder:
    """``with SmtpRecorder() as smtp:`` (or ``async with``) serves on ``smtp.host:smtp.port``.

    With ``auth=(user, password)`` MAIL is refused until the client has authenticated (LOGIN or
    PLAIN, allowed without TLS). ``tls_context`` enables STARTTLS; it is off by default.
    """

    host = LOOPBACK

    def __init__(
        self, *, auth: tuple[str, str] | None = None, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.auth = auth
        self.messages: list[ReceivedMessage] = []
        self.port = 0
        self._lock = threading.Lock()  # the server runs in aiosmtpd's own thread and loop
        self._refusals: list[tuple[str, str]] = []  # (stage, reply), consumed in order
        self._wakers: list[Callable[[], None]] = []
        kwargs: dict[str, Any] = {"auth_require_tls": False}
        if auth is not None:
            kwargs["authenticator"] = self._authenticate
        if tls_context is not None:
            kwargs["tls_context"] = tls_context
        self._controller = _LoopbackController(_Handler(self), hostname=LOOPBACK, **kwargs)

    def start(self) -> None:
        self._controller.start()
        self.port = self._controller.port

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)  # start() blocks until the server answers
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def refuse_next(
        self, n: int = 1, code: int = 451, *, stage: Literal["DATA", "RCPT"] = "DATA"
    ) -> None:
        """Answer the next ``n`` DATA (or RCPT) commands with a temporary failure."""
        with self._lock:
            reply = f"{code} 4.3.0 Temporary failure, try again later"
            self._refusals.extend([(stage, reply)] * n)

    async def wait_for_count(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the helper's contract, like pytest's
    ) -> list[ReceivedMessage]:
        """Wait until at least ``n`` messages were accepted; returns them all."""
        loop = asyncio.get_running_loop()
        arrived = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(arrived.set)

        with self._lock:
            self._wakers.append(wake)
        try:
            async with asyncio.timeout(timeout):
                while len(self.messages) < n:
                    await arrived.wait()
                    arrived.clear()
        except TimeoutError:
            got = [(m.mail_from, m.rcpt_tos, m.message["Subject"]) for m in self.messages]
            raise AssertionError(f"expected {n} messages within {timeout}s, got {got}") from None
        finally:
            with self._lock:
                self._wakers.remove(wake)
        return list(self.messages)

    def _take_refusal(self, stage: str) -> str | None:
        with self._lock:
            if self._refusals and self._refusals[0][0] == stage:
                return self._refusals.pop(0)[1]
        return None

    def _record(self, message: ReceivedMessage) -> None:
        with self._lock:
            self.messages.append(message)
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.auth is not None
            and (data.login.decode(), data.password.decode()) == self.auth
        )
        # handled=False lets aiosmtpd answer a failure with 535 itself (True would leave it silent)
        return AuthResult(success=ok, handled=False, auth_data=data)


class _Handler:
    def __init__(self, recorder: SmtpRecorder) -> None:
        self.recorder = recorder

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # Enforced here rather than with aiosmtpd's auth_required, which warns (an error under
        # filterwarnings=error) when AUTH is required without TLS.
        if self.recorder.auth is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if refusal := self.recorder._take_refusal("RCPT"):
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if refusal := self.recorder._take_refusal("DATA"):
            return refusal
        raw = cast(bytes, envelope.original_content)
        auth = session.auth_data  # the LoginPassword our authenticator accepted
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        parsed = message_from_bytes(raw, policy=policy.default)  # policy.default: EmailMessage
        self.recorder._record(
            ReceivedMessage(str(envelope.mail_from), list(envelope.rcpt_tos), raw, parsed, login)
        )
        return "250 Message accepted for delivery"


# -- Dovecot ----------------------------------------------------------------------------------


def dovecot_binary() -> str | None:
    return DOVECOT_BIN if os.access(DOVECOT_BIN, os.X_OK) else shutil.which("dovecot")


def _free_port() -> int:
    # Dovecot binds the port itself, so one is picked here; a lost race is retried in start().
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _identities() -> tuple[str, str, str, int, int]:
    """(internal user, login user, internal group, mail uid, mail gid) for this process."""
    if os.geteuid() == 0:
        # As root: imap-login refuses to run as root ("This process must not be run as root") and
        # userdb refuses uid 0 for mail, so use the users Debian's package creates for its
        # services, and serve the mailbox as nobody.
        nobody = pwd.getpwnam("nobody")
        return "dovecot", "dovenull", "dovecot", nobody.pw_uid, nobody.pw_gid
    # Unprivileged: everything runs as us (dovecot cannot switch users anyway).
    me = pwd.getpwuid(os.getuid()).pw_name
    return me, me, grp.getgrgid(os.getgid()).gr_name, os.getuid(), os.getgid()


def _render_config(version: tuple[int, int], root: Path, port: int) -> str:
    internal, login, group, _, _ = _identities()
    users = root / "users"
    if version >= (2, 4):  # 2.4 renamed most settings; untested here (Debian 12 ships 2.3)
        head = "dovecot_config_version = 2.4.0\ndovecot_storage_version = 2.4.0\n"
        auth = f"""auth_allow_cleartext = yes
mail_driver = maildir
mail_path = ~/Maildir
passdb passwd-file {{
  passwd_file_path = {users}
}}
userdb passwd-file {{
  passwd_file_path = {users}
}}"""
    else:
        head = ""
        auth = f"""disable_plaintext_auth = no
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}"""
    # chroot is emptied because an unprivileged dovecot cannot chroot; as root it is harmless.
    return f"""{head}base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {LOOPBACK}
ssl = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
{auth}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    """``with Dovecot() as imap:`` serves IMAP (no TLS) on ``imap.host:imap.port``."""

    host = LOOPBACK
    user = "desk"
    password = "secret"

    def __init__(self, binary: str | None = None, start_timeout: float = 10.0) -> None:
        found = binary or dovecot_binary()
        if found is None:
            raise FileNotFoundError(DOVECOT_MISSING)
        self.binary = found
        self.start_timeout = start_timeout
        self.port = 0
        self.startup_seconds = 0.0
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def version(self) -> tuple[int, int]:
        out = subprocess.run(
            [self.binary, "--version"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
        major, minor = re.match(r"(\d+)\.(\d+)", out).groups()  # type: ignore[union-attr]
        return int(major), int(minor)

    def start(self) -> None:
        began = time.monotonic()
        self._root = Path(tempfile.mkdtemp(prefix="guichet-dovecot-"))
        try:
            self._start_in(self._root)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def _start_in(self, root: Path) -> None:
        # Dovecot's unprivileged auth and mail processes must reach the users file and home.
        root.chmod(0o755)
        _, _, _, uid, gid = _identities()
        home = root / "home" / self.user
        home.mkdir(parents=True)
        with contextlib.suppress(PermissionError):  # only root may chown; otherwise we own it
            os.chown(home, uid, gid)
        (root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{home}\n")
        version = self.version()
        for _ in range(3):  # another process may take the port between pick and bind
            self.port = _free_port()
            (root / "dovecot.conf").write_text(_render_config(version, root, self.port))
            if self._launch(root):
                return
            if "Address already in use" not in self.log():
                break
        raise RuntimeError(f"dovecot did not start on port {self.port}:\n{self.log()}")

    def _launch(self, root: Path) -> bool:
        """Start the master in the foreground and wait for the IMAP greeting."""
        with (root / "stderr.log").open("ab") as stderr:  # fatal startup errors land here
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group, so stop() can end every child
            )
        deadline = time.monotonic() + self.start_timeout
        # Nothing to await from another process: poll the port, briefly and for a bounded time.
        while time.monotonic() < deadline and self._process.poll() is None:
            if self._greets():
                return True
            time.sleep(0.01)
        self._terminate()
        return False

    def _greets(self) -> bool:
        """True once imap-login answers with its greeting, not merely once the port is bound."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def _terminate(self) -> None:
        if self._process is None or self._process.poll() is not None:
            self._process = None  # exited (and reaped): its pid may belong to someone else now
            return
        # Signal the whole process group: SIGTERM to the master alone makes it wait about a
        # second for its children, SIGTERM to all of them ends it in milliseconds.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)
            try:
                self._process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        self._process = None

    def stop(self) -> None:
        self._terminate()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def log(self) -> str:
        if self._root is None:
            return ""
        parts = (self._root / name for name in ("dovecot.log", "stderr.log"))
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def mailbox(self) -> MailBoxUnencrypted:
        """A logged-in imap-tools client; use it as a context manager."""
        return MailBoxUnencrypted(self.host, self.port, timeout=10).login(self.user, self.password)

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver RFC 5322 bytes into ``folder`` (created if missing)."""
        with self.mailbox() as mailbox:
            if not mailbox.folder.exists(folder):
                mailbox.folder.create(folder)
            mailbox.append(raw, folder)
