"""The instants a schedule names, whatever its kind."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from controlplane.flows.schedules.cron import Cron, CronError, cron_times

RRULE_MAX_LENGTH = 6500
MIN_INTERVAL = timedelta(seconds=1)


class ScheduleError(ValueError):
    """The schedule cannot be evaluated; the message says why."""


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str  # "cron" | "interval" | "rrule"
    timezone: str = "UTC"
    cron: str = ""
    day_or: bool = True
    interval_seconds: float = 0
    anchor: datetime | None = None
    rrule: str = ""

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"unknown time zone {self.timezone!r}") from None


def validate(spec: ScheduleSpec) -> None:
    """Raise ScheduleError for a schedule that could never be evaluated."""
    spec.zone()
    if spec.kind == "cron":
        try:
            Cron.parse(spec.cron, day_or=spec.day_or)
        except CronError as exc:
            raise ScheduleError(f"cron: {exc}") from None
    elif spec.kind == "interval":
        if timedelta(seconds=spec.interval_seconds) < MIN_INTERVAL:
            raise ScheduleError("interval: at least 1 second")
    elif spec.kind == "rrule":
        if len(spec.rrule) > RRULE_MAX_LENGTH:
            raise ScheduleError(f"rrule: at most {RRULE_MAX_LENGTH} characters")
        try:
            rrule.rrulestr(spec.rrule, dtstart=datetime(2020, 1, 1), forceset=True)
        except (ValueError, TypeError) as exc:
            raise ScheduleError(f"rrule: {exc}") from None
    else:
        raise ScheduleError(f"unknown schedule kind {spec.kind!r}")


def _interval_times(spec: ScheduleSpec, after: datetime, until: datetime) -> Iterator[datetime]:
    """Every anchor + k·interval after `after`, stepping on the wall clock for whole days.

    An interval of whole days keeps its wall-clock time across DST (a daily 09:00 stays 09:00);
    shorter intervals are exact elapsed time.
    """
    zone = spec.zone()
    step = timedelta(seconds=spec.interval_seconds)
    anchor = (spec.anchor or datetime(2020, 1, 1, tzinfo=zone)).astimezone(zone)
    if step % timedelta(days=1) == timedelta(0):
        days = step.days
        skipped = max(0, (after.astimezone(zone).date() - anchor.date()).days // days - 1)
        wall = anchor.replace(tzinfo=None) + timedelta(days=skipped * days)
        while True:
            instant = wall.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)
            if instant > until:
                return
            if instant > after:
                yield instant
            wall += step
    else:
        count = max(0, int((after - anchor) / step))
        instant = anchor + count * step
        while instant <= until:
            if instant > after:
                yield instant.astimezone(zone)
            instant = anchor + (count := count + 1) * step


def _rrule_times(spec: ScheduleSpec, after: datetime, until: datetime) -> Iterator[datetime]:
    zone = spec.zone()
    start = (spec.anchor or datetime(2020, 1, 1, tzinfo=zone)).astimezone(zone).replace(tzinfo=None)
    rules = rrule.rrulestr(spec.rrule, dtstart=start, forceset=True)
    local_after = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    previous: datetime | None = None
    for wall in rules.xafter(local_after, inc=False):
        instant = wall.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)
        if instant > until:
            return
        if instant > after and instant != previous:
            previous = instant
            yield instant


def iter_schedule_times(spec: ScheduleSpec, after: datetime, until: datetime) -> Iterator[datetime]:
    """The instants in (after, until], in order, computed lazily."""
    if spec.kind == "cron":
        return cron_times(Cron.parse(spec.cron, day_or=spec.day_or), spec.zone(), after, until)
    if spec.kind == "interval":
        return _interval_times(spec, after, until)
    if spec.kind == "rrule":
        return _rrule_times(spec, after, until)
    raise ScheduleError(f"unknown schedule kind {spec.kind!r}")


def schedule_times(spec: ScheduleSpec, after: datetime, until: datetime, limit: int) -> list[datetime]:
    """At most `limit` instants in (after, until], in order."""
    return list(itertools.islice(iter_schedule_times(spec, after, until), limit))
