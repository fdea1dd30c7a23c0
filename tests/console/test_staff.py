"""Staff accounts, managed by admins."""

from __future__ import annotations

from booking.context import Context
from booking.services import staff_admin
from tests.console.conftest import ConsoleFactory, email_of


async def account(ctx: Context, role: str) -> staff_admin.StaffAccount:
    return next(a for a in await staff_admin.list_accounts(ctx) if a.email == email_of(role))


async def test_an_admin_creates_an_account_that_can_sign_in(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    admin = await console_for("admin")
    await admin.get("/console/staff")
    fields = {
        "email": "new.desk@guichet.example",
        "name": "New Desk",
        "role": "box_office",
        "language": "fr",
        "password": "short",
    }
    weak = await admin.post("/console/staff", fields)
    assert weak.status_code == 400 and "At least 10 characters." in weak.text
    assert 'value="New Desk"' in weak.text and 'value="short"' not in weak.text
    made = await admin.post("/console/staff", {**fields, "password": "long enough pass"})
    assert made.status_code == 303
    twice = await admin.post("/console/staff", {**fields, "password": "long enough pass"})
    assert twice.status_code == 400 and "An account with this email already exists." in twice.text
    desk = await console_for(login=False)
    assert (await desk.login("new.desk@guichet.example", "long enough pass")).status_code == 303
    home = await desk.get("/console/")
    assert "Tableau de bord" in home.text and "Billetterie" in home.text


async def test_the_last_admin_stays_and_nobody_switches_themselves_off(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    admin = await console_for("admin")
    me = await account(app_ctx, "admin")
    await admin.get(f"/console/staff/{me.id}")
    demote = await admin.post(
        f"/console/staff/{me.id}",
        {
            "version": me.version,
            "name": "Me",
            "role": "organizer",
            "language": "en",
            "active": "on",
        },
    )
    assert demote.status_code == 400
    assert "At least one active administrator must remain." in demote.text
    off = await admin.post(
        f"/console/staff/{me.id}",
        {"version": me.version, "name": "Me", "role": "admin", "language": "en"},
    )
    assert off.status_code == 400 and "You cannot switch off your own account." in off.text
    assert (await account(app_ctx, "admin")).role == "admin"


async def test_a_change_made_meanwhile_is_detected_and_a_promotion_works(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    admin = await console_for("admin")
    target = await account(app_ctx, "box_office")
    await admin.get(f"/console/staff/{target.id}")
    form = {
        "version": target.version,
        "name": "Promoted",
        "role": "organizer",
        "language": "en",
        "active": "on",
    }
    assert (await admin.post(f"/console/staff/{target.id}", form)).status_code == 303
    stale = await admin.post(f"/console/staff/{target.id}", {**form, "name": "Again"})
    assert stale.status_code == 400 and "Someone changed this meanwhile" in stale.text
    assert (await account(app_ctx, "box_office")).role == "organizer"


async def test_a_new_password_ends_the_other_sessions_but_not_the_admins_own(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    organizer = await console_for("organizer")
    admin = await console_for("admin")
    target = await account(app_ctx, "organizer")
    me = await account(app_ctx, "admin")
    await admin.get(f"/console/staff/{target.id}")
    differ = await admin.post(
        f"/console/staff/{target.id}/password", {"password": "one long password", "repeat": "x"}
    )
    assert differ.status_code == 400 and "The two passwords differ." in differ.text
    done = await admin.post(
        f"/console/staff/{target.id}/password",
        {"password": "one long password", "repeat": "one long password"},
    )
    assert done.status_code == 303
    assert (await organizer.get("/console/")).status_code == 303  # signed out
    own = await admin.post(
        f"/console/staff/{me.id}/password",
        {"password": "my own new password", "repeat": "my own new password"},
    )
    assert own.status_code == 303
    assert (await admin.get("/console/")).status_code == 200  # still signed in
