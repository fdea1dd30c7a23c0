#!/usr/bin/env python
"""The Telegram bot's hold flow under load, against an echo bot in the same harness.

    python bench/bot.py --quick     # 100 concurrent customers, well under a minute
    python bench/bot.py             # 100 and 1,000 concurrent customers, three rounds each

Simulated customers do the whole hold flow through the real dispatcher, polling the fake Bot
API server over real HTTP on loopback, on a real SQLite database: /events -> date -> ticket
type -> quantity -> "Hold until …" (five updates, each waiting for the bot's answer before
the next, as a person does). The echo bot (one handler: a message is echoed, a button press
answered and its message edited, which are the Bot API calls the bot itself makes for a
press) gets the same five updates per customer from the same harness in the same run; so
does a plain echo bot (a press is only answered), reported beside it.

Per update, latency runs from the update being queued on the server to the bot's last call
for it (the answer to a button press, the message for /events). Rounds rotate between the
bots; medians are reported, the ratio being the median of the ratios within each rotation.
Goals (issue 11): ratio (bot updates/s / echo updates/s) >= 0.5 at 100 customers and >= 0.35
at 1,000, and the bot's p99 latency at 100 customers under 1 s. ``--quick`` skips the 1,000
run and reports its keys as null. The last line of output is one JSON object; its keys
include ``ratio`` (100 customers), ``ratio_1000``, ``p50_ms_100``, ``p99_ms_100``,
``p50_ms_1000`` and ``p99_ms_1000``.
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
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.types import CallbackQuery, Message  # noqa: E402

from bench.common import (  # noqa: E402
    STAFF,
    make_catalog,
    make_context,
    make_customers,
    sqlite_copy,
    sqlite_template,
    sqlite_url,
)
from booking.context import Context  # noqa: E402
from booking.services import customers  # noqa: E402
from bot.runner import CONCURRENT_UPDATES, BotRole  # noqa: E402
from bot.session import build_session  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from tests.support.fake_bot_api import TOKEN, Call, FakeBotAPI  # noqa: E402

FIRST_USER = 10_000
GOALS = {100: 0.5, 1_000: 0.35}  # ratio to the echo bot, by concurrent customers
P99_GOAL_MS = {100: 1_000.0}
STEPS = 5  # /events, date, ticket type, quantity, hold
UPDATE_TIMEOUT_S = 60  # a customer gives up on an answer after this long (counted as an error)


@dataclass(frozen=True)
class Sizes:
    concurrency: tuple[int, ...]
    rounds: int
    warmup: int  # customers in the untimed first pass of each bot


QUICK = Sizes(concurrency=(100,), rounds=3, warmup=20)
FULL = Sizes(concurrency=(100, 1_000), rounds=3, warmup=50)


def say(text: str = "") -> None:
    print(text, flush=True)


# -- watching the fake server: who is waiting for which answer ----------------------------------


class Answers:
    """Resolves a waiting customer when the bot makes the call that ends their update.

    A button press ends with answerCallbackQuery (the bot answers last); /events ends with a
    sendMessage to the chat. The latest message with buttons in each chat is kept, so that a
    customer knows what to press next."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.by_query: dict[str, asyncio.Future[None]] = {}
        self.by_chat: dict[int, asyncio.Future[None]] = {}
        self.screens: dict[int, tuple[int, list[tuple[str, str]]]] = {}
        self.texts: dict[int, str] = {}  # the latest text each chat was shown
        self.messages: dict[int, int] = {}  # the latest message the bot sent in each chat
        fake.listen(self.seen)

    def seen(self, call: Call) -> None:
        chat = call.params.get("chat_id")
        if call.method in ("sendMessage", "editMessageText") and isinstance(chat, int):
            self.texts[chat] = call.text or ""
            if call.message_id is not None:
                self.messages[chat] = call.message_id
            if call.buttons() and call.message_id is not None:
                self.screens[chat] = (call.message_id, call.buttons())
            if call.method == "sendMessage":
                self._resolve(self.by_chat.pop(chat, None))
        elif call.method == "answerCallbackQuery":
            self._resolve(self.by_query.pop(str(call.params.get("callback_query_id")), None))

    @staticmethod
    def _resolve(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0


class Customers:
    """Simulated customers sending the flow's five updates, one after the other."""

    def __init__(self, fake: FakeBotAPI, answers: Answers, *, echo: bool) -> None:
        self.fake, self.answers, self.echo = fake, answers, echo  # echo: press blindly

    async def flow(self, user: int, tally: Tally) -> None:
        try:
            await self._timed(tally, self._message(user, "/events"))
            for label in ("", "Standing", "2", "Hold until"):  # "": the first date
                await self._timed(tally, self._press(user, label))
        except (TimeoutError, LookupError):
            tally.errors += 1
            return
        if not self.echo and "Your places are held" not in self.answers.texts.get(user, ""):
            tally.errors += 1  # the flow ran but no hold came out of it

    async def _timed(self, tally: Tally, update: Awaitable[None]) -> None:
        started = time.perf_counter()
        await update
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)

    async def _message(self, user: int, text: str) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.answers.by_chat[user] = waiter
        self.fake.send_text(user, text)
        await asyncio.wait_for(waiter, UPDATE_TIMEOUT_S)

    async def _press(self, user: int, label: str) -> None:
        if self.echo:  # the echo bot shows no buttons: press something on its last message
            message_id, data = self.answers.messages[user], "w:date:1"
        else:
            message_id, buttons = self.answers.screens[user]
            data = next(d for text, d in buttons if label in text)  # LookupError if absent
        update = self.fake.press_button(user, message_id, data, enqueue=False)
        waiter = asyncio.get_running_loop().create_future()
        self.answers.by_query[update["callback_query"]["id"]] = waiter
        self.fake.push_update(update)
        await asyncio.wait_for(waiter, UPDATE_TIMEOUT_S)


