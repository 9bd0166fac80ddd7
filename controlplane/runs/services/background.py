"""Background task runs: `task.delay()` creates them, `tether task-worker serve` runs them.

A background task run is a TaskRun with no flow run. It waits SCHEDULED until a task worker
serving its task key claims it: the claim takes due rows with `FOR UPDATE SKIP LOCKED`, moves
each to PENDING through the task-run orchestration rules, and gives it a lease (the worker's
id, an expiry) and a new epoch. Every later report names the worker and carries the epoch; a
stale one answers 409. Retries inside the worker keep the lease (the run shows SCHEDULED
AwaitingRetry, but no other worker may take it); a lease that expires is dealt with by
`background_leases.reap()`. See docs/background-tasks.md.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from controlplane.core.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from controlplane.core.long_polls import LONG_POLLS, refused_retry_after_seconds
from controlplane.flows.parameters import check_parameters_size
from controlplane.orgs.models import Workspace
from controlplane.runs.models import Log, TaskRun, TaskRunState
from controlplane.runs.orchestration.context import OrchestrationResult, ResultStatus, StateSpec, TransitionContext
from controlplane.runs.orchestration.engine import book_state, current_state, evaluate, result_of
from controlplane.runs.orchestration.policies import TASK_RUN_POLICY
from controlplane.runs.services.background_push import generation, wait_for_wake, wake_task_workers_on_commit
from controlplane.runs.services.logs import (
    LOG_BATCH_MAX_LINES,
    LOG_BATCH_MAX_MESSAGE_BYTES,
    LOG_MESSAGE_MAX_BYTES,
    log_row,
)
from controlplane.runs.states import TERMINAL_TYPES, StateType
from controlplane.workpools.dispatch.timings import dispatch_timings

# States in which a worker holds the run: the lease is renewed by its heartbeats. SCHEDULED
# is held only while the worker waits out an in-process retry delay.
HELD_TYPES = frozenset({StateType.PENDING, StateType.RUNNING, StateType.SCHEDULED})
# How often a long-poll claim looks again when no wake came from this process.
LONG_POLL_RECHECK_SECONDS = 0.5
CLAIM_CAPACITY_MAX = 100


@dataclass(frozen=True)
class BackgroundTaskRequest:
    task_key: str
    name: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    parameters_ref: str = ""
    result_storage: str = ""
    tags: list[str] = field(default_factory=list)
    max_retries: int = 0
    scheduled_time: datetime | None = None
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        # Not the reference: a caller re-sending the same call stored its arguments under a new key.
        body = {"task_key": self.task_key, "parameters": self.parameters, "tags": sorted(self.tags)}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class BackgroundTaskCreated:
    run: TaskRun
    created: bool


@dataclass(frozen=True)
class ClaimedTask:
    run: TaskRun
    lease_expires_at: datetime


@dataclass(frozen=True)
class WaitingTaskClaim:
    """A claim's answer: the runs, and how long to stay away when a long-poll was refused its wait."""

    task_runs: list[ClaimedTask]
    retry_after_seconds: float = 0.0


@dataclass(frozen=True)
class WorkerHeartbeat:
    renewed: list[uuid.UUID]
    lost: list[uuid.UUID]


# --- creation ------------------------------------------------------------------------------


def _record_state(run: TaskRun, initial: StateSpec | None, final: StateSpec, at: datetime) -> list[str]:
    changed = book_state(run, initial, final, at)
    TaskRunState.objects.create(
        task_run=run, type=final.type, name=final.name, timestamp=at, message=final.message, details=final.details
    )
    return changed


def _existing_for_key(request: BackgroundTaskRequest) -> BackgroundTaskCreated | None:
    existing = TaskRun.objects.filter(idempotency_key=request.idempotency_key).first()
    if existing is None:
        return None
    if not existing.background or existing.idempotency_fingerprint != request.fingerprint():
        raise ValidationFailed(
            "This idempotency key was already used for a different request.",
            details={"idempotency_key": request.idempotency_key, "task_run_id": str(existing.id)},
        )
    return BackgroundTaskCreated(run=existing, created=False)


@transaction.atomic
def background_task_create(*, workspace: Workspace, request: BackgroundTaskRequest) -> BackgroundTaskCreated:
    """Queue a background task run, SCHEDULED at `scheduled_time` (now by default).

    Same idempotency key and same call → the same run (`created=False`); a different call
    with a used key → 422. Workers serving the task key are woken after commit.
    """
    if request.parameters and request.parameters_ref:
        raise ValidationFailed("Send the arguments either as parameters or by reference, not both.")
    check_parameters_size(request.parameters)
    if request.idempotency_key:
        found = _existing_for_key(request)
        if found is not None:
            return found
    now = timezone.now()
    due = request.scheduled_time or now
    run = TaskRun(
        workspace=workspace,
        background=True,
        name=request.name or request.task_key,
        task_key=request.task_key,
        parameters=request.parameters,
        parameters_ref=request.parameters_ref,
        result_storage=request.result_storage,
        tags=sorted(set(request.tags)),
        max_retries=request.max_retries,
        idempotency_key=request.idempotency_key or None,
        idempotency_fingerprint=request.fingerprint() if request.idempotency_key else "",
    )
    initial = StateSpec(type=StateType.SCHEDULED, details={"scheduled_time": due.isoformat()})
    book_state(run, None, initial, now)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
    except IntegrityError:
        # Another request with the same key won the race: answer with its run.
        found = _existing_for_key(request) if request.idempotency_key else None
        if found is None:
            raise
        return found
    TaskRunState.objects.create(
        task_run=run, type=initial.type, name=initial.name, timestamp=now, details=initial.details
    )
    wake_task_workers_on_commit(workspace.id, [run.task_key])
    return BackgroundTaskCreated(run=run, created=True)


