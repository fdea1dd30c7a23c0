"""One tap to admit from a ticket's own page ``/t/<secret>`` (SPEC §9 "The door", issue 12
item 3): door staff signed in to the console get the check-in answer for the current
performance and an Admit button; anyone else sees the ticket and admits nothing.

The staff member signs in through the real form (the door cookie is set there), over HTTP
against the app, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from booking.clock import FrozenClock
from booking.context import Context
from booking.services import payments, staff_admin
from booking.services.staff_admin import SessionCheck, StaffAccount
from booking.tables.checkin import CheckIn
from booking.tables.passes import Pass
from console.web import ticket_page
from console.web.app import build_app
from console.web.pages import PERMISSIONS
from console.web.security import (
    COOKIE,
    DOOR_COOKIE,
    DOOR_PATH,
    DOOR_ROLES,
    DoorPass,
    SessionCodec,
)
from tests.booking.test_pass_sale import dates_of, rows, sell, setup
from tests.builders import STAFF, make_catalog, make_customer, make_held_booking
from tests.console.conftest import SECRET, Console, ConsoleFactory, both, email_of
from tests.console.test_booking_page import secrets_of
from tests.support.english import english_in, visible_text

DATA = ("Test Concert", "Salle Test", "Salle Lune", "Standing", "Ana Test", "Guichet", "Nord")
PERFORMANCE = re.compile(r'name="performance" value="(\d+)"')


@pytest.fixture
def app(app_ctx: Context) -> Any:
    return build_app(app_ctx, {"web": "running"}, extra_routes=ticket_page.routes(app_ctx))


def outcome(text: str) -> str:
    found = re.search(r'data-outcome="([a-z_]+)"', text)
    return found.group(1) if found else ""


async def paid(
    ctx: Context, *, starts_in: timedelta = timedelta(hours=2), name: str = "Salle Test"
) -> tuple[int, list[str]]:
    """A paid booking of two tickets for a performance ``starts_in`` from now (two hours:
    its door is open, from three hours before)."""
    cat = await make_catalog(ctx, starts_in=starts_in, name=name)
    customer = await make_customer(ctx, email=f"ana.{name.split()[-1].lower()}@example.org")
    booking = await make_held_booking(ctx, cat, customer, quantity=2)
    await payments.record_box_office_payment(
        ctx, actor=STAFF, reference=booking.reference, method="cash"
    )
    return cat.performance_id, await secrets_of(ctx, booking.reference)


async def checked_in(ctx: Context) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(CheckIn))).scalar_one())

    return await ctx.db.read(work)


async def door_staff(console_for: ConsoleFactory, *, role: str = "door", language: str = "en"
                     ) -> Console:  # fmt: skip
    """A staff member signed in through the sign-in form, as on the phone at the door."""
    await console_for(role)  # the account (argon2 once)
    console = await console_for(login=False)
    signed_in = await console.login(email_of(role))
    assert signed_in.status_code == 303, signed_in.text
    if language != "en":
        await console.get("/console/door" if role == "door" else "/console/")
        back = "/console/door"
        switched = await console.post("/console/language", {"language": language, "back": back})
        assert switched.status_code == 303
    return console


def door_cookie(console: Console) -> str:
    return next(c.value or "" for c in console.client.cookies.jar if c.name == DOOR_COOKIE)


async def tap(console: Console, secret: str, *, door: str = "Nord") -> httpx.Response:
    """Open the ticket's page, then press its Admit button."""
    page = await console.get(f"/t/{secret}")
    assert outcome(page.text) == "admissible" and 'id="door-admit"' in page.text
    found = PERFORMANCE.search(page.text)
    assert found
    return await console.post(f"/t/{secret}", {"performance": found.group(1), "door": door})


@both
async def test_door_staff_admit_a_ticket_with_one_tap_and_a_second_tap_is_already_used(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _other) = await paid(app_ctx)
    door = await door_staff(console_for)
    assert door_cookie(door)  # set at sign-in, for /t/ only
    cookie = next(c for c in door.client.cookies.jar if c.name == DOOR_COOKIE)
    assert cookie.path == DOOR_PATH and cookie.has_nonstandard_attr("HttpOnly")

    admitted = await tap(door, secret)
    assert admitted.status_code == 200 and outcome(admitted.text) == "admitted"
    assert 'id="door-admit"' not in admitted.text
    assert await checked_in(app_ctx) == 1

    again = await door.get(f"/t/{secret}")
    assert outcome(again.text) == "already_used" and 'id="door-admit"' not in again.text
    shown = visible_text(again.text)
    assert "Already used" in shown and "door: Nord" in shown  # when, and at which door
    forced = await door.post(f"/t/{secret}", {"performance": performance, "door": "Sud"})
    assert outcome(forced.text) == "already_used"  # a replayed tap admits nothing more
    assert await checked_in(app_ctx) == 1


