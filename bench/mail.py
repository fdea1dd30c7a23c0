#!/usr/bin/env python
"""Email throughput, inbound and outbound, against plain-library baselines in the same run.

    python bench/mail.py --quick     # smaller sizes, well under a minute on 2 cores
    python bench/mail.py             # the full run

It starts its own servers on loopback: Debian's Dovecot (unprivileged, as the tests run it)
and an aiosmtpd recorder; the database is a migrated SQLite file in a temporary directory.

1. Inbound: N replies to booking emails (PAY, EXTEND with a date, STATUS, CANCEL with a
   reason, and chit-chat that gets the help answer) are appended to the mailbox, then the
   worker's ``poll_once`` runs until none is left: IMAP fetch -> parse, classify, route,
   command -> one service call -> answer queued -> commit -> IMAP flag. Baseline: a plain
   imap-tools fetch of the same messages (headers and bodies) on one connection.
   Goal: >= 50 messages/s.
2. Outbound: M booking emails queued by real holds, plus whatever the inbound round queued
   (its booking emails and the answers: pay links, help, requests for more time, cancellation
   notices), are delivered through the outbox and the email channel (render, sign the reply
   token and pay links, SMTP) to the local server until the outbox is empty. Baseline: plain
   aiosmtplib sending as many messages of the same size on one kept connection.
   Goal: >= 100/s.

Rounds alternate between the two sides; medians are reported. Every loop is bounded in count
and in time. The last line of output is one JSON object.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from email.message import EmailMessage  # noqa: E402
from email.utils import make_msgid  # noqa: E402

import aiosmtplib  # noqa: E402
from imap_tools import AND  # noqa: E402

from bench.common import (  # noqa: E402
    STAFF,
    load,
    make_catalog,
    make_context,
    median,
    spread,
    sqlite_copy,
    sqlite_template,
    sqlite_url,
)
from booking import outbox  # noqa: E402
from booking.actors import Actor  # noqa: E402
from booking.context import Context  # noqa: E402
from booking.services import customers, holds  # noqa: E402
from booking.views import BookingView, CustomerView  # noqa: E402
from mail.channel import EmailChannel  # noqa: E402
from mail.imap import ImapMailbox  # noqa: E402
from mail.runner import poll_once  # noqa: E402
from mail.settings import MailSettings  # noqa: E402
from mail.smtp import SmtpSender  # noqa: E402
from mail.tokens import make_reply_token, reply_address  # noqa: E402
from tests.support.mailservers import Dovecot, SmtpRecorder  # noqa: E402

DESK = "desk@venue.example"
COMMANDS = (
    "PAY",
    "EXTEND 20/12 I am travelling until then",
    "STATUS",
    "CANCEL I cannot come that day",
    "thanks!",
)


@dataclass(frozen=True)
class Sizes:
    inbound: int  # messages per round
    outbound: int  # emails per round
    rounds: int
    budget_s: float  # a timed loop stops after this


QUICK = Sizes(inbound=150, outbound=200, rounds=1, budget_s=15)
FULL = Sizes(inbound=600, outbound=1_000, rounds=3, budget_s=120)


def say(text: str = "") -> None:
    print(text, flush=True)


async def people(ctx: Context, n: int, prefix: str) -> list[CustomerView]:
    found = []
    for i in range(n):
        customer, _ = await customers.find_or_create_customer(
            ctx, actor=STAFF, email=f"{prefix}{i}@bench.example.org", name=f"Bench {prefix}{i}"
        )
        found.append(customer)
    return found


async def held(ctx: Context, n: int, prefix: str) -> list[tuple[CustomerView, BookingView]]:
    """``n`` customers with one held booking each (each hold queues one booking email)."""
    cat = await make_catalog(ctx, name=f"Salle {prefix}", capacity=10 * n)
    pairs = []
    for customer in await people(ctx, n, prefix):
        actor = Actor.customer(customer.id, customer.name, "console")
        booking = await holds.hold(
            ctx, actor=actor, customer_id=customer.id, performance_id=cat.performance_ids[0],
            lines=[holds.Line(cat.tariff_id, quantity=2)],
        )  # fmt: skip
        pairs.append((customer, booking))
    return pairs


def reply(customer: CustomerView, booking: BookingView, command: str) -> bytes:
    """A reply as a mail client writes it: to the plus-addressed Reply-To, the original quoted."""
    token = make_reply_token(b"bench", booking.reference, customer.id)
    message = EmailMessage()
    message["From"] = f"{customer.name} <{customer.email}>"
    message["To"] = f"Guichet <{reply_address(DESK, token)}>"
    message["Subject"] = f"Re: Your booking {booking.reference} is held"
    message["Message-ID"] = make_msgid(domain="bench.example.org")
    message["In-Reply-To"] = f"<booking.{booking.reference}@venue.example>"
    quoted = "\n".join(f"> line {n} of the booking email" for n in range(25))
    message.set_content(f"{command}\n\nOn Mon, Guichet <{DESK}> wrote:\n{quoted}\n")
    return message.as_bytes()


def append_all(imap: Dovecot, raws: list[bytes]) -> None:
    with imap.mailbox() as box:
        for raw in raws:
            box.append(raw, "INBOX")


def plain_fetch(imap: Dovecot, expected: int) -> float:
    """Baseline: imap-tools fetching every unflagged message, bodies included."""
    began = time.perf_counter()
    with imap.mailbox() as box:
        got = sum(1 for _ in box.fetch(AND(flagged=False), mark_seen=False, bulk=True))
    elapsed = time.perf_counter() - began
    assert got == expected, (got, expected)
    return got / elapsed


async def ours_inbound(
    ctx: Context, settings: MailSettings, expected: int, budget: float
) -> tuple[float, dict[str, int]]:
    mailbox = ImapMailbox(settings)
    outcomes: dict[str, int] = {}
    done = 0
    began = time.perf_counter()
    try:
        while done < expected and time.perf_counter() - began < budget:
            report = await poll_once(ctx, settings, mailbox)
            if report.fetched == 0:
                break
            done += report.flagged
            for key, count in report.outcomes.items():
                outcomes[key] = outcomes.get(key, 0) + count
    finally:
        elapsed = time.perf_counter() - began
        await mailbox.close()
    return done / elapsed, outcomes


async def inbound_round(
    ctx: Context, settings: MailSettings, imap: Dovecot, n: int, round_no: int, budget: float
) -> tuple[float, float, dict[str, int]]:
    pairs = await held(ctx, n, f"in{round_no}_")
    raws = [reply(c, b, COMMANDS[i % len(COMMANDS)]) for i, (c, b) in enumerate(pairs)]
    await asyncio.to_thread(append_all, imap, raws)
    plain = await asyncio.to_thread(plain_fetch, imap, n)
    ours, outcomes = await ours_inbound(ctx, settings, n, budget)
    return ours, plain, outcomes


async def ours_outbound(ctx: Context, budget: float) -> tuple[float, int]:
    """Deliver until the outbox is empty (or the budget is spent): (messages/s, messages)."""
    sent = 0
    began = time.perf_counter()
    while time.perf_counter() - began < budget:
        report = await outbox.deliver_due(ctx, limit=100, concurrency=10)
        if report.errors:
            raise RuntimeError(report.errors[:3])
        if report.sent == 0:
            break
        sent += report.sent
    return sent / (time.perf_counter() - began), sent


async def plain_outbound(smtp: SmtpRecorder, raw: bytes, n: int) -> float:
    """Baseline: the same bytes through plain aiosmtplib on one kept connection."""
    began = time.perf_counter()
    async with aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, start_tls=False) as client:
        for i in range(n):
            await client.sendmail(DESK, [f"plain{i}@bench.example.org"], raw)
    return n / (time.perf_counter() - began)


async def outbound_round(
    ctx: Context, channel: EmailChannel, smtp: SmtpRecorder, n: int, round_no: int, budget: float
) -> tuple[float, float, int]:
    # Queue the booking emails without delivering: the holds are made with no channel.
    saved = ctx.channels.pop("email")
    await held(ctx, n, f"out{round_no}_")
    ctx.channels["email"] = saved
    ours, sent = await ours_outbound(ctx, budget)
    sample = smtp.messages[-1].raw if smtp.messages else b""
    plain = await plain_outbound(smtp, sample or b"Subject: x\r\n\r\nx\r\n", max(sent, 1))
    return ours, plain, sent


async def run(sizes: Sizes) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="guichet-bench-mail-") as tmp:
        template = await asyncio.to_thread(sqlite_template, Path(tmp))
        db = sqlite_copy(template, Path(tmp) / "bench.db")
        ctx = make_context(sqlite_url(db))
        with SmtpRecorder() as smtp, Dovecot() as imap:
            settings = MailSettings(
                _env_file=None,  # type: ignore[call-arg]
                smtp_host=smtp.host, smtp_port=smtp.port, smtp_tls="none",
                imap_host=imap.host, imap_port=imap.port, imap_user=imap.user,
                imap_password=imap.password, imap_tls="none", imap_batch=100,
                mail_from=f"Salle Bench <{DESK}>", public_url="https://tickets.venue.example",
            )  # fmt: skip
            sender = SmtpSender(settings)
            channel = EmailChannel(ctx, settings, sender)
            ctx.channels["email"] = channel
            # Warm-up (not timed): templates compiled, connections open, caches filled.
            await inbound_round(ctx, settings, imap, 10, 0, sizes.budget_s)
            await outbound_round(ctx, channel, smtp, 10, 0, sizes.budget_s)
            ins, plain_ins, outs, plain_outs = [], [], [], []
            for r in range(1, sizes.rounds + 1):
                ours, plain, outcomes = await inbound_round(
                    ctx, settings, imap, sizes.inbound, r, sizes.budget_s
                )
                ins.append(ours)
                plain_ins.append(plain)
                say(f"inbound round {r}: {ours:,.0f} msg/s vs plain fetch {plain:,.0f} msg/s "
                    f"{dict(sorted(outcomes.items()))}")  # fmt: skip
                ours, plain, sent = await outbound_round(
                    ctx, channel, smtp, sizes.outbound, r, sizes.budget_s
                )
                outs.append(ours)
                plain_outs.append(plain)
                say(f"outbound round {r}: {sent} emails, {ours:,.0f} msg/s vs plain aiosmtplib "
                    f"{plain:,.0f} msg/s")  # fmt: skip
            await sender.close()
        await ctx.close()
    inbound, outbound = median(ins), median(outs)
    say(f"inbound  {spread(ins)} msg/s, median {inbound:,.1f} (goal >= 50); "
        f"plain fetch {spread(plain_ins)}")  # fmt: skip
    say(f"outbound {spread(outs)} msg/s, median {outbound:,.1f} (goal >= 100); "
        f"plain aiosmtplib {spread(plain_outs)}")  # fmt: skip
    say(load())
    return {
        "inbound_per_s": round(inbound, 1),
        "inbound_ratio": round(inbound / median(plain_ins), 4),
        "outbound_per_s": round(outbound, 1),
        "outbound_ratio": round(outbound / median(plain_outs), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = QUICK if args.quick else FULL
    began = time.perf_counter()
    results = asyncio.run(run(sizes))
    say(f"took {time.perf_counter() - began:.1f} s")
    say(json.dumps(results))


if __name__ == "__main__":
    main()