# --- claims --------------------------------------------------------------------------------


def _due(task_keys: Sequence[str], now: datetime) -> Any:
    return TaskRun.objects.filter(
        background=True,
        state_type=StateType.SCHEDULED,
        task_key__in=list(task_keys),
        next_scheduled_start_time__lte=now,
        lease_owner__isnull=True,
    )


@transaction.atomic
def background_tasks_claim(
    *, worker_id: uuid.UUID, worker_name: str, task_keys: Sequence[str], capacity: int
) -> list[ClaimedTask]:
    """Take up to `capacity` due runs of `task_keys`, each exactly once, under a lease held by `worker_id`."""
    if capacity <= 0 or not task_keys:
        return []
    now = timezone.now()
    lease_expires_at = now + dispatch_timings().lease
    rows = list(
        _due(task_keys, now)
        .order_by("next_scheduled_start_time", "id")
        .select_for_update(skip_locked=True)[: min(capacity, CLAIM_CAPACITY_MAX)]
    )
    taken: list[TaskRun] = []
    claimed = StateSpec(type=StateType.PENDING, message=f"Claimed by task worker {worker_name}.")
    for run in rows:
        initial = current_state(run)
        ctx = evaluate(TASK_RUN_POLICY, TransitionContext(run=run, initial=initial, proposed=claimed, now=now))
        if ctx.status != ResultStatus.ACCEPT or ctx.noop:
            continue
        _record_state(run, initial, ctx.proposed, now)
        if ctx.proposed.type != StateType.PENDING:
            run.save()  # a rule ended it (e.g. a tag limited to 0): booked, not handed out
            continue
        run.lease_owner, run.lease_expires_at, run.epoch = worker_id, lease_expires_at, run.epoch + 1
        run.worker_name, run.updated_at = worker_name, now
        taken.append(run)
    if taken:
        fields = ["state_type", "state_name", "state_timestamp", "state_message", "state_details"]
        TaskRun.objects.bulk_update(
            taken, [*fields, "lease_owner", "lease_expires_at", "epoch", "worker_name", "updated_at"]
        )
    return [ClaimedTask(run=run, lease_expires_at=lease_expires_at) for run in taken]


def background_tasks_claim_waiting(
    *, worker_id: uuid.UUID, worker_name: str, task_keys: Sequence[str], capacity: int, wait_seconds: float
) -> WaitingTaskClaim:
    """Claim; when nothing is due, wait up to `wait_seconds` for a run to be created or fall due.

    The wait holds no transaction: it sleeps on this process's wake signal and looks again
    every half second for runs created through another replica or falling due. It holds one
    of this process's HTTP threads, so it shares the agents' cap on waiting claims
    (core/long_polls.py): beyond it the claim answers at once, with `retry_after_seconds`
    when it got nothing.
    """
    deadline = time.monotonic() + max(0.0, wait_seconds)
    seen = generation()
    claimed = background_tasks_claim(
        worker_id=worker_id, worker_name=worker_name, task_keys=task_keys, capacity=capacity
    )
    if claimed or wait_seconds <= 0:
        return WaitingTaskClaim(task_runs=claimed)
    with LONG_POLLS.try_enter() as admitted:
        if not admitted:
            return WaitingTaskClaim(task_runs=[], retry_after_seconds=refused_retry_after_seconds())
        while True:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return WaitingTaskClaim(task_runs=[])
                seen = wait_for_wake(seen, min(LONG_POLL_RECHECK_SECONDS, remaining))
                if _due(task_keys, timezone.now()).exists():
                    break
            seen = generation()
            claimed = background_tasks_claim(
                worker_id=worker_id, worker_name=worker_name, task_keys=task_keys, capacity=capacity
            )
            if claimed:
                return WaitingTaskClaim(task_runs=claimed)


