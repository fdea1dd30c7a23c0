"""The console in French: every message translated, placeholders kept, pages rendered."""

from __future__ import annotations

import re

from booking.context import Context
from booking.errors import MESSAGES
from console.web.render import _console_catalog
from tests.builders import make_catalog, make_customer, make_held_booking
from tests.console.conftest import ConsoleFactory
from tests.console.messages import console_messages

PLACEHOLDER = re.compile(r"\{(\w+)\}")
CONSOLE_ERRORS = (
    "name_taken",
    "changed_meanwhile",
    "last_admin",
    "too_many_logins",
    "bad_seat_file",
    "unknown_item",
)


CATALOGUE = _console_catalog("fr")  # console.po alone: some words are the same in French


def test_every_console_message_has_french_with_the_same_placeholders() -> None:
    wanted = console_messages() | {MESSAGES[code] for code in CONSOLE_ERRORS}
    assert len(wanted) > 400  # the extraction still finds the templates' messages
    missing = sorted(m for m in wanted if not CATALOGUE.get(m))
    assert not missing, f"no French in booking/locales/fr/LC_MESSAGES/console.po for {missing}"
    broken = sorted(
        m for m in wanted if set(PLACEHOLDER.findall(CATALOGUE[m])) != set(PLACEHOLDER.findall(m))
    )
    assert not broken, f"placeholders differ in French for {broken}"


async def test_a_staff_member_working_in_french_sees_french_pages_and_errors(
    app_ctx: Context, console_for: ConsoleFactory
) -> None:
    cat = await make_catalog(app_ctx)
    booking = await make_held_booking(app_ctx, cat, await make_customer(app_ctx))
    console = await console_for("organizer")
    await console.post("/console/language", {"language": "fr"})
    page = await console.get(f"/console/bookings/{booking.reference}")
    assert "Encaisser" in page.text and "Donner plus de temps" in page.text
    assert "Retenue" in page.text and "lun. 23 nov. 2026" in page.text
    assert "90,00" in page.text  # money the French way
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    late = await console.post(
        f"/console/bookings/{booking.reference}/extend",
        {"mode": "until", "until": "2030-01-01", "version": version},
    )
    assert "Cette date est après la représentation." in late.text
    releases = await console.get("/console/releases")
    assert "Écran de libération" in releases.text
