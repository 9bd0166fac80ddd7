"""Freshness SLAs keep their local time of day across daylight-saving changes.

A "completed run by 09:00 Europe/London" deadline is 09:00 GMT in winter and 09:00 BST
(08:00 UTC) in summer; stepping from one deadline to the next by 86,400 s would drift by
an hour on the change days (2026-03-29 and 2026-10-25 in London, 2026-03-08 and
2026-11-01 in New York).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from controlplane.automations.evaluation import deadlines_evaluate
from controlplane.automations.models import DeploymentSla, TriggerBucket
from controlplane.automations.slas import next_due
from controlplane.automations.triggers import parse_trigger
from controlplane.core.errors import ValidationFailed
from tests.controlplane.automations.test_slas import _sla
from tests.support.runs import make_deployment
from tests.support.tenants import World

LONDON, NEW_YORK = "Europe/London", "America/New_York"


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _sla_at(at: str, zone: str) -> DeploymentSla:
    return DeploymentSla(time_of_day=time.fromisoformat(at), timezone=zone)


@pytest.mark.parametrize(
    ("zone", "at", "after", "expected"),
    [
        # London, clocks forward on 2026-03-29 at 01:00 UTC: 09:00 is 09:00 UTC before, 08:00 UTC after.
        (LONDON, "09:00", _utc(2026, 3, 28, 9, 30), _utc(2026, 3, 29, 8, 0)),
        (LONDON, "09:00", _utc(2026, 3, 28, 8, 30), _utc(2026, 3, 28, 9, 0)),
        # London, clocks back on 2026-10-25 at 01:00 UTC.
        (LONDON, "09:00", _utc(2026, 10, 24, 8, 30), _utc(2026, 10, 25, 9, 0)),
        # New York, forward on 2026-03-08, back on 2026-11-01.
        (NEW_YORK, "06:30", _utc(2026, 3, 7, 12, 0), _utc(2026, 3, 8, 10, 30)),
        (NEW_YORK, "06:30", _utc(2026, 10, 31, 12, 0), _utc(2026, 11, 1, 11, 30)),
        # A time the clocks skip (01:30 on the forward day) falls when they jump over it: 02:30 BST.
        (LONDON, "01:30", _utc(2026, 3, 28, 23, 0), _utc(2026, 3, 29, 1, 30)),
        # A time that occurs twice: its first occurrence (01:30 BST) ...
        (LONDON, "01:30", _utc(2026, 10, 25, 0, 10), _utc(2026, 10, 25, 0, 30)),
        # ... and once that has passed (01:10 GMT, the second 01:10), tomorrow's, not the past one.
        (LONDON, "01:30", _utc(2026, 10, 25, 1, 10), _utc(2026, 10, 26, 1, 30)),
    ],
)
def test_next_due_is_the_local_time_of_day_on_dst_change_days(
    zone: str, at: str, after: datetime, expected: datetime
) -> None:
    assert next_due(_sla_at(at, zone), after) == expected


def _local(instant: datetime | None, zone: str) -> tuple[int, int]:
    assert instant is not None
    local = instant.astimezone(ZoneInfo(zone))
    return local.hour, local.minute


@pytest.mark.parametrize(
    ("zone", "at", "first_deadline", "next_deadlines"),
    [
        (LONDON, "09:00", _utc(2026, 3, 28, 9, 0), [_utc(2026, 3, 29, 8, 0), _utc(2026, 3, 30, 8, 0)]),
        (LONDON, "09:00", _utc(2026, 10, 24, 8, 0), [_utc(2026, 10, 25, 9, 0), _utc(2026, 10, 26, 9, 0)]),
        (NEW_YORK, "06:30", _utc(2026, 3, 7, 11, 30), [_utc(2026, 3, 8, 10, 30), _utc(2026, 3, 9, 10, 30)]),
        (NEW_YORK, "06:30", _utc(2026, 10, 31, 10, 30), [_utc(2026, 11, 1, 11, 30), _utc(2026, 11, 2, 11, 30)]),
    ],
)
def test_freshness_deadlines_keep_the_local_time_across_a_dst_change(
    developer: Any,
    world: World,
    zone: str,
    at: str,
    first_deadline: datetime,
    next_deadlines: list[datetime],
) -> None:
    watched, target = make_deployment(world, name="watched"), make_deployment(world, name="target")
    sla = _sla(developer, watched, target, kind="freshness", time_of_day=at, timezone=zone)
    bucket = TriggerBucket.dangerously_unscoped.get(automation__sla_id=sla["id"])
    # The window as it stood the day before the change (the SLA was saved "now", in another season).
    bucket.deadline, bucket.window_start = first_deadline, first_deadline - timedelta(days=1)
    bucket.save(update_fields=["deadline", "window_start"])

    deadline = first_deadline
    for expected in next_deadlines:
        assert deadlines_evaluate(now=deadline + timedelta(seconds=1)) == 1  # no completed run that day
        bucket.refresh_from_db()
        assert bucket.window_start == deadline
        assert bucket.deadline == expected
        assert _local(bucket.deadline, zone) == _local(first_deadline, zone)
        deadline = expected


def test_a_new_freshness_window_starts_at_the_previous_local_time(developer: Any, world: World) -> None:
    watched, target = make_deployment(world, name="watched"), make_deployment(world, name="target")
    sla = _sla(developer, watched, target, kind="freshness", time_of_day="09:00", timezone=LONDON)
    bucket = TriggerBucket.dangerously_unscoped.get(automation__sla_id=sla["id"])
    assert _local(bucket.window_start, LONDON) == _local(bucket.deadline, LONDON) == (9, 0)
    assert bucket.deadline is not None
    assert bucket.window_start is not None
    assert timedelta(hours=23) <= bucket.deadline - bucket.window_start <= timedelta(hours=25)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"time_of_day": "09:00", "timezone": LONDON}, "time_of_day"),  # without fixed_windows
        ({"fixed_windows": True, "time_of_day": "09:00", "timezone": LONDON, "within": 3600}, "within"),
        ({"fixed_windows": True, "time_of_day": "9 o'clock", "timezone": LONDON}, "time_of_day"),
        ({"fixed_windows": True, "time_of_day": "09:00", "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_daily_windows_are_validated(extra: dict[str, Any], named: str) -> None:
    doc = {"type": "event", "posture": "proactive", "expect": ["tether.flow-run.Completed"], "within": 86400, **extra}
    with pytest.raises(ValidationFailed) as raised:
        parse_trigger(doc)
    assert f"trigger.{named}" in raised.value.details