# -- the two bots --------------------------------------------------------------------------------


def echo_router(*, same_calls: bool) -> Router:
    """A message is echoed. A button press is answered; with ``same_calls`` its message is
    also edited to show what was pressed: the Bot API calls the bot makes for a press, with
    no logic behind them (the baseline of the ratio)."""
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        if same_calls and isinstance(query.message, Message):
            await query.message.edit_text(f"pressed {query.data} ({query.id})")
        await query.answer()

    return router


@dataclass
class Running:
    stop: Callable[[], Awaitable[None]]


async def start_echo(fake: FakeBotAPI, *, same_calls: bool) -> Running:
    """The echo bot, polled exactly as BotRole polls (same limits, same session kind)."""
    mark = len(fake.calls)
    bot = Bot(TOKEN, session=build_session(fake.base_url))
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router(same_calls=same_calls))
    task = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=dispatcher.resolve_used_update_types(),
            tasks_concurrency_limit=CONCURRENT_UPDATES,
        )
    )

    async def stop() -> None:
        await dispatcher.stop_polling()
        await task
        await bot.session.close()

    await _ready(fake, mark)
    return Running(stop)


async def start_bot(fake: FakeBotAPI, ctx: Context) -> Running:
    settings = BotSettings(
        bot_token=TOKEN,
        bot_api_url=fake.base_url,  # type: ignore[arg-type]
        payment_provider_token="bench:TEST",
        _env_file=None,  # type: ignore[arg-type, call-arg]
    )
    mark = len(fake.calls)
    role = BotRole(ctx, settings)
    stopping = asyncio.Event()
    task = asyncio.create_task(role.run(stopping))

    async def stop() -> None:
        stopping.set()
        await task
        await role.close()

    await _ready(fake, mark)
    return Running(stop)


async def _ready(fake: FakeBotAPI, mark: int) -> None:
    """Polling has begun once the bot asked getMe (after ``mark``): getUpdates follows."""
    earlier = {id(c) for c in fake.calls[:mark]}
    await fake.wait_for(lambda c: c.method == "getMe" and id(c) not in earlier, 30)


# -- rounds --------------------------------------------------------------------------------------


@dataclass
class Round:
    bot: str
    concurrency: int
    updates: int
    elapsed: float
    latencies_ms: list[float]
    errors: int

    @property
    def per_s(self) -> float:
        return self.updates / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        values = sorted(self.latencies_ms)
        if not values:
            return 0.0
        return values[min(int(q * len(values)), len(values) - 1)]


KINDS = ("echo", "plain echo", "bot")


async def one_round(
    fake: FakeBotAPI, answers: Answers, ctx: Context, *, kind: str, users: range
) -> Round:
    if kind == "bot":
        running = await start_bot(fake, ctx)
    else:
        running = await start_echo(fake, same_calls=kind == "echo")
    try:
        tally = Tally()
        people = Customers(fake, answers, echo=kind != "bot")
        started = time.perf_counter()
        await asyncio.gather(*(people.flow(user, tally) for user in users))
        elapsed = time.perf_counter() - started
    finally:
        await running.stop()
    return Round(
        kind, len(users), len(tally.latencies_ms), elapsed, tally.latencies_ms, tally.errors
    )


