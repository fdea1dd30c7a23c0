"""The door role from the staff form to the door: an admin makes the account (the role listed
with its name, in English and French), its holder signs in through the form and lands on the
door page, the one page the role may see (SPEC §9 "The door")."""

from __future__ import annotations

import re
from html import unescape

import pytest

from booking.context import Context
from tests.console.conftest import PASSWORD, Console, ConsoleFactory, email_of

DOOR_EMAIL = "gate@guichet.example"
WORDS = {
    "en": ("Door staff", "Door check-in"),
    "fr": ("Contrôle d'accès", "Contrôle à l'entrée"),
}


def role_option(text: str) -> str:
    """The words of the staff form's "door" option."""
    found = re.search(r'<option value="door"[^>]*>([^<]*)</option>', text)
    return unescape(found.group(1)) if found else ""


async def admin_in(console_for: ConsoleFactory, language: str) -> Console:
    admin = await console_for("admin")
    if language != "en":
        switched = await admin.post("/console/language", {"language": language, "back": "/"})
        assert switched.status_code == 303
    return admin


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_an_admin_makes_a_door_account_that_signs_in_onto_the_door_page(
    app_ctx: Context, console_for: ConsoleFactory, language: str
) -> None:
    label, heading = WORDS[language]
    admin = await admin_in(console_for, language)
    form = await admin.get("/console/staff")
    assert role_option(form.text) == label
    made = await admin.post(
        "/console/staff",
        {
            "email": DOOR_EMAIL,
            "name": "Gate Keeper",
            "role": "door",
            "language": language,
            "password": PASSWORD,
        },
    )
    assert made.status_code == 303
    listed = await admin.get("/console/staff")
    row = next(line for line in listed.text.splitlines() if DOOR_EMAIL in line)
    assert f"<td>{label}</td>" in unescape(row)

    door = await console_for(login=False)
    signed_in = await door.login(DOOR_EMAIL)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/door"
    page = await door.get("/console/door")
    assert page.status_code == 200 and heading in unescape(page.text)
    assert (await door.get("/console/")).status_code == 403  # why the dashboard is no landing


async def test_a_door_account_asked_for_a_page_gets_it_and_signed_in_goes_to_the_door(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    await console_for("door")  # makes the test account of the door role
    door = await console_for(login=False)
    await door.get("/console/door", code="abc")  # the ticket page's staff link, signed out
    asked = door.last
    assert asked is not None and asked.status_code == 303
    assert asked.headers["location"] == "/console/login?next=%2Fconsole%2Fdoor%3Fcode%3Dabc"
    await door.get("/console/login", next="/console/door?code=abc")
    signed_in = await door.post(
        "/console/login",
        {"email": email_of("door"), "password": PASSWORD, "next": "/console/door?code=abc"},
    )
    assert signed_in.headers["location"] == "/console/door?code=abc"  # the page asked for
    again = await door.get("/console/login")  # signed in already: straight to its page
    assert again.status_code == 303 and again.headers["location"] == "/console/door"


@pytest.mark.parametrize("role", ["admin", "organizer", "box_office"])
async def test_the_desk_roles_still_land_on_the_dashboard(
    console_for: ConsoleFactory, role: str
) -> None:
    desk = await console_for(login=False)
    signed_in = await desk.login(email_of(role))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/"
