"""The payment deadline of a hold and the reminders before it (pure rules, SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.rules.deadlines import (
    DeadlineRule,
    check_new_deadline,
    compute_deadline,
    due_reminder,
    parse_offsets,
    requested_until,
)

ZURICH = ZoneInfo("Europe/Zurich")
DEFAULT_OFFSETS = (4320, 1440)  # 3 days, 24 hours


def local(*args: int, tz: ZoneInfo = ZURICH) -> datetime:
    return datetime(*args, tzinfo=tz)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def deadline_after(
    days: int,
    booked_at: datetime,
    starts_at: datetime | None = None,
    timezone: str = "Europe/Zurich",
) -> datetime | None:
    return compute_deadline(
        DeadlineRule(days_after_booking=days),
        booked_at=booked_at,
        starts_at=starts_at or booked_at + timedelta(days=90),
        timezone=timezone,
    )


# --- days after booking ---------------------------------------------------------------------


def test_days_after_booking_ends_at_the_last_second_of_the_local_day():
    deadline = deadline_after(7, booked_at=utc(2026, 11, 23, 9, 0))

    assert deadline == local(2026, 11, 30, 23, 59, 59)
    assert deadline == utc(2026, 11, 30, 22, 59, 59)  # CET is UTC+1
    assert deadline.utcoffset() == timedelta(0)  # stored aware UTC


def test_zero_days_after_booking_means_the_end_of_today():
    assert deadline_after(0, booked_at=utc(2026, 11, 23, 9, 0)) == local(2026, 11, 23, 23, 59, 59)


def test_deadline_on_the_spring_forward_day_uses_summer_time():
    # Europe/Zurich moves from CET (+1) to CEST (+2) on 2027-03-28.
    deadline = deadline_after(3, booked_at=local(2027, 3, 25, 10, 0))

    assert deadline == utc(2027, 3, 28, 21, 59, 59)
    assert deadline.astimezone(ZURICH).time() == time(23, 59, 59)
    assert deadline.astimezone(ZURICH).utcoffset() == timedelta(hours=2)


def test_deadline_the_day_before_spring_forward_still_uses_winter_time():
    assert deadline_after(2, booked_at=local(2027, 3, 25, 10, 0)) == utc(2027, 3, 27, 22, 59, 59)


def test_deadline_on_the_fall_back_day_uses_winter_time():
    # Europe/Zurich moves from CEST (+2) back to CET (+1) on 2026-10-25.
    deadline = deadline_after(5, booked_at=local(2026, 10, 20, 12, 0))

    assert deadline == utc(2026, 10, 25, 22, 59, 59)
    assert deadline.astimezone(ZURICH).time() == time(23, 59, 59)
    assert deadline.astimezone(ZURICH).utcoffset() == timedelta(hours=1)


def test_deadline_the_day_before_fall_back_still_uses_summer_time():
    assert deadline_after(4, booked_at=local(2026, 10, 20, 12, 0)) == utc(2026, 10, 24, 21, 59, 59)


def test_days_are_counted_in_the_venue_timezone_late_in_the_local_evening():
    # 23:30 in Zurich is still the 23rd locally and in UTC (22:30Z): one day -> the 24th.
    assert deadline_after(1, booked_at=local(2026, 11, 23, 23, 30)) == local(
        2026, 11, 24, 23, 59, 59
    )


def test_days_are_counted_from_the_local_date_when_utc_is_still_the_day_before():
    # 00:30 on the 24th in Zurich is 23:30Z on the 23rd: the local date (24th) counts.
    booked_at = local(2026, 11, 24, 0, 30)
    assert booked_at.astimezone(UTC).date() == date(2026, 11, 23)

    assert deadline_after(1, booked_at=booked_at) == local(2026, 11, 25, 23, 59, 59)


def test_days_are_counted_from_the_local_date_when_utc_is_already_the_next_day():
    new_york = ZoneInfo("America/New_York")
    booked_at = local(2026, 11, 23, 23, 30, tz=new_york)  # 04:30Z on the 24th
    assert booked_at.astimezone(UTC).date() == date(2026, 11, 24)

    deadline = deadline_after(1, booked_at=booked_at, timezone="America/New_York")

    assert deadline == local(2026, 11, 24, 23, 59, 59, tz=new_york)


# --- days before the event, the earliest rule, the performance cap ---------------------------


def test_days_before_event_ends_at_the_end_of_that_local_day():
    deadline = compute_deadline(
        DeadlineRule(days_before_event=2),
        booked_at=utc(2026, 11, 23, 9, 0),
        starts_at=local(2026, 12, 20, 20, 0),
        timezone="Europe/Zurich",
    )

    assert deadline == local(2026, 12, 18, 23, 59, 59)


def test_days_before_event_counts_from_the_local_date_of_an_early_morning_performance():
    # 00:30 on the 20th in Zurich is the 19th in UTC; two days before is the 18th locally.
    deadline = compute_deadline(
        DeadlineRule(days_before_event=2),
        booked_at=utc(2026, 11, 23, 9, 0),
        starts_at=local(2026, 12, 20, 0, 30),
        timezone="Europe/Zurich",
    )

    assert deadline == local(2026, 12, 18, 23, 59, 59)


@pytest.mark.parametrize(
    ("after", "before", "expected"),
    [
        (3, 10, local(2026, 11, 26, 23, 59, 59)),  # days after booking comes first
        (20, 10, local(2026, 12, 10, 23, 59, 59)),  # days before the event comes first
    ],
)
def test_the_earliest_of_both_rules_wins(after, before, expected):
    deadline = compute_deadline(
        DeadlineRule(days_after_booking=after, days_before_event=before),
        booked_at=utc(2026, 11, 23, 9, 0),
        starts_at=local(2026, 12, 20, 20, 0),
        timezone="Europe/Zurich",
    )

    assert deadline == expected


def test_deadline_is_never_later_than_the_performance_start():
    starts_at = local(2026, 11, 25, 19, 30)

    assert deadline_after(7, booked_at=utc(2026, 11, 23, 9, 0), starts_at=starts_at) == starts_at


def test_zero_days_before_event_is_capped_by_the_start_of_that_day():
    starts_at = local(2026, 12, 20, 19, 30)
    deadline = compute_deadline(
        DeadlineRule(days_before_event=0),
        booked_at=utc(2026, 11, 23, 9, 0),
        starts_at=starts_at,
        timezone="Europe/Zurich",
    )

    assert deadline == starts_at


def test_without_any_rule_the_hold_lasts_until_the_performance():
    starts_at = local(2026, 12, 20, 19, 30)
    deadline = compute_deadline(
        DeadlineRule(),
        booked_at=utc(2026, 11, 23, 9, 0),
        starts_at=starts_at,
        timezone="Europe/Zurich",
    )

    assert deadline == starts_at


def test_a_deadline_already_passed_means_buy_only():
    deadline = compute_deadline(
        DeadlineRule(days_before_event=10),
        booked_at=utc(2026, 11, 23, 9, 0),
        starts_at=local(2026, 11, 28, 20, 0),
        timezone="Europe/Zurich",
    )

    assert deadline is None


def test_a_booking_after_the_start_can_only_be_bought():
    deadline = deadline_after(
        7, booked_at=utc(2026, 11, 23, 9, 0), starts_at=utc(2026, 11, 23, 8, 0)
    )

    assert deadline is None


def test_requested_date_means_the_end_of_that_day_at_the_venue():
    assert requested_until(date(2027, 3, 28), timezone="Europe/Zurich") == utc(
        2027, 3, 28, 21, 59, 59
    )
    assert requested_until(date(2026, 12, 2), timezone="Europe/Zurich") == utc(
        2026, 12, 2, 22, 59, 59
    )


# --- reminders -------------------------------------------------------------------------------

DEADLINE = utc(2026, 11, 30, 22, 59, 59)
SET_AT = utc(2026, 11, 23, 9, 0)


def reminder_at(now: datetime, *, set_at: datetime = SET_AT, deadline: datetime = DEADLINE):
    return due_reminder(DEFAULT_OFFSETS, deadline=deadline, deadline_set_at=set_at, now=now)


def test_no_reminder_is_due_long_before_the_deadline():
    assert reminder_at(DEADLINE - timedelta(days=4)) is None
    assert reminder_at(DEADLINE - timedelta(days=3, seconds=1)) is None


def test_three_day_reminder_is_due_three_days_before():
    assert reminder_at(DEADLINE - timedelta(days=3)) == 4320
    assert reminder_at(DEADLINE - timedelta(days=2)) == 4320


def test_twenty_four_hour_reminder_is_due_a_day_before():
    assert reminder_at(DEADLINE - timedelta(hours=24)) == 1440
    assert reminder_at(DEADLINE - timedelta(minutes=1)) == 1440


def test_no_reminder_once_the_deadline_has_come():
    assert reminder_at(DEADLINE) is None
    assert reminder_at(DEADLINE + timedelta(hours=1)) is None


def test_hold_made_ten_hours_before_its_deadline_gets_no_three_day_reminder():
    set_at = DEADLINE - timedelta(hours=10)

    for hours_left in (10, 9, 5, 1):
        assert reminder_at(DEADLINE - timedelta(hours=hours_left), set_at=set_at) is None


def test_hold_made_two_days_before_gets_only_the_twenty_four_hour_reminder():
    set_at = DEADLINE - timedelta(days=2)

    assert reminder_at(DEADLINE - timedelta(days=2) + timedelta(minutes=1), set_at=set_at) is None
    assert reminder_at(DEADLINE - timedelta(hours=23), set_at=set_at) == 1440


def test_after_a_worker_outage_only_the_closest_reminder_is_due():
    # Nobody ran between 4 days and 20 hours before: the 3-day one is skipped, not sent late.
    assert reminder_at(DEADLINE - timedelta(hours=20)) == 1440


def test_an_extension_re_arms_the_reminders_before_the_new_deadline():
    extended_at = DEADLINE - timedelta(hours=12)
    new_deadline = DEADLINE + timedelta(days=7)

    assert reminder_at(extended_at, set_at=extended_at, deadline=new_deadline) is None
    assert (
        reminder_at(new_deadline - timedelta(days=3), set_at=extended_at, deadline=new_deadline)
        == 4320
    )
    assert (
        reminder_at(new_deadline - timedelta(hours=2), set_at=extended_at, deadline=new_deadline)
        == 1440
    )


def test_no_offsets_means_no_reminders():
    assert (
        due_reminder(
            (), deadline=DEADLINE, deadline_set_at=SET_AT, now=DEADLINE - timedelta(hours=1)
        )
        is None
    )


# --- new deadlines and offsets ---------------------------------------------------------------

NOW = utc(2026, 11, 23, 9, 0)
START = utc(2026, 12, 20, 19, 0)


@pytest.mark.parametrize(
    ("until", "code"),
    [
        (NOW + timedelta(days=3), None),
        (START, None),  # up to the start itself
        (NOW, "date_in_past"),
        (NOW - timedelta(days=1), "date_in_past"),
        (START + timedelta(seconds=1), "date_after_performance"),
    ],
)
def test_check_new_deadline(until, code):
    assert check_new_deadline(until, now=NOW, starts_at=START) == code


def test_parse_offsets_reads_minutes_largest_first_without_duplicates():
    assert parse_offsets("4320,1440") == (4320, 1440)
    assert parse_offsets(" 1440 , 4320, 60,1440 ") == (4320, 1440, 60)
    assert parse_offsets("4320,,1440,") == (4320, 1440)


@pytest.mark.parametrize("text", ["0", "1440,-60", "3 days", "1.5", "4320;1440"])
def test_parse_offsets_refuses_non_positive_or_non_numeric_values(text):
    with pytest.raises(ValueError):
        parse_offsets(text)
