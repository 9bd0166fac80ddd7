"""Cancellation clean-up: runs stuck in CANCELLING with nobody holding them end CANCELLED,
and so do the unfinished subflow runs of every cancelled run."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from controlplane.core.tenancy import tenant_scope
from controlplane.runs.models import FlowRun
from controlplane.runs.orchestration.context import StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.states import TERMINAL_TYPES, StateType

BATCH_SIZE = 200


def _cancel(run: FlowRun, message: str) -> bool:
    with tenant_scope(organization_id=run.workspace.organization_id, workspace_id=run.workspace_id):
        result = flow_run_set_state(run_id=run.pk, proposed=StateSpec(type=StateType.CANCELLED, message=message))
    return result.changed


def cleanup() -> int:
    """Returns how many runs were finalised. Safe on several hosts (SKIP LOCKED)."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.TETHER_CANCELLING_TIMEOUT_SECONDS)
    finalised = 0
    with transaction.atomic():
        stuck = (
            FlowRun.dangerously_unscoped.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace")
            .filter(state_type=StateType.CANCELLING, state_timestamp__lt=stale_before)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))[:BATCH_SIZE]
        )
        for run in stuck:
            finalised += _cancel(run, "Cancelled: nobody was left to stop the run.")
    with transaction.atomic():
        orphans = (
            FlowRun.dangerously_unscoped.select_for_update(skip_locked=True, of=("self",))
            .select_related("workspace")
            .filter(parent_task_run__flow_run__state_type=StateType.CANCELLED)
            .exclude(state_type__in=[*TERMINAL_TYPES, StateType.CANCELLING])[:BATCH_SIZE]
        )
        for run in orphans:
            finalised += _cancel(run, "Cancelled with its parent flow run.")
    return finalised
