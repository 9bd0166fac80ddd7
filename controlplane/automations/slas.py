"""SLAs on deployments: a friendly form compiled into a proactive automation the SLA owns.

- `start_within` N: a run of the deployment not Running N s after its scheduled time. The
  window opens when the run turns Late (TETHER_LATE_AFTER_SECONDS after its scheduled time),
  so a run that starts on time never opens one; N must be at least that delay.
- `complete_within` N: a run not in a final state N s after it started Running.
- `freshness` HH:MM in a time zone: no COMPLETED run of the deployment in the day that ends
  at HH:MM local time (from the previous day's HH:MM; 23 or 25 h long across a DST change).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlplane.audit.services import audit_workspace_record
from controlplane.automations.actions import check_actions
from controlplane.automations.calendar import local_days_later, next_local_time
from controlplane.automations.evaluation import ROOT
from controlplane.automations.models import Automation, DeploymentSla, SlaKind, TriggerBucket
from controlplane.core.errors import ValidationFailed, unique_or_conflict
from controlplane.flows.models import Deployment
from controlplane.orgs.principals import Actor

DAY = 86400
RUN = "tether.resource.id"
FINAL_STATES = ["tether.flow-run.Completed", "tether.flow-run.Failed", "tether.flow-run.Crashed"]
FINAL_STATES += ["tether.flow-run.Cancelled"]


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: [message]})


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise _fail("timezone", f"Unknown time zone {name!r}.") from error


def check_sla(*, kind: str, seconds: int | None, time_of_day: time | None, timezone_name: str) -> None:
    if kind not in SlaKind.values:
        raise _fail("kind", f"kind is one of {', '.join(SlaKind.values)}.")
    if kind == SlaKind.FRESHNESS:
        if time_of_day is None:
            raise _fail("time_of_day", "A freshness SLA names the time of day (HH:MM) a completed run is due by.")
        _zone(timezone_name)
        return
    if seconds is None or not 1 <= seconds <= 366 * DAY:
        raise _fail("seconds", f"A {kind} SLA needs seconds (1 to {366 * DAY}).")
    late_after: int = settings.TETHER_LATE_AFTER_SECONDS
    if kind == SlaKind.START_WITHIN and seconds < late_after:
        raise _fail("seconds", f"start_within is at least {late_after} s: runs are marked Late after that delay.")


def compile_trigger(sla: DeploymentSla) -> dict[str, Any]:
    """The proactive trigger document an SLA stands for."""
    of_deployment = {RUN: f"tether.deployment.{sla.deployment_id}"}
    if sla.kind == SlaKind.START_WITHIN:
        assert sla.seconds is not None
        late_after: int = settings.TETHER_LATE_AFTER_SECONDS
        return {
            "type": "event", "posture": "proactive", "match_related": of_deployment, "for_each": [RUN],
            "after": ["tether.flow-run.Late"],
            "expect": ["tether.flow-run.Running", "tether.flow-run.Cancelling", "tether.flow-run.Cancelled"],
            "within": max(1, sla.seconds - late_after),
        }  # fmt: skip
    if sla.kind == SlaKind.COMPLETE_WITHIN:
        return {
            "type": "event", "posture": "proactive", "match_related": of_deployment, "for_each": [RUN],
            "after": ["tether.flow-run.Running"], "expect": FINAL_STATES, "within": sla.seconds,
        }  # fmt: skip
    assert sla.time_of_day is not None
    return {
        "type": "event", "posture": "proactive", "match_related": of_deployment, "fixed_windows": True,
        "expect": ["tether.flow-run.Completed"], "within": DAY,
        "time_of_day": sla.time_of_day.isoformat(timespec="minutes"), "timezone": sla.timezone,
    }  # fmt: skip


def next_due(sla: DeploymentSla, now: datetime) -> datetime:
    """The next HH:MM in the SLA's time zone after `now` (a freshness deadline), in UTC."""
    assert sla.time_of_day is not None
    return next_local_time(now, sla.time_of_day, _zone(sla.timezone))


