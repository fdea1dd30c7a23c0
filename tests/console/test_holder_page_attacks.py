"""The holder page's throttling attacked as a stranger would, against the app served by a real
uvicorn on loopback (configured as ``guichet serve`` does, each browser at its own 127.x
address): a forged X-Forwarded-For, many pairs sprayed from one address, codes tried across
challenges, and a stranger trying to lock the holder out. Each has a companion that removes
the guard and shows the attack getting through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from booking.context import Context
from booking.services import holder_access
from console.web import account
from tests.console.holder_page import (
    CSRF,
    Holder,
    Mail,
    app_for,
    forget_throttles,
    holder,
    open_sessions,
    season,
)
from tests.console.served import served
from tests.support.fixtures import smtp_server  # noqa: F401
from tests.support.mailservers import SmtpRecorder


@pytest.fixture
async def mail(ctx: Context, smtp_server: SmtpRecorder) -> AsyncIterator[Mail]:  # noqa: F811
    await forget_throttles(ctx)
    found = Mail(ctx, smtp_server)
    # Served on plain http on loopback here: a Secure cookie would not come back.
    ctx.settings = ctx.settings.model_copy(update={"public_url": "http://127.0.0.1:8000"})
    yield found
    await found.close()


@pytest.fixture
async def ana(ctx: Context, mail: Mail) -> Holder:
    return await holder(ctx, await season(ctx))


class Visitor:
    """A browser at one loopback address, over real HTTP."""

    def __init__(self, base_url: str, address: str) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        self.http = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=30)
        self.csrf = ""

    async def __aenter__(self) -> Visitor:
        page = await self.http.get("/account")
        found = CSRF.search(page.text)
        assert found, page.text
        self.csrf = found.group(1)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def ask(self, email: str, pass_code: str, **kw: Any) -> httpx.Response:
        data = {"csrf": self.csrf, "email": email, "pass_code": pass_code}
        return await self.http.post("/account", data=data, **kw)

    async def enter(self, code: str) -> httpx.Response:
        answer = await self.http.post("/account/code", data={"csrf": self.csrf, "code": code})
        return answer


def codes(n: int) -> list[str]:
    """``n`` well-formed pass codes (almost surely nobody's)."""
    return [f"{a}{b}{c}-ZZZ" for a in "ABC" for b in "DEFGH" for c in "JKMNP"][:n]


async def spray(base_url: str, *, forged: bool) -> list[int]:
    """More requests than one address may make, each for another pass code, each naming
    another client in X-Forwarded-For when ``forged``."""
    statuses = []
    async with Visitor(base_url, "127.0.5.1") as sprayer:
        for n, code in enumerate(codes(holder_access.REQUESTS_PER_CLIENT + 2)):
            headers = {"x-forwarded-for": f"203.0.113.{n + 1}"} if forged else {}
            statuses.append(
                (await sprayer.ask("ana@example.org", code, headers=headers)).status_code
            )
    return statuses


async def test_a_forged_forwarded_header_does_not_reset_the_client_limit(
    ctx: Context, mail: Mail
) -> None:
    async with served(app_for(ctx)) as base_url:
        statuses = await spray(base_url, forged=True)
    limit = holder_access.REQUESTS_PER_CLIENT
    assert statuses == [303] * limit + [429, 429]


async def test_companion_believing_the_forwarded_header_lets_the_spray_through(
    ctx: Context, mail: Mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forwarded(request: Any) -> str:
        return str(request.headers.get("x-forwarded-for") or request.client.host)

    monkeypatch.setattr(account, "client_of", forwarded)
    async with served(app_for(ctx)) as base_url:
        statuses = await spray(base_url, forged=True)
    assert set(statuses) == {303}


async def test_codes_tried_across_challenges_hit_the_client_limit(ctx: Context, mail: Mail) -> None:
    statuses: list[int] = []
    async with served(app_for(ctx)) as base_url, Visitor(base_url, "127.0.5.2") as guesser:
        for code in codes(7):  # seven challenges of five tries: more than the client's thirty
            await guesser.ask("ana@example.org", code)
            for _ in range(holder_access.MAX_ATTEMPTS):
                statuses.append((await guesser.enter("123456")).status_code)
    tried = holder_access.TRIES_PER_CLIENT
    assert statuses.count(429) == 7 * holder_access.MAX_ATTEMPTS - tried
    assert 429 not in statuses[:tried]
    assert await open_sessions(ctx) == 0


async def stranger_then_holder(base_url: str, mail: Mail, ana: Holder) -> tuple[int, int]:
    """A stranger at one address asks, as often as it may, with Ana's address and pass codes
    that are not hers, and tries codes on each; then Ana asks from home. The stranger's last
    answer and Ana's."""
    async with Visitor(base_url, "127.0.6.1") as stranger:
        for code in codes(holder_access.REQUESTS_PER_CLIENT + 1):
            last = await stranger.ask(ana.email, code)
            for _ in range(holder_access.MAX_ATTEMPTS):
                await stranger.enter("123456")
    async with Visitor(base_url, "127.0.7.1") as home:
        mine = await home.ask(ana.email, ana.code)
        if mine.status_code == 303:
            signed = await home.enter(await mail.code_for(ana.email))
            assert signed.status_code == 303
            assert "Signed in as" in (await home.http.get("/account")).text
    return last.status_code, mine.status_code


async def test_a_stranger_with_the_holders_address_cannot_lock_them_out(
    ctx: Context, mail: Mail, ana: Holder
) -> None:
    async with served(app_for(ctx)) as base_url:
        stranger, holder_answer = await stranger_then_holder(base_url, mail, ana)
    assert stranger == 429  # the stranger's own address ran out
    assert holder_answer == 303


async def test_companion_a_limit_on_the_address_alone_locks_the_holder_out(
    ctx: Context, mail: Mail, ana: Holder, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = holder_access._keys

    def by_address(email: str, pass_code: str, client: str) -> Any:
        return real(email, "", client)  # the pass code left out: keyed on the email alone

    monkeypatch.setattr(holder_access, "_keys", by_address)
    async with served(app_for(ctx)) as base_url:
        _, holder_answer = await stranger_then_holder(base_url, mail, ana)
    assert holder_answer == 429
