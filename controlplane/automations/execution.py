"""Executing action runs: each one locked (SKIP LOCKED) while it runs, so two workers never run
the same one, and marked done in the same transaction as its effects. A worker that dies
mid-action leaves the run pending; the periodic pass runs it again (run-deployment is
idempotent by the action run's id; HTTP deliveries carry it as `Idempotency-Key`)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlplane.automations.actions import ActionFailed, Execution, execute
from controlplane.automations.context import template_context
from controlplane.automations.models import ActionRun, ActionStatus, DeliveryAttempt
from controlplane.core.tenancy import tenant_scope
from controlplane.events.services import event_build, events_record, resource
from controlplane.orgs.principals import Actor

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300


def backoff_seconds(attempts: int) -> float:
    return float(min(MAX_BACKOFF_SECONDS, 2 ** max(0, attempts - 1)))


def _record_outcome(run: ActionRun, *, ok: bool) -> None:
    firing = run.firing
    name = "tether.automation.action.executed" if ok else "tether.automation.action.failed"
    events_record(
        [
            event_build(
                workspace_id=run.workspace_id,
                event=name,
                occurred=timezone.now(),
                resource=resource("automation", firing.automation_id, firing.automation.name),
                related=[resource("automation-firing", firing.pk)],
                payload={
                    "firing_id": str(firing.pk),
                    "action_index": run.index,
                    "action_type": run.action.get("type"),
                    "attempts": run.attempts,
                    **({"result": run.result} if ok else {"error": run.error}),
                },
            )
        ]
    )


def _run_locked(run: ActionRun) -> None:
    now = timezone.now()
    run.attempts += 1
    workspace = run.firing.automation.workspace
    with tenant_scope(organization_id=workspace.organization_id, workspace_id=workspace.id):
        execution = Execution(run=run, context=template_context(run.firing), actor=Actor.system())
        try:
            result = execute(execution)
        except ActionFailed as exc:
            run.error = exc.message
            if exc.retryable and run.attempts < settings.TETHER_ACTION_MAX_ATTEMPTS:
                run.next_attempt_at = now + timedelta(seconds=backoff_seconds(run.attempts))
            else:
                run.status, run.finished_at, run.next_attempt_at = ActionStatus.FAILED, now, None
                _record_outcome(run, ok=False)
        else:
            run.status, run.result, run.error = ActionStatus.SUCCEEDED, result, ""
            run.finished_at, run.next_attempt_at = timezone.now(), None
            _record_outcome(run, ok=True)
    DeliveryAttempt.dangerously_unscoped.bulk_create(execution.deliveries)
    run.save(update_fields=["attempts", "status", "result", "error", "finished_at", "next_attempt_at", "updated_at"])


def _locked_pending() -> Any:
    return (
        ActionRun.dangerously_unscoped.select_for_update(skip_locked=True, of=("self",))
        .select_related("firing__automation__workspace")
        .filter(status=ActionStatus.PENDING)
    )


def action_runs_execute(*, ids: list[uuid.UUID]) -> int:
    """Run these action runs if they are due and nobody else is running them; returns how many ran."""
    ran = 0
    for pk in ids:
        with transaction.atomic():
            run = _locked_pending().filter(pk=pk, next_attempt_at__lte=timezone.now()).first()
            if run is None:
                continue
            _run_locked(run)
            ran += 1
    return ran


def action_runs_execute_due(*, limit: int = 50) -> int:
    """Run due action runs (new ones a dispatch missed, retries, ones a dead worker left)."""
    ran = 0
    for _ in range(limit):
        with transaction.atomic():
            run = _locked_pending().filter(next_attempt_at__lte=timezone.now()).order_by("next_attempt_at").first()
            if run is None:
                break
            _run_locked(run)
            ran += 1
    return ran
