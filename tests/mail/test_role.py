"""The mail role in `guichet serve`: on when SMTP and IMAP are set, the IMAP loop until stop."""

from __future__ import annotations

import asyncio

import pytest

from booking.context import Context
from console.runtime import role_status
from console.settings import RuntimeSettings
from mail.role import MailRole
from tests.builders import make_catalog, make_customer, make_held_booking
from tests.mail.conftest import deliver, reply_to, settings_for
from tests.support.mailservers import Dovecot, SmtpRecorder


def test_serve_says_plainly_when_mail_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GUICHET_SMTP_HOST", "GUICHET_IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    status = role_status(RuntimeSettings(_env_file=None), {"web", "worker"})  # type: ignore[call-arg]
    assert (
        status["mail"] == "off: set GUICHET_SMTP_HOST and GUICHET_IMAP_HOST to send and read email"
    )


def test_serve_runs_mail_with_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("GUICHET_IMAP_HOST", "imap.example.org")
    runtime = RuntimeSettings(_env_file=None)  # type: ignore[call-arg]
    assert role_status(runtime, {"web", "worker"})["mail"] == "running"
    assert "--role worker" in role_status(runtime, {"web"})["mail"]


@pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
async def test_the_imap_loop_answers_new_mail_until_stopped(
    ctx: Context, smtp_server: SmtpRecorder, dovecot: Dovecot
) -> None:
    role = MailRole(ctx, settings_for(smtp_server, dovecot))
    ctx.channels["email"] = role.channel()
    await make_held_booking(ctx, await make_catalog(ctx), await make_customer(ctx))
    await deliver(ctx)
    [held] = await smtp_server.wait_for_count(1)
    stop = asyncio.Event()
    loop = asyncio.create_task(role.run(stop))
    await asyncio.to_thread(dovecot.append, reply_to(held, "STATUS"))
    for _ in range(200):  # the loop polls every 50 ms; its answer reaches the outbox
        if (await deliver(ctx)).sent:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the IMAP loop never answered")
    [_, status] = await smtp_server.wait_for_count(2)
    assert str(status.message["Subject"]).startswith("Re: ")
    stop.set()
    async with asyncio.timeout(5):
        await loop
    await role.close()
