"""Task runs are reported in batches: hundreds of state changes in a handful of queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controlplane.core.errors import Conflict, NotFound
from controlplane.orgs.models import Workspace
from controlplane.runs.models import FlowRun, TaskRun, TaskRunState
from controlplane.runs.orchestration.context import OrchestrationResult, ResultStatus, StateSpec, TransitionContext
from controlplane.runs.orchestration.engine import book_state, current_state, evaluate, result_of
from controlplane.runs.orchestration.policies import TASK_RUN_POLICY

# Client clocks drift; a timestamp further ahead than this is replaced by the server's.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class TaskRunReport:
    """One entry of a batch: the task run (created on first sight, id chosen by the client) and a state."""

    id: uuid.UUID
    state: StateSpec
    flow_run_id: uuid.UUID | None = None
    name: str = ""
    task_key: str = ""
    dynamic_key: str = ""
    cache_key: str = ""
    tags: list[str] = field(default_factory=list)
    max_retries: int = 0
    task_inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskRunOutcome:
    id: uuid.UUID
    result: OrchestrationResult


def _timestamp(proposed: StateSpec, now: datetime) -> datetime:
    at = proposed.timestamp
    return at if at is not None and at <= now + MAX_CLOCK_SKEW else now


def _flow_runs(reports: list[TaskRunReport]) -> dict[uuid.UUID, FlowRun]:
    wanted = {report.flow_run_id for report in reports if report.flow_run_id}
    found = {run.id: run for run in FlowRun.objects.filter(pk__in=wanted)}
    missing = wanted - set(found)
    if missing:
        raise NotFound("Flow run not found.", details={"flow_run_ids": sorted(str(m) for m in missing)})
    return found


def _new_task_run(workspace: Workspace, report: TaskRunReport, flow_runs: dict[uuid.UUID, FlowRun]) -> TaskRun:
    return TaskRun(
        id=report.id,
        workspace=workspace,
        flow_run=flow_runs.get(report.flow_run_id) if report.flow_run_id else None,
        name=report.name or report.task_key or "task",
        task_key=report.task_key or report.name,
        dynamic_key=report.dynamic_key,
        cache_key=report.cache_key,
        tags=report.tags,
        max_retries=report.max_retries,
        task_inputs=report.task_inputs,
    )


def _apply(reports: list[TaskRunReport], workspace: Workspace) -> list[TaskRunOutcome]:
    now = timezone.now()
    flow_runs = _flow_runs(reports)
    ids = sorted({report.id for report in reports})
    runs = {run.id: run for run in TaskRun.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    for run in runs.values():
        if run.flow_run_id in flow_runs:
            run.flow_run = flow_runs[run.flow_run_id]
    created: dict[uuid.UUID, TaskRun] = {}
    changed_fields: dict[uuid.UUID, set[str]] = {}
    states: list[TaskRunState] = []
    outcomes: list[TaskRunOutcome] = []
    for report in reports:
        if report.id not in runs:
            created[report.id] = runs[report.id] = _new_task_run(workspace, report, flow_runs)
        run = runs[report.id]
        initial = current_state(run)
        ctx = evaluate(TASK_RUN_POLICY, TransitionContext(run=run, initial=initial, proposed=report.state, now=now))
        changed = ctx.status == ResultStatus.ACCEPT and not ctx.noop
        if changed:
            at = _timestamp(ctx.proposed, now)
            changed_fields.setdefault(run.id, set()).update(book_state(run, initial, ctx.proposed, at))
            states.append(
                TaskRunState(
                    task_run=run,
                    type=ctx.proposed.type,
                    name=ctx.proposed.name,
                    timestamp=at,
                    message=ctx.proposed.message,
                    details=ctx.proposed.details,
                )
            )
        outcomes.append(TaskRunOutcome(id=report.id, result=result_of(ctx, changed=changed)))
    new = [run for run in created.values() if run.state_timestamp is not None]
    TaskRun.objects.bulk_create(new)
    updated = [run for run_id, run in runs.items() if run_id not in created and run_id in changed_fields]
    if updated:
        fields = sorted(set().union(*(changed_fields[run.id] for run in updated)) | {"updated_at"})
        for run in updated:
            run.updated_at = now
        TaskRun.objects.bulk_update(updated, fields)
    TaskRunState.objects.bulk_create([state for state in states if state.task_run.state_timestamp is not None])
    return outcomes


def task_runs_report(*, workspace: Workspace, reports: list[TaskRunReport]) -> list[TaskRunOutcome]:
    """Apply a batch in order. Entries for the same task run are applied one after another."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _apply(reports, workspace)
        except IntegrityError:
            # A concurrent batch created one of these task runs first; the retry sees it.
            if attempt:
                raise Conflict("A task-run id in this batch belongs to another run or workspace.") from None
    raise AssertionError("unreachable")
