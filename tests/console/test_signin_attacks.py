"""Sign-in attacked as a stranger would, against the console served by a real uvicorn on
loopback: a burst of guesses, a lock-out attempt, a forged X-Forwarded-For, a copied cookie.
Each attack has a companion that removes the guard and shows the attack getting through."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from booking.context import Context
from booking.services import staff, staff_admin
from booking.services.staff_admin import ThrottleKeys
from booking.tables.staff import LoginCounter
from tests.conftest import NOW
from tests.console.conftest import PASSWORD, ConsoleFactory, _account, both, email_of
from tests.console.served import Browser, SleepyClock, served

pytestmark = pytest.mark.slow
BURST = 40
ROOT = Path(__file__).resolve().parents[2]


def healthz_budget() -> float:
    """Twice one argon2 verify, timed now (same machine, same load; no fixed wall time): five
    verifies on the event loop hold a /healthz for about five of them, off the loop none."""
    hashed = staff.hash_password("correct horse battery")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        staff._verify(hashed, "wrong guess")
        times.append(time.perf_counter() - start)
    return 2 * sorted(times)[1]


@pytest.fixture
def clock() -> SleepyClock:
    return SleepyClock(NOW)


async def burst_with_healthz(base_url: str, email: str) -> tuple[Counter[int], list[float]]:
    """``BURST`` concurrent wrong passwords, sent by another process from loopback, while this
    test asks for /healthz over and over from loopback too: the burst's status counts and every
    /healthz latency."""
    latencies: list[float] = []
    attacker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.console.burst_client", base_url, email, str(BURST),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    async with Browser(base_url) as browser:
        while attacker.returncode is None:
            start = time.perf_counter()
            health = await browser.client.get("/healthz")
            latencies.append(time.perf_counter() - start)
            assert health.status_code == 200
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(attacker.wait()), 0.01)
    out, _ = await attacker.communicate()
    assert attacker.returncode == 0
    return Counter(json.loads(out)), latencies


# -- a burst of concurrent guesses -------------------------------------------------------------


@both
async def test_forty_concurrent_wrong_passwords_get_five_401_and_the_rest_429(
    app: Any, app_ctx: Context
) -> None:
    await _account(app_ctx, "organizer")  # (made on first use on PostgreSQL)
    async with served(app) as base_url:
        codes, latencies = await burst_with_healthz(base_url, email_of("organizer"))
    assert codes == {401: staff_admin.MAX_PER_CLIENT_EMAIL, 429: BURST - 5}
    assert len(latencies) >= 10  # /healthz was asked for all along the burst
    budget = healthz_budget()
    assert max(latencies) < budget, f"slowest /healthz: {max(latencies):.3f} s, budget {budget:.3f}"


async def test_unguarded_check_then_record_lets_the_whole_burst_be_checked(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin of the old code: check the counts, verify the password, record the failure
    afterwards. Every request of the burst reads "under the limit" before any is recorded."""
    real_admit, real_authenticate = staff_admin.admit_attempt, staff.authenticate

    async def check_only(ctx: Context, keys: ThrottleKeys, now: datetime) -> int | None:
        async def over(session: AsyncSession) -> bool:
            for key, limit in staff_admin.hard_limits(keys):
                row = await session.get(LoginCounter, key)
                fresh = row is not None and now - row.window_start < staff_admin.WINDOW
                if fresh and row is not None and row.failures >= limit:
                    return True
            return False

        return None if await ctx.db.read(over) else 0

    async def verify_then_record(ctx: Context, *, email: str, password: str) -> Any:
        found = await real_authenticate(ctx, email=email, password=password)
        if found is None:
            await real_admit(ctx, staff_admin.throttle_keys(email, "127.0.0.1"), ctx.clock.now())
        return found

    monkeypatch.setattr(staff_admin, "admit_attempt", check_only)
    monkeypatch.setattr(staff, "authenticate", verify_then_record)
    async with served(app) as base_url:
        codes, _ = await burst_with_healthz(base_url, email_of("organizer"))
    assert codes[401] > staff_admin.MAX_PER_CLIENT_EMAIL, codes


