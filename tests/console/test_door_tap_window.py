"""Which performance a ticket's page answers for at the door: the door window (3 hours before
the start until the end of its local day, at least 3 hours after the start), and a code whose
door is shut (booking.queries.door, "the current performance")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.clock import FrozenClock
from booking.context import Context
from booking.queries.door import DoorPerformance, current_of, doors_open
from tests.console.conftest import ConsoleFactory
from tests.console.test_door_tap import app, door_staff, outcome, paid

__all__ = ["app"]
ZURICH = "Europe/Zurich"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_door_opens_three_hours_before_and_closes_at_local_midnight() -> None:
    start = at("2026-12-03 19:00")  # 20:00 in Zurich
    assert not doors_open(start, ZURICH, at("2026-12-03 15:59"))
    assert doors_open(start, ZURICH, at("2026-12-03 16:00"))
    assert doors_open(start, ZURICH, at("2026-12-03 22:59"))  # 23:59 in Zurich
    assert not doors_open(start, ZURICH, at("2026-12-03 23:00"))  # midnight in Zurich


def test_a_late_show_keeps_its_door_open_three_hours_past_the_start() -> None:
    start = at("2026-12-03 22:00")  # 23:00 in Zurich: midnight is an hour later
    assert doors_open(start, ZURICH, at("2026-12-04 00:30"))
    assert not doors_open(start, ZURICH, at("2026-12-04 01:00"))


def test_of_two_open_doors_the_later_show_is_current() -> None:
    matinee = DoorPerformance(1, "Matinee", at("2026-12-03 13:00"), ZURICH)
    evening = DoorPerformance(2, "Evening", at("2026-12-03 19:00"), ZURICH)
    assert current_of([matinee, evening], at("2026-12-03 14:00")) == matinee
    assert current_of([matinee, evening], at("2026-12-03 17:00")) == evening
    assert current_of([matinee, evening], at("2026-12-03 09:00")) is None


async def test_a_code_whose_door_is_shut_is_answered_only_for_a_chosen_date(
    app_ctx: Context, console_for: ConsoleFactory, clock: FrozenClock
) -> None:
    performance, (secret, _) = await paid(app_ctx, starts_in=timedelta(hours=9))
    door = await door_staff(console_for)
    page = await door.get(f"/t/{secret}")
    assert outcome(page.text) == "" and 'id="door-admit"' not in page.text
    assert 'id="door-none"' in page.text and f'<option value="{performance}"' in page.text
    chosen = await door.get(f"/t/{secret}", performance=str(performance))
    assert outcome(chosen.text) == "admissible" and 'id="door-admit"' in chosen.text
    unchosen = await door.post(f"/t/{secret}", {"performance": "999999"})
    assert outcome(unchosen.text) == ""  # not a date the page offers: nothing admitted
    clock.advance(timedelta(hours=3, minutes=30))
    assert 'id="door-none"' in (await door.get(f"/t/{secret}")).text  # still shut
    clock.advance(timedelta(hours=3, minutes=30))  # two hours before the start: open
    opened = await door.get(f"/t/{secret}")
    assert outcome(opened.text) == "admissible"
