"""Wall-clock deadlines in a time zone ("by 09:00 Europe/London each day"), right across DST.

A day is not always 86,400 s: on the day clocks go forward it is 23 h, when they go back 25 h.
Deadlines are therefore computed as a local date plus a local time, converted to UTC, never
as the previous deadline plus a fixed number of seconds. A time the clocks skip (01:30 on
the London spring-forward day) falls an hour later, at the instant the clocks jump over it
(02:30 BST); a time that occurs twice (01:30 on the day they go back) is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_time_on(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`, as a UTC instant."""
    # fold=0: the earlier of a repeated time; for a skipped time, the offset before the change.
    return datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone).astimezone(UTC)


def next_local_time(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first instant strictly after `after` when it is `at` in `zone`."""
    day = after.astimezone(zone).date()
    due = local_time_on(day, at, zone)
    # Compared in UTC: aware datetimes sharing a tzinfo compare as wall times, wrong in a repeated hour.
    return due if due > after else local_time_on(day + timedelta(days=1), at, zone)


def local_days_later(deadline: datetime, days: int, at: time, zone: ZoneInfo) -> datetime:
    """`at` in `zone`, `days` local days after the local date of `deadline`."""
    return local_time_on(deadline.astimezone(zone).date() + timedelta(days=days), at, zone)
