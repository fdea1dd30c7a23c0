"""The bot under test: the real dispatcher and Bot over HTTP against the fake Bot API server,
on a real database (the ``ctx`` fixture: SQLite, and PostgreSQL when it is reachable).

``desk`` runs the bot in polling mode; ``webhook_desk`` behind the real web app (uvicorn on
loopback) in webhook mode, where the fake server POSTs every update to the route the bot
registered with setWebhook. Tests talk through ``Person``: ``await ana.send("/events")``
returns the calls the bot made while handling that update, once it is fully handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from booking.clock import FrozenClock
from booking.context import Context
from booking.outbox import DeliveryReport, deliver_due
from booking.services import customers, linking
from booking.settings import CoreSettings
from booking.views import CustomerView, OutboxView
from bot.channel import RateLimiter
from bot.runner import BotRole
from bot.settings import BotSettings
from console.web.app import build_app
from tests import databases
from tests.builders import STAFF, make_customer
from tests.support import fixtures
from tests.support.fake_bot_api import TOKEN, Call, FakeBotAPI

fake_bot_api = fixtures.fake_bot_api
PROVIDER_TOKEN = "284685063:TEST:guichet-tests"
SENDS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendInvoice"})


@dataclass
class Reply:
    """What the bot did while handling one update, in order."""

    calls: list[Call]

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.calls if c.method in SENDS and c.ok and c.text]

    @property
    def text(self) -> str:
        """Everything the customer reads, as one string (for `in` checks)."""
        return "\n".join(self.texts)

    @property
    def alerts(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.of("answerCallbackQuery")]

    @property
    def screen(self) -> Call | None:
        """The last message with buttons the bot sent or edited."""
        with_buttons = [c for c in self.calls if c.method in SENDS and c.buttons()]
        return with_buttons[-1] if with_buttons else None


@dataclass
class Person:
    """A Telegram user in a private chat with the bot."""

    desk: Desk
    user_id: int
    language: str = "en"
    first_name: str = "Ada"
    screen: Call | None = None  # the latest message with buttons, where presses go
    screens: dict[int, Call] = field(default_factory=dict)  # message_id -> its latest state

    async def send(self, text: str) -> Reply:
        update = self.desk.fake.send_text(
            self.user_id,
            text,
            first_name=self.first_name,
            language_code=self.language,
            enqueue=False,
        )
        return await self.desk.handle(self, update)

    async def press(self, label: str, *, on: Call | None = None) -> Reply:
        """Press the first button whose label contains ``label`` on the latest screen (or on
        ``on``, an older message)."""
        screen = on or self.screen
        assert screen is not None, "no message with buttons yet"
        data = next((d for text, d in screen.buttons() if label in text), None)
        assert data is not None, f"no button {label!r} in {screen.buttons()}"
        return await self.press_data(data, on=screen)

    async def press_data(self, data: str, *, on: Call | None = None) -> Reply:
        screen = on or self.screen
        message_id = self.message_id(screen) if screen else 1
        update = self.desk.fake.press_button(self.user_id, message_id, data, enqueue=False)
        return await self.desk.handle(self, update)

    def buttons(self) -> list[str]:
        return [text for text, _ in self.screen.buttons()] if self.screen else []

    def message_id(self, call: Call) -> int:
        return int(call.message_id or call.params["message_id"])

    def seen(self, reply: Reply) -> None:
        for call in reply.calls:
            if call.method in SENDS and call.ok and call.params.get("chat_id") == self.user_id:
                self.screens[self.message_id(call)] = call
        if reply.screen is not None:
            self.screen = reply.screen


class Desk:
    """The bot of one test: start, stop, restart, deliver the outbox through Telegram."""

    def __init__(self, fake: FakeBotAPI, ctx: Context, settings: BotSettings) -> None:
        self.fake, self.ctx, self.settings = fake, ctx, settings
        self.role: BotRole | None = None
        self._run: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._handled: set[int] = set()
        self._progress = asyncio.Event()
        self._web: tuple[uvicorn.Server, asyncio.Task[None]] | None = None

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self.role = BotRole(self.ctx, self.settings)
        self._track(self.role)
        self._stop = asyncio.Event()
        mark = len(self.fake.calls)
        if self.settings.bot_mode == "webhook":
            await self._serve_web(self.role)
        self._run = asyncio.create_task(self.role.run(self._stop))
        ready = "setWebhook" if self.settings.bot_mode == "webhook" else "getMe"
        fresh = self.fake.calls[:mark]
        await self.fake.wait_for(lambda c: c.method == ready and all(c is not f for f in fresh))

    async def stop(self) -> None:
        self._stop.set()
        if self._run is not None:
            await self._run
        if self._web is not None:
            server, task = self._web
            server.should_exit = True
            await task
            self._web = None
        if self.role is not None:
            await self.role.close()

    async def restart(self) -> None:
        """A new Bot and a new Dispatcher over the same database, as after a crash."""
        await self.stop()
        await self.start()

    def _track(self, role: BotRole) -> None:
        """Know when an update is fully handled: wrap the dispatcher's one entry point (both
        polling and the webhook route go through feed_update)."""
        dispatcher = role.dispatcher
        feed = dispatcher.feed_update

        async def feed_and_mark(bot: Any, update: Any, **kwargs: Any) -> Any:
            try:
                return await feed(bot, update, **kwargs)
            finally:
                self._handled.add(update.update_id)
                self._progress.set()
                self._progress = asyncio.Event()

        dispatcher.feed_update = feed_and_mark  # type: ignore[method-assign]

    async def _serve_web(self, role: BotRole) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # connections wait in the backlog until uvicorn accepts: no polling
        host, port = sock.getsockname()[:2]
        self.settings.public_url = f"http://{host}:{port}"
        app = build_app(self.ctx, {"bot": "running"}, extra_routes=[await role.webhook_route()])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self._web = (server, task)

    # -- talking ----------------------------------------------------------------------------
    def person(self, user_id: int, *, language: str = "en", first_name: str = "Ada") -> Person:
        return Person(self, user_id, language, first_name)

    async def handle(self, person: Person, update: dict[str, Any], timeout: float = 10) -> Reply:  # noqa: ASYNC109
        mark = len(self.fake.calls)
        update = self.fake.push_update(update)
        await self.handled(update["update_id"], timeout)
        reply = Reply(self.fake.calls[mark:])
        person.seen(reply)
        return reply

    async def handle_many(self, person: Person, updates: list[dict[str, Any]]) -> Reply:
        """Several updates at once (double and triple clicks), then wait for all of them."""
        mark = len(self.fake.calls)
        pushed = [self.fake.push_update(u) for u in updates]
        for update in pushed:
            await self.handled(update["update_id"])
        reply = Reply(self.fake.calls[mark:])
        person.seen(reply)
        return reply

    async def handled(self, update_id: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while update_id not in self._handled:
                await self._progress.wait()

    async def deliver(self) -> tuple[DeliveryReport, Reply]:
        """Run the outbox delivery once through the Telegram channel (no pacing in tests)."""
        assert self.role is not None
        self.ctx.channels["telegram"] = self.role.channel(RateLimiter(per_chat=0, overall=1e6))
        mark = len(self.fake.calls)
        report = await deliver_due(self.ctx)
        return report, Reply(self.fake.calls[mark:])


class Recorder:
    """A channel at our own boundary (email, in these tests): keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[OutboxView] = []

    async def deliver(self, message: OutboxView) -> None:
        self.messages.append(message)