async def test_the_one_tap_page_is_all_french_for_a_french_staff_member(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    _tonight, (first, second) = await paid(app_ctx)
    _later, (next_week, _) = await paid(app_ctx, starts_in=timedelta(days=9), name="Salle Lune")
    door = await door_staff(console_for, language="fr")
    pages = {
        "admissible": await door.get(f"/t/{first}"),
        "admitted": await tap(door, second),
        "already_used": await door.get(f"/t/{second}"),
        "wrong_date": await door.get(f"/t/{next_week}"),  # tonight's door is the open one
    }
    for name, page in pages.items():
        assert page.status_code == 200 and outcome(page.text) == name, name
        assert 'lang="fr"' in page.text
        assert english_in(visible_text(page.text), DATA) == [], name
    assert "Entrée validée" in visible_text(pages["admitted"].text)
    assert "Entré le" in visible_text(pages["already_used"].text)
    assert "Mauvaise date" in visible_text(pages["wrong_date"].text)
    assert 'id="door-admit"' not in pages["wrong_date"].text


@both
async def test_a_stranger_sees_the_ticket_without_an_admit_button_and_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory, app: Any
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
        page = await web.get(f"/t/{secret}")
        assert page.status_code == 200 and "Test Concert" in page.text
        assert 'id="door-admit"' not in page.text and 'name="csrf"' not in page.text
        assert outcome(page.text) == ""  # the ticket, not a check-in answer
        posted = await web.post(f"/t/{secret}", data={"performance": performance, "csrf": "x"})
        assert posted.status_code == 401
        # a door cookie that is not ours: made up, or signed with another key
        for forged in ("made-up", SessionCodec("another-key", secure=False).dumps_door(
                DoorPass("token", "csrf"))):  # fmt: skip
            web.cookies.set(DOOR_COOKIE, forged, domain="testserver.local", path=DOOR_PATH)
            assert 'id="door-admit"' not in (await web.get(f"/t/{secret}")).text
            posted = await web.post(
                f"/t/{secret}", data={"performance": performance, "csrf": "csrf"}
            )
            assert posted.status_code == 401
    assert await checked_in(app_ctx) == 0


@both
async def test_a_signed_out_sessions_door_cookie_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    door = await door_staff(console_for)
    kept = door_cookie(door)  # a copy taken before sign-out
    page = await door.get(f"/t/{secret}")
    csrf = door.csrf
    assert 'id="door-admit"' in page.text
    await door.get("/console/door")
    out = await door.post("/console/logout")
    assert out.status_code == 303
    assert DOOR_COOKIE not in [c.name for c in door.client.cookies.jar]  # sign-out ends both
    door.client.cookies.set(DOOR_COOKIE, kept, domain="testserver.local", path=DOOR_PATH)
    replay = await door.client.get(f"/t/{secret}")
    assert 'id="door-admit"' not in replay.text and outcome(replay.text) == ""
    assert "max-age=0" in replay.headers.get("set-cookie", "").lower()  # the copy is taken away
    door.client.cookies.set(DOOR_COOKIE, kept, domain="testserver.local", path=DOOR_PATH)
    posted = await door.client.post(f"/t/{secret}", data={"performance": performance, "csrf": csrf})
    assert posted.status_code == 401
    assert await checked_in(app_ctx) == 0


async def test_without_the_server_side_check_a_signed_out_cookie_admits(
    app_ctx: Context, console_for: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The companion: trust the cookie's word (no server-side session check) and a copy taken
    before sign-out admits."""
    performance, (secret, _) = await paid(app_ctx)
    door = await door_staff(console_for)
    kept = door_cookie(door)
    await door.get(f"/t/{secret}")
    csrf = door.csrf
    account = next(a for a in await _accounts(app_ctx) if a.email == email_of("door"))
    await door.get("/console/door")
    await door.post("/console/logout")

    async def trusting(ctx: Context, *, token: str) -> SessionCheck:
        return SessionCheck(account)

    monkeypatch.setattr(staff_admin, "resume_session", trusting)
    door.client.cookies.set(DOOR_COOKIE, kept, domain="testserver.local", path=DOOR_PATH)
    posted = await door.client.post(f"/t/{secret}", data={"performance": performance, "csrf": csrf})
    assert outcome(posted.text) == "admitted"
    assert await checked_in(app_ctx) == 1


async def _accounts(ctx: Context) -> list[StaffAccount]:
    return await staff_admin.list_accounts(ctx)


@both
async def test_a_post_without_the_csrf_token_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    door = await door_staff(console_for)
    await door.get(f"/t/{secret}")
    forged = await door.post(f"/t/{secret}", {"performance": performance}, csrf="forged")
    assert forged.status_code == 403
    missing = await door.client.post(f"/t/{secret}", data={"performance": performance})
    assert missing.status_code == 403
    assert await checked_in(app_ctx) == 0
    page = await door.get(f"/t/{secret}")
    assert outcome(page.text) == "admissible"  # nothing was admitted


async def test_without_the_csrf_check_another_site_admits_through_the_staff_cookie(
    app_ctx: Context, console_for: ConsoleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The companion: a form posted from elsewhere (with the staff member's cookie, as a
    same-site page or a browser without SameSite would send it) admits once the token is not
    checked."""
    performance, (secret, _) = await paid(app_ctx)
    door = await door_staff(console_for)
    monkeypatch.setattr(DoorPass, "csrf_ok", lambda self, token: True)
    forged = await door.client.post(f"/t/{secret}", data={"performance": performance})
    assert outcome(forged.text) == "admitted"
    assert await checked_in(app_ctx) == 1


async def test_box_office_staff_get_no_door_cookie_and_their_session_admits_nothing(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    performance, (secret, _) = await paid(app_ctx)
    desk = await door_staff(console_for, role="box_office")
    assert DOOR_COOKIE not in [c.name for c in desk.client.cookies.jar]
    # Even a validly signed door cookie naming a box-office session: the role is checked.
    token, csrf = await _console_session(desk)
    made = SessionCodec(SECRET, secure=False).dumps_door(DoorPass(token, csrf))
    desk.client.cookies.set(DOOR_COOKIE, made, domain="testserver.local", path=DOOR_PATH)
    page = await desk.client.get(f"/t/{secret}")
    assert 'id="door-admit"' not in page.text
    posted = await desk.client.post(f"/t/{secret}", data={"performance": performance,
                                                         "csrf": csrf})  # fmt: skip
    assert posted.status_code == 401
    assert await checked_in(app_ctx) == 0


async def _console_session(console: Console) -> tuple[str, str]:
    """The token and CSRF token inside a console cookie (what the server signed)."""
    raw = next(c.value or "" for c in console.client.cookies.jar if c.name == COOKIE)
    data = SessionCodec(SECRET, secure=False)._signer.loads(raw)
    return str(data["i"]), str(data["c"])


def test_the_door_roles_are_the_door_pages_roles() -> None:
    assert PERMISSIONS["door"] == DOOR_ROLES


@both
async def test_a_pass_at_a_date_it_does_not_include_is_not_valid(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    ids, product_id = await setup(app_ctx)
    ana = await make_customer(app_ctx)
    sold = await sell(app_ctx, product_id, ana.id)
    await payments.record_box_office_payment(
        app_ctx, actor=STAFF, reference=sold.reference, method="cash"
    )
    secret = (await rows(app_ctx, select(col(Pass.secret))))[0][0]
    (away,) = await dates_of(app_ctx, ids["away"])
    jazz = (await dates_of(app_ctx, ids["jazz"]))[0]
    clock.advance(timedelta(days=10) - timedelta(hours=1))  # an hour before the first dates
    door = await door_staff(console_for)
    own = await door.get(f"/t/{secret}")
    assert outcome(own.text) == "admissible"  # its own date, open now
    assert f'<option value="{away}"' in own.text  # another hall's door, open now too
    at_away = await door.get(f"/t/{secret}", performance=str(away))
    assert outcome(at_away.text) == "not_valid" and 'id="door-admit"' not in at_away.text
    assert "This date is not included in the pass" in visible_text(at_away.text)
    forced = await door.post(f"/t/{secret}", {"performance": away})
    assert outcome(forced.text) == "not_valid"
    assert await checked_in(app_ctx) == 0
    admitted = await door.post(f"/t/{secret}", {"performance": jazz})
    assert outcome(admitted.text) == "admitted"  # the same code at an included date
