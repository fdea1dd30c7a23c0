"""The payment deadline of a hold, and when reminders before it fall due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """Either part may be None; when both are None the hold lasts until the performance."""

    days_after_booking: int | None = None
    days_before_event: int | None = None


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59 on ``day`` in ``tz``, as aware UTC (DST-safe: the zone decides the offset)."""
    return datetime.combine(day, END_OF_DAY, tzinfo=tz).astimezone(ZoneInfo("UTC"))


def compute_deadline(
    rule: DeadlineRule, *, booked_at: datetime, starts_at: datetime, timezone: str
) -> datetime | None:
    """The earliest deadline the rule gives, never after the start; None means "buy only".

    ``days_after_booking`` counts consecutive days and ends at the end of that day in the
    event's timezone; ``days_before_event`` ends at the end of the day N days before the
    performance's local date.
    """
    tz = ZoneInfo(timezone)
    candidates = [starts_at]
    if rule.days_after_booking is not None:
        day = booked_at.astimezone(tz).date() + timedelta(days=rule.days_after_booking)
        candidates.append(end_of_local_day(day, tz))
    if rule.days_before_event is not None:
        day = starts_at.astimezone(tz).date() - timedelta(days=rule.days_before_event)
        candidates.append(end_of_local_day(day, tz))
    deadline = min(candidates)
    return deadline if deadline > booked_at else None


def requested_until(day: date, *, timezone: str) -> datetime:
    """A date a customer typed ("until the 24th") means the end of that day at the venue."""
    return end_of_local_day(day, ZoneInfo(timezone))


def proposed_deadline(
    deadline: datetime | None,
    *,
    starts_at: datetime,
    now: datetime,
    extension_days: int,
    wanted: datetime | None,
) -> datetime:
    """What the customer asked for, else the deadline plus the event's N days; never past start.

    For a hold already overdue at ``now`` the N days count from now: the old deadline plus N
    days may itself have passed, and approving would then fail with ``date_in_past``.
    """
    base = max(deadline or starts_at, now)
    return min(wanted or base + timedelta(days=extension_days), starts_at)


def check_new_deadline(until: datetime, *, now: datetime, starts_at: datetime) -> str | None:
    """The error code that refuses ``until`` as a new deadline, or None when it is fine."""
    if until <= now:
        return "date_in_past"
    if until > starts_at:
        return "date_after_performance"
    return None


def parse_offsets(text: str) -> tuple[int, ...]:
    """'4320,1440' -> (4320, 1440): reminder offsets in minutes, largest first."""
    values = {int(part) for part in text.replace(" ", "").split(",") if part}
    if any(v <= 0 for v in values):
        raise ValueError("reminder offsets must be positive minutes")
    return tuple(sorted(values, reverse=True))


def due_reminder(
    offsets: Sequence[int], *, deadline: datetime, deadline_set_at: datetime, now: datetime
) -> int | None:
    """The reminder offset to send now, if any.

    A reminder is due once its moment (deadline - offset) has come, the deadline has not, and
    the moment came after the deadline was set: a hold made 10 hours before its deadline gets
    no "3 days left" message. When several are due at once (a worker was down), only the
    closest one is sent.
    """
    if now >= deadline:
        return None
    due = [
        o
        for o in offsets
        if deadline - timedelta(minutes=o) <= now
        and deadline - timedelta(minutes=o) > deadline_set_at
    ]
    return min(due) if due else None
