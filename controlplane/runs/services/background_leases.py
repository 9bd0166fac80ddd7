"""The reaper of background task runs whose task worker stopped heartbeating.

A lease that expires on a PENDING run (its code never started) hands it back: SCHEDULED, due
now. On a RUNNING run the worker is presumed dead (killed, or cut off): CRASHED ("task worker
lost"), then, with retries left (`run_count <= max_retries`), AwaitingRetry — the same path a
flow run's lost agent takes. A SCHEDULED run held through an in-process retry delay is simply
released. Every case clears the lease, so the next claim (which bumps the epoch) gets it and
the old holder's late reports answer 409.

Idempotent and safe on several hosts: rows are taken with `FOR UPDATE SKIP LOCKED`, and each
is handled in the transaction that clears its lease, so each expiry is handled once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from controlplane.core.tenancy import tenant_scope
from controlplane.runs.models import TaskRun
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.background import HELD_TYPES, background_task_transition
from controlplane.runs.services.background_push import wake_task_workers_on_commit
from controlplane.runs.states import AWAITING_RETRY, StateType

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
WORKER_LOST = "Task worker lost: its lease expired without a heartbeat."


def _release(run: TaskRun) -> None:
    run.lease_owner, run.lease_expires_at = None, None
    run.save(update_fields=["lease_owner", "lease_expires_at", "updated_at"])


def _handle(run: TaskRun, now: datetime) -> None:
    due_now = {"scheduled_time": now.isoformat()}
    if run.state_type == StateType.PENDING:
        message = "The task worker's lease expired before the task started; it is handed out again."
        background_task_transition(run, StateSpec(type=StateType.SCHEDULED, message=message, details=due_now), now=now)
    elif run.state_type == StateType.RUNNING:
        crashed = background_task_transition(run, StateSpec(type=StateType.CRASHED, message=WORKER_LOST), now=now)
        if crashed.status == ResultStatus.ACCEPT and run.run_count <= run.max_retries:
            retry = StateSpec(
                type=StateType.SCHEDULED,
                name=AWAITING_RETRY,
                message=WORKER_LOST,
                details={**due_now, "retry_of_failure": WORKER_LOST},
            )
            background_task_transition(run, retry, allow_rerun=True, now=now)
    _release(run)
    if run.state_type == StateType.SCHEDULED:
        wake_task_workers_on_commit(run.workspace_id, [run.task_key])


def reap(*, batch_size: int = BATCH_SIZE) -> int:
    """Handle background task runs whose lease expired; returns how many."""
    now = timezone.now()
    handled = 0
    with transaction.atomic():
        rows = list(
            TaskRun.dangerously_unscoped.select_for_update(skip_locked=True)
            .select_related("workspace")
            .filter(background=True, state_type__in=HELD_TYPES, lease_expires_at__lt=now)
            .order_by("lease_expires_at")[:batch_size]
        )
        for run in rows:
            try:
                with (
                    transaction.atomic(),
                    tenant_scope(organization_id=run.workspace.organization_id, workspace_id=run.workspace_id),
                ):
                    _handle(run, now)
            except Exception:
                logger.exception("could not reap background task run %s; its lease is cleared", run.id)
                TaskRun.dangerously_unscoped.filter(pk=run.pk).update(lease_expires_at=None, lease_owner=None)
            handled += 1
    return handled
