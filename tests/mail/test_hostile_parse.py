"""Parsing cannot stall or poison the worker (issue 9, item 3).

* A 100 kB Message-ID: the web app, served by uvicorn on loopback in the same event loop as
  the worker, answers /healthz within 100 ms while the message is processed. Its companion
  puts the old quadratic pattern back and watches the loop freeze.
* ``From: ((((…`` (RecursionError in the stdlib): recorded once as unreadable, flagged, never
  retried (real Dovecot and the runner). Its companion lets the error through, as before, and
  sees the message retried at every poll.
* A message that overruns the parse budget is recorded as unreadable too.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from booking.context import Context
from booking.tables.channels import InboundMail
from console.web.app import build_app
from mail import inbound, parse
from mail.inbound import process
from mail.parse import parse_message
from mail.settings import MailSettings
from tests.mail.conftest import DESK, Desk

sqlite = pytest.mark.parametrize("ctx", ["sqlite"], indirect=True)
RESPONSIVE = 0.100  # seconds: the bound for /healthz while mail is processed


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # pytest keeps its own signal handlers


@pytest.fixture
async def healthz(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    """The real web app on loopback, in this test's event loop (as ``guichet serve`` runs
    the web and worker roles in one loop)."""
    app = build_app(ctx, {"web": "running", "worker": "running"})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/healthz")).status_code == 200  # warm: connection, DB
        yield client
    server.should_exit = True
    await task


def hostile(message_id: bytes, n: int = 0) -> bytes:
    return (
        f"From: Ana <ana@example.org>\r\nTo: {DESK}\r\nSubject: hi {n}\r\n".encode()
        + b"Message-ID: "
        + message_id
        + b"\r\n\r\nSTATUS\r\n"
    )


async def slowest_healthz(client: httpx.AsyncClient, work: Any) -> tuple[float, int]:
    """Run ``work`` while probing /healthz; the slowest answer and how many were probed."""
    task = asyncio.ensure_future(work)
    slowest, probes = 0.0, 0
    while not task.done() or probes < 3:
        started = time.monotonic()
        assert (await client.get("/healthz")).status_code == 200
        slowest, probes = max(slowest, time.monotonic() - started), probes + 1
        await asyncio.sleep(0.005)
    await task
    return slowest, probes


def settings() -> MailSettings:
    return MailSettings(_env_file=None, mail_from=f"Salle <{DESK}>")  # type: ignore[call-arg]


async def _process_all(ctx: Context, raws: list[bytes]) -> list[str]:
    return [(await process(ctx, r, settings=settings(), secret=b"s")).status for r in raws]


@sqlite
async def test_a_100_kb_message_id_leaves_the_loop_responsive(
    ctx: Context, healthz: httpx.AsyncClient
) -> None:
    raws = [hostile(b"@" * 100_000 + b"<", n) for n in range(5)]
    slowest, probes = await slowest_healthz(healthz, _process_all(ctx, raws))
    assert probes >= 3
    assert slowest < RESPONSIVE, f"/healthz took {slowest * 1000:.0f} ms"
    assert await _recorded(ctx) == 5  # each recorded once, under a synthetic Message-ID


@sqlite
async def test_companion_the_quadratic_message_id_pattern_freezes_the_loop(
    ctx: Context, healthz: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = re.compile(r"\A([^<>\s]+@[^<>\s]+)\Z")  # what parse.py used before
    monkeypatch.setattr(parse, "_bare_msg_id", old.findall)
    # 8 kB is enough (100 kB would take minutes): the pattern holds the GIL, so even in a
    # worker thread it stops the event loop.
    raws = [hostile(b"@" * 8_000 + b"<")]
    slowest, _ = await slowest_healthz(healthz, _process_all(ctx, raws))
    assert slowest > RESPONSIVE


def test_header_fields_and_the_header_section_are_capped_before_parsing() -> None:
    huge = b"X-Junk: " + b"a" * 500_000 + b"\r\n"
    raw = b"From: ana@example.org\r\n" + huge + b"Subject: kept\r\n\r\nbody\r\n"
    capped = parse.cap_headers(raw)
    assert len(capped) < parse.MAX_HEADER_FIELD + 200
    assert parse_message(raw, max_bytes=1_000_000).subject == "kept"
    many = b"".join(f"X-N{n}: {'b' * 1000}\r\n".encode() for n in range(1000))
    capped = parse.cap_headers(b"From: ana@example.org\r\n" + many + b"\r\nbody\r\n")
    assert len(capped) <= parse.MAX_HEADER_SECTION + 100 and capped.endswith(b"\r\nbody\r\n")


RECURSING = b"From: " + b"(" * 50_000 + b"\r\nTo: desk@venue.example\r\nSubject: x\r\n\r\nhi\r\n"


@sqlite
async def test_a_recursing_from_is_recorded_once_as_unreadable_and_never_retried(
    ctx: Context, desk: Desk
) -> None:
    first = await desk.receive(RECURSING)
    assert dict(first.outcomes) == {"ignored": 1} and first.failed == 0
    assert desk.flagged() == 1
    again = await desk.receive()
    assert again.fetched == 0  # flagged: never fetched again
    assert [(m.kind, m.outcome) for m in await _records(ctx)] == [
        ("unreadable", "unreadable: RecursionError")
    ]


@sqlite
async def test_companion_a_recursing_from_is_retried_forever_without_the_unreadable_record(
    ctx: Context, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def reraise(ctx: Context, raw: bytes, size: int, exc: BaseException) -> Any:
        raise exc  # the old behaviour: the parser's error escapes process()

    monkeypatch.setattr(inbound, "_unreadable", reraise)
    for _ in range(3):  # every poll tries it again
        report = await desk.receive(RECURSING) if _ == 0 else await desk.receive()
        assert report.fetched == 1 and report.failed == 1
    assert desk.flagged() == 0


@sqlite
async def test_a_message_over_the_parse_budget_is_recorded_as_unreadable(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(raw: bytes, *, max_bytes: int) -> Any:
        time.sleep(0.3)
        return parse_message(raw, max_bytes=max_bytes)

    monkeypatch.setattr(inbound, "PARSE_BUDGET", 0.05)
    monkeypatch.setattr(inbound, "parse_message", slow)
    outcome = await process(ctx, hostile(b"<a@b>"), settings=settings(), secret=b"s")
    assert outcome.status == "ignored" and outcome.detail == "unreadable"
    assert [(m.kind, m.outcome) for m in await _records(ctx)] == [
        ("unreadable", "unreadable: TimeoutError")
    ]
    again = await process(ctx, hostile(b"<a@b>"), settings=settings(), secret=b"s")
    assert again.status == "duplicate"
    await asyncio.sleep(0.3)  # let the abandoned thread finish before the loop closes


async def _records(ctx: Context) -> list[InboundMail]:
    async def work(session):  # type: ignore[no-untyped-def]
        return list((await session.execute(select(InboundMail))).scalars())

    return list(await ctx.db.read(work))


async def _recorded(ctx: Context) -> int:
    return len(await _records(ctx))