def bot_settings(
    fake: FakeBotAPI, *, mode: str = "polling", payments: bool = True, **more: Any
) -> BotSettings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "bot_api_url": fake.base_url,
        "bot_mode": mode,
        "payment_provider_token": PROVIDER_TOKEN if payments else "",
    }
    return BotSettings(**(values | more), _env_file=None)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running(desk: Desk) -> AsyncIterator[Desk]:
    await desk.start()
    try:
        yield desk
    finally:
        await desk.stop()


@pytest.fixture
async def desk(fake_bot_api: FakeBotAPI, ctx: Context) -> AsyncIterator[Desk]:
    async with running(Desk(fake_bot_api, ctx, bot_settings(fake_bot_api))) as started:
        yield started


@pytest.fixture
async def sqlite_desk(fake_bot_api: FakeBotAPI, sqlite_ctx: Context) -> AsyncIterator[Desk]:
    async with running(Desk(fake_bot_api, sqlite_ctx, bot_settings(fake_bot_api))) as started:
        yield started


@pytest.fixture
async def webhook_desk(fake_bot_api: FakeBotAPI, sqlite_ctx: Context) -> AsyncIterator[Desk]:
    settings = bot_settings(fake_bot_api, mode="webhook")
    async with running(Desk(fake_bot_api, sqlite_ctx, settings)) as started:
        yield started


def context_on(url: str, clock: FrozenClock) -> Context:
    settings = CoreSettings(database_url=url, secret_key="test-secret", _env_file=None)  # type: ignore[call-arg]
    return Context.create(settings, clock=clock)


@pytest.fixture(
    params=[
        "polling-sqlite",
        pytest.param("polling-postgres", marks=pytest.mark.postgres),
        "webhook-sqlite",  # the transport is what differs; the database path is the same
    ]
)
async def any_desk(
    request: pytest.FixtureRequest,
    fake_bot_api: FakeBotAPI,
    sqlite_template: Path,
    tmp_path: Path,
    clock: FrozenClock,
) -> AsyncIterator[Desk]:
    """The main flows: polling on SQLite and PostgreSQL, and webhook mode."""
    mode, database = request.param.split("-")
    if database == "sqlite":
        url = databases.sqlite_copy(sqlite_template, tmp_path / "guichet.db")
    else:
        url = request.getfixturevalue("pg_url")  # session-wide, built in a thread
        await databases.truncate_pg(url)
    ctx = context_on(url, clock)
    try:
        async with running(Desk(fake_bot_api, ctx, bot_settings(fake_bot_api, mode=mode))) as desk:
            yield desk
    finally:
        await ctx.close()


async def linked_customer(
    ctx: Context,
    user_id: int,
    *,
    email: str = "ana@example.org",
    name: str = "Ana Test",
    language: str = "en",
    organization_id: int | None = None,
    customer_type: str = "individual",
) -> CustomerView:
    """A customer with an email whose Telegram chat is already linked."""
    customer = await make_customer(
        ctx,
        email=email,
        name=name,
        language=language,
        organization_id=organization_id,
        customer_type=customer_type,
    )
    return await customers.link_telegram(
        ctx, actor=STAFF, customer_id=customer.id, telegram_user_id=user_id, chat_id=user_id
    )


async def deep_link(ctx: Context, customer: CustomerView) -> str:
    return await linking.deep_link_payload(ctx, customer_id=customer.id)
