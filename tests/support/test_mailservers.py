"""The loopback SMTP recorder and Dovecot behave like the servers the mail adapter will meet."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Literal

import aiosmtplib
import pytest

from tests.support import fixtures
from tests.support.mailservers import DOVECOT_MISSING, Dovecot, SmtpRecorder

smtp_server = fixtures.smtp_server  # module-level names are how pytest finds fixtures
dovecot = fixtures.dovecot


def make_email(subject: str, body: str, to: str = "guest@example.test") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "desk@guichet.test"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@guichet.test>"
    message.set_content(body)
    return message


async def send(
    smtp: SmtpRecorder, message: EmailMessage, user: str | None = None, password: str | None = None
) -> None:
    await aiosmtplib.send(
        message, hostname=smtp.host, port=smtp.port, username=user, password=password, timeout=5
    )


async def test_smtp_records_what_it_receives(smtp_server: SmtpRecorder) -> None:
    await send(smtp_server, make_email("Your booking", "Seat A1 is yours. Café at 9."))

    [received] = await smtp_server.wait_for_count(1)

    assert (received.mail_from, received.rcpt_tos) == ("desk@guichet.test", ["guest@example.test"])
    assert received.message["Subject"] == "Your booking"
    assert received.message.get_content().strip() == "Seat A1 is yours. Café at 9."
    assert b"Subject: Your booking" in received.raw
    assert received.login is None


@pytest.mark.parametrize("smtp_server", [{"auth": ("mailer", "pw")}], indirect=True)
async def test_smtp_with_auth_accepts_only_authenticated_senders(
    smtp_server: SmtpRecorder,
) -> None:
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        await send(smtp_server, make_email("Anonymous", "no"))
    assert refused.value.code == 530
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await send(smtp_server, make_email("Wrong", "no"), "mailer", "wrong")

    await send(smtp_server, make_email("Signed in", "yes"), "mailer", "pw")

    [received] = await smtp_server.wait_for_count(1)
    assert (received.message["Subject"], received.login) == ("Signed in", "mailer")


@pytest.mark.parametrize("stage", ["DATA", "RCPT"])
async def test_smtp_refuses_then_accepts(
    smtp_server: SmtpRecorder, stage: Literal["DATA", "RCPT"]
) -> None:
    smtp_server.refuse_next(2, code=451, stage=stage)

    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPException) as refused:
            await send(smtp_server, make_email("Retry me", "body"))
        # aiosmtplib reports a refused DATA directly, a refused RCPT per recipient
        errors = getattr(refused.value, "recipients", [refused.value])
        assert [error.code for error in errors] == [451]
    await send(smtp_server, make_email("Retry me", "body"))

    assert [m.message["Subject"] for m in await smtp_server.wait_for_count(1)] == ["Retry me"]


async def test_wait_for_count_times_out_with_what_arrived() -> None:
    async with SmtpRecorder() as smtp:
        with pytest.raises(AssertionError, match=r"expected 1 messages within 0.05s, got \[\]"):
            await smtp.wait_for_count(1, timeout=0.05)


def test_missing_service_skips_unless_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUICHET_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="dovecot-imapd not installed"):
        fixtures.require_service(False, DOVECOT_MISSING)
    monkeypatch.setenv("GUICHET_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="dovecot-imapd not installed"):
        fixtures.require_service(False, DOVECOT_MISSING)
    fixtures.require_service(True, DOVECOT_MISSING)  # present: no skip, no failure


def test_dovecot_serves_appended_messages(dovecot: Dovecot) -> None:
    dovecot.append(make_email("First", "Hello from one.").as_bytes())
    dovecot.append(make_email("Second", "Hello from two.", to="desk@guichet.test").as_bytes())

    with dovecot.mailbox() as mailbox:
        messages = list(mailbox.fetch(mark_seen=False))
        assert [(m.subject, m.to, m.text.strip()) for m in messages] == [
            ("First", ("guest@example.test",), "Hello from one."),
            ("Second", ("desk@guichet.test",), "Hello from two."),
        ]
        assert messages[0].headers["message-id"] == ("<First@guichet.test>",)
        assert all("\\Seen" not in m.flags for m in messages)

        mailbox.flag(str(messages[0].uid), "\\Seen", True)
        flags = {m.subject: m.flags for m in mailbox.fetch(mark_seen=False, headers_only=True)}
    assert "\\Seen" in flags["First"] and "\\Seen" not in flags["Second"]


def test_dovecot_appends_to_other_folders_and_starts_empty(dovecot: Dovecot) -> None:
    dovecot.append(make_email("Filed", "x").as_bytes(), folder="Processed")

    with dovecot.mailbox() as mailbox:
        assert list(mailbox.fetch()) == []  # INBOX: every test gets a fresh mailbox
        mailbox.folder.set("Processed")
        assert [m.subject for m in mailbox.fetch()] == ["Filed"]