def _day_before(sla: DeploymentSla, due: datetime) -> datetime:
    """The HH:MM of the previous local day: where the freshness window ending at `due` starts."""
    assert sla.time_of_day is not None
    return local_days_later(due, -1, sla.time_of_day, _zone(sla.timezone))


def _sync_automation(sla: DeploymentSla) -> Automation:
    """Create or rewrite the SLA's automation from a clean state (its trigger state is dropped)."""
    fields = {
        "name": f"SLA {sla.name}",
        "description": f"{sla.kind} SLA on a deployment (edit the SLA, not this automation).",
        "enabled": sla.enabled,
        "trigger": compile_trigger(sla),
        "actions": sla.actions,
    }
    automation, _ = Automation.objects.update_or_create(sla=sla, workspace_id=sla.workspace_id, defaults=fields)
    automation.buckets.all().delete()
    if sla.kind == SlaKind.FRESHNESS and sla.enabled:
        due = next_due(sla, timezone.now())
        TriggerBucket.objects.create(
            workspace_id=sla.workspace_id, automation=automation, path=ROOT, key="",
            armed=True, count=0, window_start=_day_before(sla, due), deadline=due,
        )  # fmt: skip
    return automation


def _audit(actor: Actor, action: str, sla: DeploymentSla, changes: dict[str, Any]) -> None:
    audit_workspace_record(actor=actor, action=action, target=sla, target_label=sla.name, changes=changes)


@transaction.atomic
def sla_create(
    *,
    actor: Actor,
    deployment: Deployment,
    name: str,
    kind: str,
    actions: list[dict[str, Any]],
    seconds: int | None = None,
    time_of_day: time | None = None,
    timezone_name: str = "UTC",
    enabled: bool = True,
) -> DeploymentSla:
    check_sla(kind=kind, seconds=seconds, time_of_day=time_of_day, timezone_name=timezone_name)
    if not actions:
        raise _fail("actions", "An SLA takes at least one action (a notification, a run of a deployment, ...).")
    check_actions(actions)
    with unique_or_conflict(f"This deployment already has an SLA named {name!r}."):
        sla: DeploymentSla = DeploymentSla.objects.create(
            workspace_id=deployment.workspace_id, deployment=deployment, name=name, kind=kind, seconds=seconds,
            time_of_day=time_of_day, timezone=timezone_name, actions=actions, enabled=enabled,
        )  # fmt: skip
    _sync_automation(sla)
    _audit(actor, "sla.created", sla, {"name": name, "kind": kind})
    return sla


@transaction.atomic
def sla_update(*, actor: Actor, sla: DeploymentSla, **changes: Any) -> DeploymentSla:
    if "timezone_name" in changes:
        changes["timezone"] = changes.pop("timezone_name")
    merged = {field: changes.get(field, getattr(sla, field)) for field in ("kind", "seconds", "time_of_day")}
    check_sla(timezone_name=changes.get("timezone", sla.timezone), **merged)
    if "actions" in changes:
        if not changes["actions"]:
            raise _fail("actions", "An SLA takes at least one action.")
        check_actions(changes["actions"])
    changed = {field: value for field, value in changes.items() if getattr(sla, field) != value}
    if not changed:
        return sla
    for field, value in changed.items():
        setattr(sla, field, value)
    with unique_or_conflict(f"This deployment already has an SLA named {sla.name!r}."):
        sla.save(update_fields=[*changed, "updated_at"])
    _sync_automation(sla)
    _audit(actor, "sla.updated", sla, {"fields": sorted(changed)})
    return sla


@transaction.atomic
def sla_delete(*, actor: Actor, sla: DeploymentSla) -> None:
    _audit(actor, "sla.deleted", sla, {"name": sla.name})
    sla.delete()  # its automation goes with it (CASCADE)