async def prepare(directory: Path, people: int) -> Context:
    """A migrated SQLite database with one event (one date, a large standing area) and
    ``people`` customers whose Telegram accounts are linked."""
    template = await asyncio.to_thread(sqlite_template, directory)
    # Each customer holds once per round, a dozen times in a run: far above the limit of open
    # holds a real customer meets. The limit stays on (its count is part of every hold).
    url = sqlite_url(sqlite_copy(template, directory / "bot.db"))
    ctx = make_context(url, max_open_holds=1_000_000)
    await make_catalog(ctx, name="Bench Hall", capacity=1_000_000)
    for i, customer in enumerate(await make_customers(ctx, people, "tg")):
        user = FIRST_USER + i
        await customers.link_telegram(
            ctx, actor=STAFF, customer_id=customer.id, telegram_user_id=user, chat_id=user
        )
    return ctx


async def run(sizes: Sizes) -> dict[str, Any]:
    people = max(sizes.concurrency)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="guichet-bench-bot-") as tmp:
        say(f"preparing {people} linked customers on SQLite…")
        ctx = await prepare(Path(tmp), people)
        try:
            async with FakeBotAPI() as fake:
                answers = Answers(fake)
                for kind in KINDS:  # warm-up: connections, caches, first compiles
                    await one_round(
                        fake,
                        answers,
                        ctx,
                        kind=kind,
                        users=range(FIRST_USER, FIRST_USER + sizes.warmup),
                    )
                for n in sizes.concurrency:
                    results |= await measure(fake, answers, ctx, sizes, n)
                if 1_000 not in sizes.concurrency:
                    say("1,000 customers: skipped (--quick); their figures are null")
                    results |= {"ratio_1000": None, "p50_ms_1000": None, "p99_ms_1000": None}
        finally:
            await ctx.close()
    return results


async def measure(
    fake: FakeBotAPI, answers: Answers, ctx: Context, sizes: Sizes, n: int
) -> dict[str, Any]:
    users = range(FIRST_USER, FIRST_USER + n)
    rounds: dict[str, list[Round]] = {kind: [] for kind in KINDS}
    for k in range(sizes.rounds):
        for kind in KINDS[k % 3 :] + KINDS[: k % 3]:  # each kind takes its turn going first
            done = await one_round(fake, answers, ctx, kind=kind, users=users)
            rounds[kind].append(done)
            say(
                f"  {kind:>10} × {n:>5} customers: {done.per_s:8.1f} updates/s, "
                f"p50 {done.percentile(0.5):7.1f} ms, p99 {done.percentile(0.99):8.1f} ms, "
                f"{done.errors} errors"
            )
    per_s = {kind: statistics.median(r.per_s for r in found) for kind, found in rounds.items()}
    bot, echo, plain = per_s["bot"], per_s["echo"], per_s["plain echo"]
    # Ratios within each rotation (rounds run seconds apart) cancel most of the machine's
    # drift; their median is the figure reported.
    ratio = paired_ratio(rounds["bot"], rounds["echo"])
    ratio_plain = paired_ratio(rounds["bot"], rounds["plain echo"])
    latencies = [ms for r in rounds["bot"] for ms in r.latencies_ms]
    merged = Round("bot", n, len(latencies), 1.0, latencies, 0)
    errors = sum(r.errors for found in rounds.values() for r in found)
    say(
        f"{n} concurrent customers: bot {bot:.1f} updates/s, echo {echo:.1f} updates/s, "
        f"ratio {ratio:.2f} (goal >= {GOALS.get(n, 0.0)}); against the plain echo "
        f"{plain:.1f} updates/s: {ratio_plain:.2f}; bot p50 {merged.percentile(0.5):.1f} ms, "
        f"p99 {merged.percentile(0.99):.1f} ms"
        + (f" (goal < {P99_GOAL_MS[n]:.0f} ms)" if n in P99_GOAL_MS else "")
        + f"; errors {errors}"
    )
    suffix = "" if n == min(sizes.concurrency) else f"_{n}"
    return {
        f"updates_per_s{suffix}": round(bot, 1),
        f"echo_updates_per_s{suffix}": round(echo, 1),
        f"ratio{suffix}": round(ratio, 3),
        f"plain_echo_updates_per_s{suffix}": round(plain, 1),
        f"ratio_plain_echo{suffix}": round(ratio_plain, 3),
        f"p50_ms_{n}": round(merged.percentile(0.5), 1),
        f"p99_ms_{n}": round(merged.percentile(0.99), 1),
        f"errors_{n}": errors,
    }


def paired_ratio(bots: list[Round], echoes: list[Round]) -> float:
    return statistics.median(b.per_s / e.per_s for b, e in zip(bots, echoes, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 customers only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # aiogram logs every update at INFO
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    results = asyncio.run(run(sizes))
    results["seconds"] = round(time.perf_counter() - started, 1)
    say(json.dumps(results))


if __name__ == "__main__":
    main()
