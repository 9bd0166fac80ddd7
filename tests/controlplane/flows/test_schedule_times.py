"""Issue 7, acceptance 1: schedules across DST, checked against croniter and dateutil over a year."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from dateutil import rrule

from controlplane.flows.schedules.timing import ScheduleError, ScheduleSpec, schedule_times, validate

UTC = ZoneInfo("UTC")
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)
DST_ZONES = ["Europe/Berlin", "America/New_York"]


def _croniter_times(expression: str, zone: ZoneInfo, *, day_or: bool = True) -> list[datetime]:
    times = []
    iterator = croniter(expression, YEAR_START.astimezone(zone), day_or=day_or)
    while (instant := iterator.get_next(datetime)) <= YEAR_END:
        times.append(instant.astimezone(UTC))
    return times


def _ours(spec: ScheduleSpec) -> list[datetime]:
    return [t.astimezone(UTC) for t in schedule_times(spec, YEAR_START, YEAR_END, 200_000)]


@pytest.mark.parametrize(
    "expression",
    ["*/15 * * * *", "0 9 * * 1-5", "30 2 * * *", "0 0 1,15 * *", "5 4 * * sun", "0 0 13 * 5", "0 */6 * * *", "@daily"],
)
@pytest.mark.parametrize("day_or", [True, False])
def test_cron_in_utc_matches_croniter_for_a_year(expression: str, day_or: bool) -> None:
    spec = ScheduleSpec(kind="cron", cron=expression, day_or=day_or)
    assert _ours(spec) == _croniter_times(expression, UTC, day_or=day_or)


def _transition_days(zone: ZoneInfo) -> set[datetime]:
    days = set()
    day = datetime(2026, 1, 1, 12)
    while day.year == 2026:
        if day.replace(tzinfo=zone).utcoffset() != (day + timedelta(days=1)).replace(tzinfo=zone).utcoffset():
            days.add((day + timedelta(days=1)).date())
        day += timedelta(days=1)
    return days  # type: ignore[return-value]


# (zone, a daily time inside the spring gap, a daily time inside the autumn repeat)
DST_CASES = [("Europe/Berlin", "30 2 * * *", "30 2 * * *"), ("America/New_York", "30 2 * * *", "30 1 * * *")]


@pytest.mark.parametrize(("zone_name", "gap_cron", "fold_cron"), DST_CASES)
def test_daily_runs_once_every_day_including_dst_changes(zone_name: str, gap_cron: str, fold_cron: str) -> None:
    zone = ZoneInfo(zone_name)
    spring, autumn = sorted(_transition_days(zone))
    for expression in {gap_cron, fold_cron}:
        times = _ours(ScheduleSpec(kind="cron", cron=expression, timezone=zone_name))
        per_day = Counter(t.astimezone(zone).date() for t in times)
        assert len(per_day) == 365
        assert set(per_day.values()) == {1}, "some day ran twice or not at all"
        ordinary = [t for t in times if t.astimezone(zone).date() not in (spring, autumn)]
        independent = _croniter_times(expression, zone)
        assert ordinary == [t for t in independent if t.astimezone(zone).date() not in (spring, autumn)]
    gap_run = next(
        t.astimezone(zone)
        for t in _ours(ScheduleSpec(kind="cron", cron=gap_cron, timezone=zone_name))
        if t.astimezone(zone).date() == spring
    )
    assert (gap_run.hour, gap_run.minute) == (3, 30)  # 02:30 does not exist that day: once, an hour on
    fold_runs = [
        t.astimezone(zone)
        for t in _ours(ScheduleSpec(kind="cron", cron=fold_cron, timezone=zone_name))
        if t.astimezone(zone).date() == autumn
    ]
    assert len(fold_runs) == 1
    summer_offset = datetime(2026, 7, 1, tzinfo=zone).utcoffset()
    assert fold_runs[0].utcoffset() == summer_offset  # the first of the two identical wall times


@pytest.mark.parametrize("zone_name", DST_ZONES)
def test_hourly_cron_never_repeats_an_instant_across_a_year(zone_name: str) -> None:
    times = _ours(ScheduleSpec(kind="cron", cron="0 * * * *", timezone=zone_name))
    assert len(times) == len(set(times))
    assert times == sorted(times)
    assert 8758 <= len(times) <= 8760  # one hour vanishes in spring; the repeated hour runs once


@pytest.mark.parametrize("zone_name", DST_ZONES)
def test_daily_interval_keeps_its_wall_clock_time_like_dateutil(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    anchor = datetime(2025, 12, 31, 9, 0, tzinfo=zone)
    ours = _ours(ScheduleSpec(kind="interval", interval_seconds=86400, anchor=anchor, timezone=zone_name))
    walls = rrule.rrule(rrule.DAILY, dtstart=anchor.replace(tzinfo=None), until=datetime(2027, 1, 1))
    independent = [
        w.replace(tzinfo=zone).astimezone(UTC) for w in walls if YEAR_START < w.replace(tzinfo=zone) <= YEAR_END
    ]
    assert ours == independent
    assert {t.astimezone(zone).hour for t in ours} == {9}


def test_sub_day_interval_is_exact_elapsed_time() -> None:
    anchor = datetime(2026, 3, 29, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    spec = ScheduleSpec(kind="interval", interval_seconds=3600, anchor=anchor, timezone="Europe/Berlin")
    times = schedule_times(spec, anchor, anchor + timedelta(hours=5), 10)
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {timedelta(hours=1)}
    assert len(times) == 5


@pytest.mark.parametrize("zone_name", DST_ZONES)
def test_rrule_matches_dateutil_on_the_wall_clock(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    text = "FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=8;BYMINUTE=15"
    anchor = datetime(2025, 12, 1, tzinfo=zone)
    ours = _ours(ScheduleSpec(kind="rrule", rrule=text, anchor=anchor, timezone=zone_name))
    walls = rrule.rrulestr(text, dtstart=anchor.replace(tzinfo=None))
    independent = [
        w.replace(tzinfo=zone).astimezone(UTC)
        for w in walls.between(datetime(2025, 12, 31), datetime(2027, 1, 2))
        if YEAR_START < w.replace(tzinfo=zone) <= YEAR_END
    ]
    assert ours == independent
    assert len(ours) == 104 or len(ours) == 105


def test_six_field_cron_has_seconds() -> None:
    spec = ScheduleSpec(kind="cron", cron="*/20 0 0 1 1 *")
    times = schedule_times(spec, datetime(2025, 12, 31, 23, 59, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), 10)
    assert [t.second for t in times] == [0, 20, 40]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ScheduleSpec(kind="cron", cron="61 * * * *"), "minute: 61 is outside 0-59"),
        (ScheduleSpec(kind="cron", cron="* * *"), "expected 5 or 6 fields"),
        (ScheduleSpec(kind="cron", cron="*/0 * * * *"), "step of 0"),
        (ScheduleSpec(kind="cron", cron="0 9 * * 5-1"), "runs backwards"),
        (ScheduleSpec(kind="cron", cron="0 9 * * *", timezone="Mars/Olympus"), "unknown time zone"),
        (ScheduleSpec(kind="interval", interval_seconds=0), "at least 1 second"),
        (ScheduleSpec(kind="rrule", rrule="FREQ=SOMETIMES"), "rrule"),
        (ScheduleSpec(kind="rrule", rrule="FREQ=DAILY;" * 2000), "at most"),
        (ScheduleSpec(kind="weekly"), "unknown schedule kind"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(spec: ScheduleSpec, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        validate(spec)
