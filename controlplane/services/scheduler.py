"""The scheduler: keeps a horizon of future runs for every active schedule.

Safe on several hosts at once: each pass takes schedules in batches with
`SELECT … FOR UPDATE SKIP LOCKED`, and a unique constraint on (schedule, start time) backs it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlplane.core.bulk import copy_insert
from controlplane.events.models import Event
from controlplane.events.services import event_build, resource
from controlplane.flows.models import DeploymentSchedule
from controlplane.flows.schedules.timing import ScheduleError, ScheduleSpec, iter_schedule_times
from controlplane.runs.models import FlowRun, FlowRunState
from controlplane.runs.naming import run_name
from controlplane.runs.states import StateType

BATCH_SIZE = 500


@dataclass(frozen=True)
class Horizon:
    """At least `min_runs` and `min_time` ahead, never more than `max_runs` or `max_time`."""

    min_runs: int
    max_runs: int
    min_time: timedelta
    max_time: timedelta

    @classmethod
    def from_settings(cls) -> Horizon:
        return cls(
            min_runs=settings.TETHER_SCHEDULER_MIN_RUNS,
            max_runs=settings.TETHER_SCHEDULER_MAX_RUNS,
            min_time=timedelta(seconds=settings.TETHER_SCHEDULER_MIN_SECONDS),
            max_time=timedelta(seconds=settings.TETHER_SCHEDULER_MAX_SECONDS),
        )

    def slots(self, spec: ScheduleSpec, now: datetime) -> list[datetime]:
        chosen: list[datetime] = []
        for instant in iter_schedule_times(spec, now, now + self.max_time):
            if len(chosen) >= self.max_runs or (len(chosen) >= self.min_runs and instant > now + self.min_time):
                break
            chosen.append(instant)
        return chosen


def spec_of(schedule: DeploymentSchedule) -> ScheduleSpec:
    return ScheduleSpec(
        kind=schedule.kind,
        timezone=schedule.timezone,
        cron=schedule.cron,
        day_or=schedule.day_or,
        interval_seconds=schedule.interval_seconds,
        anchor=schedule.anchor,
        rrule=schedule.rrule,
    )


def _new_run(schedule: DeploymentSchedule, start: datetime, now: datetime) -> dict[str, Any]:
    deployment = schedule.deployment
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "workspace_id": schedule.workspace_id,
        "flow_id": deployment.flow_id,
        "deployment_id": deployment.id,
        "schedule_id": schedule.id,
        "auto_scheduled": True,
        "name": run_name(),
        "parameters": {**deployment.parameters, **schedule.parameters},
        "tags": sorted({*deployment.tags, "auto-scheduled"}),
        "work_pool_id": deployment.work_pool_id,
        "work_queue_id": deployment.work_queue_id,
        "job_variables": deployment.job_variables,
        "max_retries": deployment.retries,
        "retry_delay_seconds": deployment.retry_delay_seconds,
        "expected_start_time": start,
        "next_scheduled_start_time": start,
        "state_type": StateType.SCHEDULED,
        "state_name": "Scheduled",
        "state_timestamp": now,
        "state_details": {"scheduled_time": start.isoformat()},
    }


def _schedule_batch(schedules: list[DeploymentSchedule], horizon: Horizon, now: datetime) -> int:
    taken = set(
        FlowRun.dangerously_unscoped.filter(
            schedule__in=schedules, auto_scheduled=True, expected_start_time__gt=now
        ).values_list("schedule_id", "expected_start_time")
    )
    runs: list[dict[str, Any]] = []
    for schedule in schedules:
        try:
            slots = horizon.slots(spec_of(schedule), now)
        except ScheduleError:
            continue  # validated on write; a time zone removed from the system's database is skipped
        runs.extend(_new_run(schedule, start, now) for start in slots if (schedule.id, start) not in taken)
    # COPY, not bulk_create: a first pass over 10,000 deployments writes ~90,000 rows.
    copy_insert(FlowRun, runs)
    copy_insert(
        FlowRunState,
        (
            {
                "flow_run_id": run["id"],
                "type": StateType.SCHEDULED,
                "name": "Scheduled",
                "timestamp": now,
                "message": "",
                "details": run["state_details"],
            }
            for run in runs
        ),
    )
    copy_insert(Event, (_scheduled_event(run, now) for run in runs))
    return len(runs)


def _scheduled_event(run: dict[str, Any], now: datetime) -> dict[str, Any]:
    event = event_build(
        workspace_id=run["workspace_id"],
        event="tether.flow-run.Scheduled",
        occurred=now,
        resource=resource("flow-run", run["id"], run["name"], **{"tether.state-type": StateType.SCHEDULED}),
        related=[resource("flow", run["flow_id"]), resource("deployment", run["deployment_id"])],
        payload={"validated_state": {"type": StateType.SCHEDULED, "name": "Scheduled"}},
    )
    return {field.attname: getattr(event, field.attname) for field in Event._meta.concrete_fields} | {"received": now}


def tick(*, now: datetime | None = None, horizon: Horizon | None = None) -> int:
    """One pass over every active schedule of an unpaused deployment; returns the runs created."""
    now = now or timezone.now()
    horizon = horizon or Horizon.from_settings()
    created = 0
    after_pk = None
    while True:
        with transaction.atomic():
            batch = (
                DeploymentSchedule.dangerously_unscoped.select_for_update(skip_locked=True, of=("self",))
                .select_related("deployment")
                .filter(active=True, deployment__paused=False)
            )
            if after_pk is not None:
                batch = batch.filter(pk__gt=after_pk)
            schedules = list(batch.order_by("pk")[:BATCH_SIZE])
            if not schedules:
                return created
            after_pk = schedules[-1].pk
            created += _schedule_batch(schedules, horizon, now)
