"""Signing in and out, throttling, sessions, CSRF, roles and the security headers."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

import httpx
import pytest

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import bookings, staff, staff_admin
from booking.settings import CoreSettings
from console.web.app import build_app
from console.web.security import COOKIE
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import PASSWORD, SYSTEM, ConsoleFactory, email_of


async def test_an_admin_made_by_guichet_admin_create_signs_in_and_sees_the_dashboard(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    # What `guichet admin create Boss@Example.org` does (console/cli.py).
    await staff.create_staff(
        app_ctx, actor=SYSTEM, email="Boss@Example.org", password="a long passphrase"
    )
    console = await console_for(login=False)
    page = await console.get("/console/login")
    assert page.status_code == 200 and 'name="csrf"' in page.text
    signed_in = await console.login("boss@example.org", "a long passphrase")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http here
    dashboard = await console.get("/console/")
    assert dashboard.status_code == 200
    assert "boss@example.org" in dashboard.text and "Administrator" in dashboard.text


async def test_a_wrong_password_is_refused_with_the_email_kept_and_no_session(
    console_for: ConsoleFactory,
) -> None:
    console = await console_for(login=False)
    refused = await console.login(email_of("admin"), "not the password")
    assert refused.status_code == 401
    assert "Wrong email or password." in refused.text
    assert f'value="{email_of("admin")}"' in refused.text
    assert "not the password" not in refused.text
    after = await console.get("/console/")
    assert after.status_code == 303 and after.headers["location"].startswith("/console/login")


async def test_sign_in_is_throttled_after_five_failures_then_open_again(
    console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    console = await console_for(login=False)
    for _ in range(staff_admin.MAX_PER_CLIENT_EMAIL):
        assert (await console.login(email_of("organizer"), "guess")).status_code == 401
    blocked = await console.login(email_of("organizer"), PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    other = await console.login(email_of("box_office"), PASSWORD)  # another account is not
    assert other.status_code == 303
    clock.advance(staff_admin.WINDOW + timedelta(seconds=1))
    fresh = await console_for(login=False)
    assert (await fresh.login(email_of("organizer"), PASSWORD)).status_code == 303


async def test_the_sign_in_form_needs_its_csrf_token(console_for: ConsoleFactory) -> None:
    console = await console_for(login=False)
    await console.get("/console/login")
    forged = await console.post(
        "/console/login", {"email": email_of("admin"), "password": PASSWORD}, csrf="forged"
    )
    assert forged.status_code == 403 and "This form has expired" in forged.text
    assert (await console.get("/console/")).status_code == 303


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console/", "/console//evil.example"]
)
async def test_sign_in_never_redirects_off_the_console(
    console_for: ConsoleFactory, target: str
) -> None:
    console = await console_for("admin")  # signed in: the login page sends on to ``next``
    answer = await console.get("/console/login", next=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    inside = await console.get("/console/login", next="/console/outbox?show=dead")
    assert inside.headers["location"] == "/console/outbox?show=dead"


async def test_a_page_asked_for_without_a_session_comes_back_after_sign_in(
    console_for: ConsoleFactory,
) -> None:
    console = await console_for(login=False)
    asked = await console.get("/console/releases", show="overdue")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/console/login?next=%2Fconsole%2Freleases%3Fshow%3Doverdue"
    await console.get(asked.headers["location"])
    back = await console.post(
        "/console/login",
        {
            "email": email_of("admin"),
            "password": PASSWORD,
            "next": "/console/releases?show=overdue",
        },
    )
    assert back.headers["location"] == "/console/releases?show=overdue"


async def test_an_expired_session_sends_get_to_sign_in_and_refuses_post_changing_nothing(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    console = await console_for("box_office")
    page = await console.get(f"/console/bookings/{booking.reference}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    clock.advance(timedelta(hours=5))  # more than the 4 idle hours
    again = await console.get("/console/")
    assert again.status_code == 303 and again.headers["location"].endswith("&expired=1")
    paid = await console.post(
        f"/console/bookings/{booking.reference}/pay", {"method": "cash", "version": version}
    )
    assert paid.status_code == 401 and "Your session has ended" in paid.text
    now = await bookings.get_booking(app_ctx, actor=STAFF, reference=booking.reference)
    assert now.status == "held"


async def test_a_working_session_ends_after_fourteen_hours_whatever_the_activity(
    console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    console = await console_for("admin")
    for _ in range(5):
        clock.advance(timedelta(hours=3))
        await console.get("/console/")
    assert console.last is not None and console.last.status_code == 303


async def test_a_missing_or_wrong_csrf_token_is_refused_and_changes_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    console = await console_for("organizer")
    page = await console.get(f"/console/bookings/{booking.reference}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    path = f"/console/bookings/{booking.reference}/cancel"
    form = {"reason": "illness", "version": version}
    missing = await console.client.post(path, data=form)
    assert missing.status_code == 403 and "This form has expired" in missing.text
    wrong = await console.post(path, form, csrf="x" * 43)
    assert wrong.status_code == 403
    now = await bookings.get_booking(app_ctx, actor=STAFF, reference=booking.reference)
    assert now.status == "held"


async def test_a_role_without_the_right_gets_a_clear_page_and_changes_nothing(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    desk = await console_for("box_office")
    home = await desk.get("/console/")
    assert "/console/releases" not in home.text and "/console/staff" not in home.text
    refused = await desk.get("/console/releases")
    assert refused.status_code == 403 and "Not allowed for your role" in refused.text
    page = await desk.get(f"/console/bookings/{booking.reference}")
    assert "/cancel" not in page.text  # the form is not even offered
    version = page.text.split('name="version" value="')[1].split('"')[0]
    cancel = await desk.post(
        f"/console/bookings/{booking.reference}/cancel", {"reason": "price", "version": version}
    )
    assert cancel.status_code == 403
    release = await desk.post("/console/releases", {"action": "release", "ref": booking.reference})
    assert release.status_code == 403
    now = await bookings.get_booking(app_ctx, actor=STAFF, reference=booking.reference)
    assert now.status == "held"
    organizer = await console_for("organizer")
    assert (await organizer.get("/console/staff")).status_code == 403


async def test_switching_an_account_off_ends_its_sessions_at_once(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    organizer = await console_for("organizer")
    admin = await console_for("admin")
    target = next(
        a for a in await staff_admin.list_accounts(app_ctx) if a.email == email_of("organizer")
    )
    page = await admin.get(f"/console/staff/{target.id}")
    assert page.status_code == 200
    saved = await admin.post(
        f"/console/staff/{target.id}",
        {"version": target.version, "name": "Gone", "role": "organizer", "language": "en"},
    )
    assert saved.status_code == 303
    assert (await organizer.get("/console/")).status_code == 303


async def test_sign_out_ends_the_session(console_for: ConsoleFactory) -> None:
    console = await console_for("admin")
    out = await console.post("/console/logout")
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert (await console.get("/console/")).status_code == 303
    assert "You are signed out." in (await console.get("/console/login")).text


async def test_the_language_switch_is_kept_on_the_account(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    console = await console_for("organizer")
    switched = await console.post("/console/language", {"language": "fr", "back": "/console/"})
    assert switched.status_code == 303
    page = await console.get("/console/")
    assert "Tableau de bord" in page.text and 'lang="fr"' in page.text
    account = next(
        a for a in await staff_admin.list_accounts(app_ctx) if a.email == email_of("organizer")
    )
    assert account.language == "fr"


async def test_every_response_carries_the_security_headers(console_for: ConsoleFactory) -> None:
    console = await console_for("admin")
    page = await console.get("/console/")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    health = await console.get("/healthz")
    assert health.status_code == 200 and health.headers["x-frame-options"] == "DENY"
    assert health.json()["roles"] == {"web": "running", "worker": "running"}
    assert (await console.get("/console/static/console.css")).status_code == 200


async def test_behind_https_the_cookie_is_secure_and_hsts_is_sent(app_ctx: Context) -> None:
    settings = CoreSettings(  # type: ignore[call-arg]
        database_url=app_ctx.settings.database_url,
        secret_key="test-secret",
        public_url="https://tickets.example",
        _env_file=None,
    )
    ctx = Context(settings=settings, db=app_ctx.db, clock=app_ctx.clock)
    app = build_app(ctx, {})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as client:
        page = await client.get("/console/login")
    assert "Secure" in page.headers["set-cookie"] and COOKIE in page.headers["set-cookie"]
    assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_an_unknown_console_address_gets_a_plain_not_found_page(
    console_for: ConsoleFactory,
) -> None:
    console = await console_for("admin")
    missing = await console.get("/console/nothing-here")
    assert missing.status_code == 404 and "Not found" in missing.text
    assert (await console.get("/console/bookings/ZZZ-ZZZ")).status_code == 404


async def test_the_guichet_admin_create_command_makes_an_account_that_signs_in(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    """The README's first step, as an operator types it: the command, then the sign-in form."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env["GUICHET_DATABASE_URL"] = app_ctx.settings.database_url
    made = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.cli",
        "admin",
        "create",
        "Camille@Theatre.example",
        "--name",
        "Camille Martin",
        "--role",
        "organizer",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(made.communicate(b"a long passphrase\n"), timeout=120)
    assert made.returncode == 0, err.decode()
    assert "created organizer account camille@theatre.example" in out.decode()
    console = await console_for(login=False)
    signed_in = await console.login("camille@theatre.example", "a long passphrase")
    assert signed_in.status_code == 303
    home = await console.get("/console/")
    assert "Camille Martin" in home.text and "/console/releases" in home.text
