"""Cron expressions (5 fields, or 6 with seconds first), evaluated on the wall clock of a time zone.

Daylight-saving time is handled as people expect: a time that does not exist on a
spring-forward day (02:30 in Europe/Berlin) runs once, shifted forward by the gap; a time
that happens twice on a fall-back day runs once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_UTC = ZoneInfo("UTC")

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {name: number for number, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


class CronError(ValueError):
    """The expression is not valid cron; the message says which field and why."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day of month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS)
_DOW = _Field("day of week", 0, 7, _DAYS)


def _value(token: str, field: _Field) -> int:
    if field.names and token in field.names:
        return field.names[token]
    if not token.isdigit():
        raise CronError(f"{field.name}: {token!r} is not a number")
    number = int(token)
    if not field.low <= number <= field.high:
        raise CronError(f"{field.name}: {number} is outside {field.low}-{field.high}")
    return number


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.lower().split(","):
        match = _ITEM.match(item)
        if match is None:
            raise CronError(f"{field.name}: cannot read {item!r}")
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step == 0:
            raise CronError(f"{field.name}: a step of 0 never advances")
        if span == "*":
            low, high = field.low, field.high
        elif "-" in span:
            start, end = span.split("-")
            low, high = _value(start, field), _value(end, field)
            if low > high:
                raise CronError(f"{field.name}: the range {span} runs backwards")
        else:
            low = _value(span, field)
            high = field.high if step_text else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]  # 0 = Sunday
    dom_restricted: bool
    dow_restricted: bool
    day_or: bool = True

    @classmethod
    def parse(cls, expression: str, *, day_or: bool = True) -> Cron:
        text = _ALIASES.get(expression.strip().lower(), expression.strip())
        fields = text.split()
        if len(fields) == 5:
            fields = ["0", *fields]
        if len(fields) != 6:
            raise CronError(f"expected 5 or 6 fields, got {len(fields)}")
        second, minute, hour, dom, month, dow = fields
        days_of_week = frozenset(day % 7 for day in _parse_field(dow, _DOW))
        return cls(
            seconds=_parse_field(second, _SECOND),
            minutes=_parse_field(minute, _MINUTE),
            hours=_parse_field(hour, _HOUR),
            days_of_month=_parse_field(dom, _DOM),
            months=_parse_field(month, _MONTH),
            days_of_week=days_of_week,
            dom_restricted=dom != "*",
            dow_restricted=dow != "*",
            day_or=day_or,
        )

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom_ok = day.day in self.days_of_month
        dow_ok = (day.isoweekday() % 7) in self.days_of_week
        if self.dom_restricted and self.dow_restricted:
            return (dom_ok or dow_ok) if self.day_or else (dom_ok and dow_ok)
        return dom_ok and dow_ok

    def wall_times(self) -> list[time]:
        return [
            time(hour, minute, second)
            for hour in sorted(self.hours)
            for minute in sorted(self.minutes)
            for second in sorted(self.seconds)
        ]


def _resolve(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant of a wall-clock time: shifted past a spring-forward gap, the first of a fall-back fold."""
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the earlier offset
    instant = local.astimezone(_UTC)
    return instant.astimezone(zone)


def cron_times(cron: Cron, zone: ZoneInfo, after: datetime, until: datetime) -> Iterator[datetime]:
    """Every instant in (after, until] that the expression names, in order, each once."""
    walls = cron.wall_times()
    day = after.astimezone(zone).date()
    last_day = until.astimezone(zone).date() + timedelta(days=1)
    previous: datetime | None = None
    while day <= last_day:
        if cron.matches_day(day):
            # A gap can shift 02:30 past 03:00: order the day's instants, and drop collisions.
            for instant in sorted({_resolve(day, wall, zone) for wall in walls}):
                if instant > until:
                    return
                if instant > after and instant != previous:
                    previous = instant
                    yield instant
        day += timedelta(days=1)
