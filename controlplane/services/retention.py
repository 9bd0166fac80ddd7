"""Retention: delete finished runs (their states, task runs and logs go with them), finished
background task runs (with their states and logs) and events older than each workspace's
`retention_days`.

A background run's arguments and result live in the caller's storage, never here, so the
files are the caller's to expire (docs/background-tasks.md says how).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from controlplane.events.models import Event
from controlplane.orgs.models import Workspace
from controlplane.runs.models import FlowRun, Log, TaskRun
from controlplane.runs.states import TERMINAL_TYPES

BATCH_SIZE = 1000


def _delete_in_batches(queryset: object) -> int:
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.values_list("pk", flat=True)[:BATCH_SIZE])  # type: ignore[attr-defined]
            if not ids:
                return deleted
            queryset.model.dangerously_unscoped.filter(pk__in=ids).delete()  # type: ignore[attr-defined]
            deleted += len(ids)


def _delete_background_in_batches(queryset: object) -> int:
    """Background task runs and their log lines (which point at them by id, not by key)."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.values_list("pk", flat=True)[:BATCH_SIZE])  # type: ignore[attr-defined]
            if not ids:
                return deleted
            Log.dangerously_unscoped.filter(flow_run__isnull=True, task_run_id__in=ids).delete()
            TaskRun.dangerously_unscoped.filter(pk__in=ids).delete()
            deleted += len(ids)


def vacuum() -> dict[str, int]:
    """One pass over every workspace; returns how many runs, background runs and events were deleted."""
    runs = background = events = 0
    now = timezone.now()
    for workspace_id, days in Workspace.objects.values_list("id", "retention_days"):
        cutoff = now - timedelta(days=days)
        runs += _delete_in_batches(
            FlowRun.dangerously_unscoped.filter(
                workspace_id=workspace_id, state_type__in=TERMINAL_TYPES, end_time__lt=cutoff
            )
        )
        background += _delete_background_in_batches(
            TaskRun.dangerously_unscoped.filter(
                workspace_id=workspace_id, background=True, state_type__in=TERMINAL_TYPES, end_time__lt=cutoff
            )
        )
        events += _delete_in_batches(Event.dangerously_unscoped.filter(workspace_id=workspace_id, occurred__lt=cutoff))
    return {"runs": runs, "background_task_runs": background, "events": events}
