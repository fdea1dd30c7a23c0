"""The payment deadline of a hold, and when reminders before it fall due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.rules import states

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


def extended_by(
    deadline: datetime | None, *, days: int, now: datetime, starts_at: datetime, timezone: str
) -> datetime:
    """N more days: the end of the Nth local day after the deadline, never past the start.

    Counted from ``now`` when the hold is already overdue (N days after a deadline long gone
    could itself be past), and always to 23:59:59 at the venue like every other deadline, so
    an organizer acting at 07:04 does not give "until Sat 5 Dec 07:04", and a DST change in
    between does not give 00:59:59 (adding 7 x 24 hours would).
    """
    tz = ZoneInfo(timezone)
    base = max(deadline, now) if deadline is not None else now
    day = base.astimezone(tz).date() + timedelta(days=days)
    return min(end_of_local_day(day, tz), starts_at)


def proposed_deadline(
    deadline: datetime | None,
    *,
    starts_at: datetime,
    now: datetime,
    extension_days: int,
    wanted: datetime | None,
    timezone: str,
) -> datetime:
    """What the customer asked for, else the deadline plus the event's N days; never past start.

    A date asked for that is no longer later than the deadline (an organizer gave more time
    meanwhile) is not proposed: approving it would shorten the hold.
    """
    if wanted is not None and wanted > now and (deadline is None or wanted > deadline):
        return min(wanted, starts_at)
    return extended_by(
        deadline, days=extension_days, now=now, starts_at=starts_at, timezone=timezone
    )


def check_new_deadline(until: datetime, *, now: datetime, starts_at: datetime) -> str | None:
    """The error code that refuses ``until`` as a new deadline, or None when it is fine."""
    if until <= now:
        return "date_in_past"
    if until > starts_at:
        return "date_after_performance"
    return None


def check_extension(
    until: datetime, *, deadline: datetime | None, now: datetime, starts_at: datetime
) -> str | None:
    """``check_new_deadline``, and an extension never moves a deadline earlier (or keeps it).

    ``deadline_at_performance`` when there is no later time to give at all.
    """
    code = check_new_deadline(until, now=now, starts_at=starts_at)
    if code is None and deadline is not None and until <= deadline:
        return "deadline_at_performance" if deadline >= starts_at else "deadline_not_later"
    return code


# A customer reads the same refusal in their words ("your current deadline").
CUSTOMER_CODES = {"deadline_not_later": "date_not_later"}


def check_request(
    until: datetime, *, deadline: datetime | None, now: datetime, starts_at: datetime
) -> str | None:
    """``check_extension`` for a date a customer asks for."""
    code = check_extension(until, deadline=deadline, now=now, starts_at=starts_at)
    return CUSTOMER_CODES.get(code, code) if code else None


def is_due(status: str, deadline: datetime | None, *, now: datetime) -> bool:
    """A hold "release now" may take without asking again: overdue, or its deadline has come
    (the sweep has not run yet). Any other open hold still gives its customer time to pay."""
    return status == states.OVERDUE or (deadline is not None and deadline <= now)


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


def request_days(
    deadline: datetime | None, *, now: datetime, starts_at: datetime, timezone: str
) -> tuple[date, date] | None:
    """The first and the last day a customer may ask to pay by, or None when no day can be
    asked for at all (the deadline is the performance, or the day before it).

    A day means the end of that day at the venue (``requested_until``), and ``check_request``
    takes it only when that moment is later than the deadline and than now, and not after the
    start: the same bounds, worked out once so the bot offers only days it will accept.
    """
    tz = ZoneInfo(timezone)
    base = max(deadline, now) if deadline is not None else now
    first = base.astimezone(tz).date()
    if end_of_local_day(first, tz) <= base:  # a deadline at 23:59:59 leaves that day no time
        first += timedelta(days=1)
    last = starts_at.astimezone(tz).date()
    if end_of_local_day(last, tz) > starts_at:  # the show's own day ends after it started
        last -= timedelta(days=1)
    return (first, last) if first <= last else None
