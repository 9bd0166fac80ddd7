"""The lease reaper: finalises or hands back the runs whose agent stopped heartbeating.

A lease that expires on a PENDING run (no code started) sends it back to SCHEDULED, due now,
lease cleared, epoch kept — the next claim bumps the epoch, so the old holder's late reports
are stale (409) and its run token stops working. On a RUNNING run it is CRASHED ("agent
lost"), then, with retries left (`run_count <= max_retries`), AwaitingRetry through the
engine's rerun path (`allow_rerun`, the same one a user's retry takes). On a CANCELLING run
there is nobody left to stop it: it becomes CANCELLED.

Idempotent and safe on several hosts: rows are taken with `FOR UPDATE SKIP LOCKED` and
every transition carries the run's epoch, so each run is handled once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from controlplane.core.errors import Conflict
from controlplane.core.tenancy import tenant_scope
from controlplane.runs.models import FlowRun
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.states import AWAITING_RETRY, StateType

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
REAPABLE_TYPES = (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)
AGENT_LOST = "Agent lost: its lease expired without a heartbeat."


@dataclass(frozen=True)
class _Expired:
    id: uuid.UUID
    organization_id: uuid.UUID
    workspace_id: uuid.UUID
    state_type: str
    epoch: int


def _handle(run: _Expired, now: datetime) -> None:
    if run.state_type == StateType.PENDING:
        back = StateSpec(
            type=StateType.SCHEDULED,
            message="The agent's lease expired before the run started; it is handed out again.",
            details={"scheduled_time": now.isoformat()},
        )
        flow_run_set_state(run_id=run.id, proposed=back, epoch=run.epoch)
    elif run.state_type == StateType.CANCELLING:
        flow_run_set_state(
            run_id=run.id, proposed=StateSpec(type=StateType.CANCELLED, message=AGENT_LOST), epoch=run.epoch
        )
    else:
        crashed = flow_run_set_state(
            run_id=run.id, proposed=StateSpec(type=StateType.CRASHED, message=AGENT_LOST), epoch=run.epoch
        )
        if crashed.status == ResultStatus.ACCEPT and crashed.state.type == StateType.CRASHED:
            _retry_if_allowed(run.id, now)


def _retry_if_allowed(run_id: uuid.UUID, now: datetime) -> None:
    fields = FlowRun.objects.filter(pk=run_id).values("run_count", "max_retries", "retry_delay_seconds").first()
    if fields is None or fields["run_count"] > fields["max_retries"]:
        return
    due = now + timedelta(seconds=fields["retry_delay_seconds"])
    retry = StateSpec(
        type=StateType.SCHEDULED,
        name=AWAITING_RETRY,
        message=AGENT_LOST,
        details={"scheduled_time": due.isoformat(), "retry_of_failure": AGENT_LOST},
    )
    flow_run_set_state(run_id=run_id, proposed=retry, allow_rerun=True)


def reap(*, batch_size: int = BATCH_SIZE) -> int:
    """Handle runs whose lease expired; returns how many. Safe to run on several hosts at once."""
    now = timezone.now()
    handled = 0
    with transaction.atomic():
        rows = (
            FlowRun.dangerously_unscoped.select_for_update(skip_locked=True, of=("self",))
            .filter(state_type__in=REAPABLE_TYPES, lease_expires_at__lt=now)
            .order_by("lease_expires_at")
            .values_list("id", "workspace__organization_id", "workspace_id", "state_type", "epoch")[:batch_size]
        )
        for row in [_Expired(*values) for values in rows]:
            try:
                with (
                    transaction.atomic(),
                    tenant_scope(organization_id=row.organization_id, workspace_id=row.workspace_id),
                ):
                    _handle(row, now)
            except Conflict:
                logger.info("run %s changed hands while being reaped; left alone", row.id)
            except Exception:
                logger.exception("could not reap run %s; its lease is cleared so it is not retried forever", row.id)
            # Whatever the rules answered, this expired lease is dealt with: never pick it again.
            FlowRun.dangerously_unscoped.filter(pk=row.id, lease_expires_at__lt=now).update(lease_expires_at=None)
            handled += 1
    return handled