@transaction.atomic
def background_tasks_heartbeat(*, worker_id: uuid.UUID, runs: Sequence[tuple[uuid.UUID, int]]) -> WorkerHeartbeat:
    """Renew, in one UPDATE, every lease the worker still holds at the epoch it reports."""
    reported = [run_id for run_id, _ in runs]
    if not runs:
        return WorkerHeartbeat(renewed=[], lost=[])
    held = Q()
    for run_id, epoch in runs:
        held |= Q(pk=run_id, epoch=epoch)
    ids = set(
        TaskRun.objects.select_for_update()
        .filter(held, background=True, lease_owner=worker_id, state_type__in=HELD_TYPES)
        .values_list("id", flat=True)
    )
    if ids:
        TaskRun.objects.filter(pk__in=ids).update(lease_expires_at=timezone.now() + dispatch_timings().lease)
    return WorkerHeartbeat(
        renewed=[run_id for run_id in reported if run_id in ids],
        lost=[run_id for run_id in reported if run_id not in ids],
    )


# --- reports -------------------------------------------------------------------------------


def _locked_background(run_id: uuid.UUID) -> TaskRun:
    run = TaskRun.objects.select_for_update().filter(pk=run_id, background=True).first()
    if run is None:
        raise NotFound("Background task run not found.")
    return run


def background_task_transition(
    run: TaskRun, proposed: StateSpec, *, allow_rerun: bool = False, now: datetime | None = None
) -> OrchestrationResult:
    """Propose `proposed` for a locked run through the task-run rules; book and save what is accepted."""
    now = now or timezone.now()
    initial = current_state(run)
    ctx = evaluate(
        TASK_RUN_POLICY,
        TransitionContext(run=run, initial=initial, proposed=proposed, now=now, allow_rerun=allow_rerun),
    )
    changed = ctx.status == ResultStatus.ACCEPT and not ctx.noop
    if changed:
        fields = _record_state(run, initial, ctx.proposed, now)
        if ctx.proposed.type in TERMINAL_TYPES:
            # Finished: nothing left to renew or reap. The holder stays recorded (`worker_name`).
            run.lease_expires_at = None
            fields.append("lease_expires_at")
        run.save(update_fields=[*set(fields), "updated_at"])
    return result_of(ctx, changed=changed)


@transaction.atomic
def background_task_set_state(
    *, run_id: uuid.UUID, worker_id: uuid.UUID, epoch: int, proposed: StateSpec
) -> OrchestrationResult:
    """A worker's report. Only the holder at the current epoch may report (409 otherwise)."""
    run = _locked_background(run_id)
    if run.epoch != epoch or run.lease_owner != worker_id:
        raise Conflict(
            "This report carries a stale epoch: the task run was handed to another worker.",
            details={"epoch": epoch, "current_epoch": run.epoch},
        )
    if run.lease_expires_at is None and run.state_type not in TERMINAL_TYPES:
        raise Conflict("The lease on this task run has expired; it is handed out again.", details={"epoch": epoch})
    return background_task_transition(run, proposed)


@dataclass(frozen=True)
class BackgroundLogLine:
    task_run_id: uuid.UUID
    seq: int
    level: int
    message: str
    timestamp: datetime
    source: str = "task-worker"
    name: str = ""


def _check_log_limits(lines: Sequence[BackgroundLogLine]) -> None:
    """The limits of the flow-run log path (docs/decisions/0008-log-limits.md) hold here too."""
    if len(lines) > LOG_BATCH_MAX_LINES:
        raise PayloadTooLarge(
            f"A log batch holds at most {LOG_BATCH_MAX_LINES} lines; this one has {len(lines)}. Split it.",
            details={"limit_lines": LOG_BATCH_MAX_LINES, "lines": len(lines)},
        )
    sizes = [len(line.message.encode()) for line in lines]
    for index, size in enumerate(sizes):
        if size > LOG_MESSAGE_MAX_BYTES:
            raise ValidationFailed(
                f"Log line {index}: a message is limited to {LOG_MESSAGE_MAX_BYTES} bytes (UTF-8); this one is {size}.",
                details={"index": index, "limit_bytes": LOG_MESSAGE_MAX_BYTES, "message_bytes": size},
            )
    if sum(sizes) > LOG_BATCH_MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"A log batch holds at most {LOG_BATCH_MAX_MESSAGE_BYTES} bytes of messages (UTF-8). Split it.",
            details={"limit_bytes": LOG_BATCH_MAX_MESSAGE_BYTES, "message_bytes": sum(sizes)},
        )


@transaction.atomic
def background_task_logs_ingest(*, workspace: Workspace, lines: Sequence[BackgroundLogLine]) -> None:
    """Store log lines of background task runs; a re-sent line (same run, source and seq) is stored once."""
    _check_log_limits(lines)
    if not lines:
        return
    wanted = {line.task_run_id for line in lines}
    found = set(TaskRun.objects.filter(pk__in=wanted, background=True).values_list("id", flat=True))
    if wanted - found:
        raise NotFound(
            "Background task run not found in this workspace; no line of the batch was stored.",
            details={"task_run_ids": sorted(str(run_id) for run_id in wanted - found)},
        )
    Log.objects.bulk_create(
        [log_row(workspace, line, flow_run_id=None) for line in lines],
        ignore_conflicts=True,
    )
