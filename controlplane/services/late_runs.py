"""Marks SCHEDULED runs that should have started by now as Late (through the orchestration rules)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlplane.core.tenancy import tenant_scope
from controlplane.runs.models import FlowRun
from controlplane.runs.orchestration.context import StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.states import LATE, StateType

BATCH_SIZE = 200


def tick() -> int:
    """Mark overdue runs Late; returns how many. Safe on several hosts (SKIP LOCKED)."""
    overdue_before = timezone.now() - timedelta(seconds=settings.TETHER_LATE_AFTER_SECONDS)
    marked = 0
    with transaction.atomic():
        overdue = list(
            FlowRun.dangerously_unscoped.select_for_update(skip_locked=True)
            .filter(state_type=StateType.SCHEDULED, next_scheduled_start_time__lt=overdue_before)
            .exclude(state_name=LATE)
            .select_related("workspace")
            .order_by("next_scheduled_start_time")[:BATCH_SIZE]
        )
        for run in overdue:
            with tenant_scope(organization_id=run.workspace.organization_id, workspace_id=run.workspace_id):
                late = StateSpec(type=StateType.SCHEDULED, name=LATE, details=run.state_details)
                result = flow_run_set_state(run_id=run.pk, proposed=late)
            marked += int(result.changed)
    return marked