async def test_argon2_on_the_event_loop_stalls_healthz_during_the_burst(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The companion of the worker thread: verify on the loop and /healthz waits."""

    async def on_the_loop(hashed: str, password: str) -> bool:
        return staff._verify(hashed, password)

    monkeypatch.setattr(staff, "verify_off_loop", on_the_loop)
    async with served(app) as base_url:
        codes, latencies = await burst_with_healthz(base_url, email_of("organizer"))
    assert codes[401] == staff_admin.MAX_PER_CLIENT_EMAIL
    assert max(latencies) > healthz_budget()


# -- no lock-out by a stranger -----------------------------------------------------------------


async def fail_from_many_clients(base_url: str, email: str, clients: int) -> Counter[int]:
    """Five wrong passwords from each of ``clients`` addresses (127.0.1.x)."""

    async def one(index: int) -> list[int]:
        async with Browser(base_url, f"127.0.1.{index + 1}") as browser:
            return [
                (await browser.sign_in(email, "guess")).status_code
                for _ in range(staff_admin.MAX_PER_CLIENT_EMAIL)
            ]

    found = await asyncio.gather(*(one(i) for i in range(clients)))
    return Counter(code for codes in found for code in codes)


@both
async def test_forty_failures_elsewhere_slow_the_right_password_but_do_not_lock_it_out(
    app: Any, app_ctx: Context, clock: SleepyClock
) -> None:
    await _account(app_ctx, "organizer")
    async with served(app) as base_url:
        elsewhere = await fail_from_many_clients(base_url, email_of("organizer"), 8)
        assert elsewhere == {401: BURST}
        clock.slept.clear()
        async with Browser(base_url, "127.0.2.1") as owner:
            signed_in = await owner.sign_in(email_of("organizer"), PASSWORD)
            assert signed_in.status_code == 303
            assert (await owner.get("/console/")).status_code == 200
    assert clock.slept == [staff_admin.DELAY_CAP_S]  # slowed, capped at a few seconds
    assert staff_admin.login_delay(BURST) == staff_admin.DELAY_CAP_S


async def test_unguarded_a_limit_on_the_email_alone_locks_the_owner_out(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        staff_admin, "hard_limits", lambda keys: [(keys.email, staff_admin.MAX_PER_CLIENT_EMAIL)]
    )
    async with served(app) as base_url:
        await fail_from_many_clients(base_url, email_of("organizer"), 8)
        async with Browser(base_url, "127.0.2.1") as owner:
            locked = await owner.sign_in(email_of("organizer"), PASSWORD)
    assert locked.status_code == 429


async def test_spraying_many_emails_from_one_client_hits_the_per_client_limit(app: Any) -> None:
    async with served(app) as base_url, Browser(base_url) as sprayer:
        codes = [
            (await sprayer.sign_in(f"user{i}@guichet.example", "Summer2026!")).status_code
            for i in range(staff_admin.MAX_PER_CLIENT + 2)
        ]
    assert codes[: staff_admin.MAX_PER_CLIENT] == [401] * staff_admin.MAX_PER_CLIENT
    assert codes[staff_admin.MAX_PER_CLIENT :] == [429, 429]


async def test_a_success_clears_the_client_and_email_failures(app: Any) -> None:
    async with served(app) as base_url, Browser(base_url) as desk:
        for _ in range(staff_admin.MAX_PER_CLIENT_EMAIL - 1):
            assert (await desk.sign_in(email_of("admin"), "typo")).status_code == 401
        assert (await desk.sign_in(email_of("admin"), PASSWORD)).status_code == 303
    async with served(app) as base_url, Browser(base_url) as desk:
        codes = [
            (await desk.sign_in(email_of("admin"), "typo")).status_code
            for _ in range(staff_admin.MAX_PER_CLIENT_EMAIL)
        ]
    assert codes == [401] * staff_admin.MAX_PER_CLIENT_EMAIL  # five fresh tries, not one


# -- forwarded headers -------------------------------------------------------------------------


async def rotating_forwarded_for(base_url: str, tries: int) -> list[int]:
    """Wrong passwords from loopback, each claiming another client in X-Forwarded-For."""
    async with Browser(base_url) as attacker:
        return [
            (
                await attacker.sign_in(
                    email_of("admin"), "guess", headers={"X-Forwarded-For": f"203.0.113.{i + 1}"}
                )
            ).status_code
            for i in range(tries)
        ]


async def test_a_rotating_forwarded_for_from_loopback_does_not_dodge_the_limit(app: Any) -> None:
    async with served(app) as base_url:  # GUICHET_TRUSTED_PROXIES empty: the default
        codes = await rotating_forwarded_for(base_url, 8)
    assert codes == [401] * 5 + [429] * 3


async def test_unguarded_uvicorns_default_trust_of_loopback_lets_the_rotation_dodge_it(
    app: Any,
) -> None:
    """How ``guichet serve`` configured uvicorn before: its defaults trust 127.0.0.1."""

    def default_config(port: int) -> uvicorn.Config:
        return uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")

    async with served(app, config=default_config) as base_url:
        codes = await rotating_forwarded_for(base_url, 8)
    assert codes == [401] * 8


async def test_forwarded_for_is_honoured_when_the_peer_is_a_trusted_proxy(app: Any) -> None:
    async with served(app, trusted_proxies="127.0.0.0/8") as base_url:
        rotated = await rotating_forwarded_for(base_url, 8)
        async with Browser(base_url) as proxy:  # one real client behind the proxy
            same = [
                (
                    await proxy.sign_in(
                        email_of("admin"), "guess", headers={"X-Forwarded-For": "198.51.100.7"}
                    )
                ).status_code
                for _ in range(6)
            ]
    assert rotated == [401] * 8  # each forwarded address is its own client
    assert same == [401] * 5 + [429]


# -- sign-out ends the session on the server ---------------------------------------------------


Ending = Callable[..., Awaitable[None]]


async def copied_cookie_after_sign_out(app: Any) -> httpx.Response:
    """Sign in, copy the cookie to another browser, sign out: what the copy gets then."""
    async with (
        served(app) as base_url,
        Browser(base_url) as owner,
        Browser(base_url, "127.0.3.1") as thief,
    ):
        assert (await owner.sign_in(email_of("admin"), PASSWORD)).status_code == 303
        for cookie in owner.client.cookies.jar:
            thief.client.cookies.jar.set_cookie(cookie)
        assert (await thief.get("/console/")).status_code == 200
        await owner.get("/console/")
        out = await owner.post("/console/logout")
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        return await thief.get("/console/")


async def test_a_copied_cookie_after_sign_out_gets_the_login_page(app: Any) -> None:
    after = await copied_cookie_after_sign_out(app)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/console/login?next=")
    assert after.headers["location"].endswith("&expired=1")


async def test_unguarded_a_sign_out_that_only_clears_the_cookie_leaves_the_copy_working(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def forget_nothing(ctx: Context, *, token: str) -> None:
        return None

    monkeypatch.setattr(staff_admin, "end_session", forget_nothing)
    after = await copied_cookie_after_sign_out(app)
    assert after.status_code == 200


async def test_a_password_change_ends_the_accounts_other_sessions_but_not_this_one(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    me = await console_for("admin")
    elsewhere = await console_for("admin")
    account = next(
        a for a in await staff_admin.list_accounts(app_ctx) if a.email == email_of("admin")
    )
    await me.get(f"/console/staff/{account.id}")
    changed = await me.post(
        f"/console/staff/{account.id}/password",
        {"password": "another long passphrase", "repeat": "another long passphrase"},
    )
    assert changed.status_code == 303
    assert (await me.get("/console/")).status_code == 200
    assert (await elsewhere.get("/console/")).status_code == 303


async def test_the_session_table_keeps_no_token_in_clear(app_ctx: Context) -> None:
    from sqlalchemy import text

    account = (await staff_admin.list_accounts(app_ctx))[0]
    token = await staff_admin.start_session(app_ctx, staff_id=account.id)

    async def rows(session: Any) -> list[str]:
        found = await session.execute(text("SELECT token_hash FROM staffsession"))
        return [r[0] for r in found]

    stored = await app_ctx.db.read(rows)
    assert stored and token not in stored
    assert (await staff_admin.resume_session(app_ctx, token=token)).account == account
    await staff_admin.end_session(app_ctx, token=token)
    assert (await staff_admin.resume_session(app_ctx, token=token)).account is None
