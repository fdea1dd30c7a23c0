"""The console over HTTP (httpx against the ASGI app) on a real database, signed in by role.

argon2 is slow on purpose (about half a second a hash here), so the three staff accounts are
made once per session in a database template, and most tests start with a server-side
session opened by the core and its cookie signed by the app's own codec. The sign-in form
itself is tested in test_auth.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.actors import Actor
from booking.clock import FrozenClock
from booking.context import Context
from booking.services import releases, staff_admin
from booking.services.staff_admin import StaffAccount
from booking.settings import CoreSettings
from booking.views import BookingView
from console.web.app import build_app
from console.web.security import COOKIE, Session, SessionCodec, new_token
from tests import databases
from tests.builders import Catalog, make_catalog, make_customer, make_held_booking
from tests.conftest import NOW

PASSWORD = "correct horse battery"
SECRET = "test-secret"
SYSTEM = Actor.system("test")
ROLES = ("admin", "organizer", "box_office")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REFERENCE = re.compile(r"/console/bookings/([2-9A-HJKMNP-TW-Z]{3}-[2-9A-HJKMNP-TW-Z]{3})")


def email_of(role: str) -> str:
    return f"{role}@guichet.example"


class Console:
    """An httpx client on the app that remembers the CSRF token of the last page it saw."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.csrf = ""
        self.last: httpx.Response | None = None

    async def get(self, path: str, **params: Any) -> httpx.Response:
        response = await self.client.get(path, params=params or None)
        self._remember(response)
        return response

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: str | None = None, **kw: Any
    ) -> httpx.Response:
        if not self.csrf:
            await self.get("/console/login")
        body = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        response = await self.client.post(path, data=body, **kw)
        self._remember(response)
        return response

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/console/login")
        return await self.post("/console/login", {"email": email, "password": password})

    def _remember(self, response: httpx.Response) -> None:
        self.last = response
        if "html" in response.headers.get("content-type", ""):
            found = CSRF.search(response.text)
            if found:
                self.csrf = found.group(1)


ConsoleFactory = Callable[..., Awaitable[Console]]


async def _account(ctx: Context, role: str) -> StaffAccount:
    """The test account of ``role``, made when missing (argon2: half a second)."""
    for account in await staff_admin.list_accounts(ctx):
        if account.email == email_of(role):
            return account
    return await staff_admin.create_account(
        ctx,
        actor=SYSTEM,
        email=email_of(role),
        password=PASSWORD,
        role=role,
        name=f"{role.replace('_', ' ').title()} Test",
    )


@pytest.fixture(scope="session")
def console_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template plus one staff account per role (hashed once per session)."""
    path = tmp_path_factory.mktemp("console") / "console.db"
    shutil.copy(sqlite_template, path)

    async def accounts() -> None:
        ctx = _context(f"sqlite+aiosqlite:///{path}", FrozenClock(NOW))
        try:
            for role in ROLES:
                await _account(ctx, role)
        finally:
            await ctx.close()

    databases.in_thread(accounts)
    return path


def _context(url: str, clock: FrozenClock) -> Context:
    settings = CoreSettings(database_url=url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    return Context.create(settings, clock=clock)


@pytest.fixture
async def app_ctx(
    request: pytest.FixtureRequest, console_template: Path, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Context]:
    """SQLite with the staff accounts; a test marked ``@both`` runs on PostgreSQL too (the
    accounts are then made on first use)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        ctx = _context(databases.sqlite_copy(console_template, tmp_path / "guichet.db"), clock)
    else:
        url = request.getfixturevalue("pg_url")
        await databases.truncate_pg(url)
        ctx = _context(url, clock)
    yield ctx
    await ctx.close()


# For the actions the database guards (payments, status changes, bulk decisions).
both = pytest.mark.parametrize(
    "app_ctx", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def app(app_ctx: Context) -> Any:
    return build_app(app_ctx, {"web": "running", "worker": "running"})


@pytest.fixture
async def console_for(app: Any, app_ctx: Context) -> AsyncIterator[ConsoleFactory]:
    """``await console_for("organizer")``: a client signed in as that role's test account
    (``login=False``: a client with no session at all)."""
    clients: list[httpx.AsyncClient] = []
    codec = SessionCodec(SECRET, secure=False)

    async def make(role: str = "admin", *, login: bool = True) -> Console:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        console = Console(client)
        if login:
            account = await _account(app_ctx, role)
            session = Session(csrf=new_token())
            token = await staff_admin.start_session(app_ctx, staff_id=account.id)
            session.sign_in(token, account)
            client.cookies.set(
                COOKIE, codec.dumps(session), domain="testserver.local", path="/console"
            )
            await console.get("/console/")
        return console

    yield make
    for client in clients:
        await client.aclose()


async def overdue_holds(
    ctx: Context, clock: FrozenClock, n: int = 3, *, cat: Catalog | None = None
) -> tuple[Catalog, list[BookingView]]:
    """``n`` holds of a flexible event whose deadline has passed: overdue, on the release
    screen, each of a different customer (email only, so each notice is one email row)."""
    cat = cat or await make_catalog(ctx, policy="flexible", days_after_booking=2)
    made = []
    for i in range(n):
        customer = await make_customer(ctx, email=f"late{i}@example.org", name=f"Late Payer {i}")
        made.append(await make_held_booking(ctx, cat, customer, channel="email"))
    clock.advance(timedelta(days=3))
    await releases.release_due(ctx)
    return cat, made


def references(text: str) -> list[str]:
    return REFERENCE.findall(text)
