"""Writes for deployment schedules. Changing a schedule replaces its future auto-scheduled runs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from controlplane.audit.services import audit_workspace_record
from controlplane.core.errors import ValidationFailed
from controlplane.flows.models import Deployment, DeploymentSchedule
from controlplane.flows.schedules.timing import ScheduleError, ScheduleSpec, validate
from controlplane.orgs.principals import Actor
from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType

SCHEDULE_FIELDS = ("kind", "cron", "day_or", "interval_seconds", "anchor", "rrule", "timezone", "active", "parameters")


def spec_from(values: dict[str, Any]) -> ScheduleSpec:
    spec = ScheduleSpec(
        kind=values.get("kind", ""),
        timezone=values.get("timezone") or "UTC",
        cron=values.get("cron", ""),
        day_or=values.get("day_or", True),
        interval_seconds=values.get("interval_seconds", 0),
        anchor=values.get("anchor"),
        rrule=values.get("rrule", ""),
    )
    try:
        validate(spec)
    except ScheduleError as exc:
        raise ValidationFailed(f"The schedule is not valid: {exc}.", details={"schedule": [str(exc)]}) from None
    return spec


def future_auto_runs_delete(*, schedules: list[DeploymentSchedule]) -> int:
    """Delete scheduled runs the scheduler made that have not started — never manual runs,
    runs waiting for a concurrency slot, or runs already in flight."""
    deleted, _ = FlowRun.dangerously_unscoped.filter(
        schedule__in=schedules,
        auto_scheduled=True,
        state_type=StateType.SCHEDULED,
        state_name__in=("Scheduled", "Late"),
        expected_start_time__gt=timezone.now(),
    ).delete()
    return deleted


def _audit(actor: Actor, action: str, schedule: DeploymentSchedule, changes: dict[str, Any]) -> None:
    label = f"{schedule.kind} schedule of {schedule.deployment.name}"
    audit_workspace_record(actor=actor, action=action, target=schedule, target_label=label, changes=changes)


@transaction.atomic
def schedule_create(*, actor: Actor, deployment: Deployment, **values: Any) -> DeploymentSchedule:
    spec_from(values)
    schedule = DeploymentSchedule.objects.create(
        workspace=deployment.workspace,
        deployment=deployment,
        **{k: v for k, v in values.items() if k in SCHEDULE_FIELDS},
    )
    _audit(actor, "deployment.schedule.created", schedule, {"kind": schedule.kind})
    return schedule


@transaction.atomic
def schedule_update(*, actor: Actor, schedule: DeploymentSchedule, **changes: Any) -> DeploymentSchedule:
    merged = {field: getattr(schedule, field) for field in SCHEDULE_FIELDS} | changes
    spec_from(merged)
    for field, value in changes.items():
        setattr(schedule, field, value)
    schedule.save(update_fields=[*changes, "updated_at"])
    removed = future_auto_runs_delete(schedules=[schedule])
    _audit(actor, "deployment.schedule.updated", schedule, {"fields": sorted(changes), "future_runs_removed": removed})
    return schedule


@transaction.atomic
def schedule_delete(*, actor: Actor, schedule: DeploymentSchedule) -> None:
    removed = future_auto_runs_delete(schedules=[schedule])
    _audit(actor, "deployment.schedule.deleted", schedule, {"future_runs_removed": removed})
    schedule.delete()
