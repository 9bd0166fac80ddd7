"""Creating flow runs and moving them through their states."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controlplane.core.errors import Conflict, NotFound, ValidationFailed
from controlplane.core.inserts import Row, insert_rows
from controlplane.core.queries import unique_row
from controlplane.events.models import Event
from controlplane.events.services import event_build, events_announce, events_record, resource
from controlplane.flows.models import Deployment, Flow
from controlplane.flows.parameters import validate_parameters
from controlplane.orgs.models import Workspace
from controlplane.orgs.principals import Actor
from controlplane.realtime.live import flow_run_changed_on_commit
from controlplane.runs.models import FlowRun, FlowRunState, TaskRun
from controlplane.runs.naming import run_name
from controlplane.runs.orchestration.context import OrchestrationResult, ResultStatus, StateSpec, TransitionContext
from controlplane.runs.orchestration.engine import book_state, current_state, evaluate, result_of
from controlplane.runs.orchestration.policies import FLOW_RUN_POLICY
from controlplane.runs.states import ACTIVE_TYPES, StateType
from controlplane.workpools.dispatch.hooks import on_flow_run_state


@dataclass(frozen=True)
class FlowRunRequest:
    """Everything a client may set on a new flow run; also what its idempotency key vouches for."""

    flow_name: str = ""
    deployment: Deployment | None = None
    name: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    state: StateSpec | None = None
    parent_task_run_id: uuid.UUID | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        body = {
            "flow": self.flow_name,
            "deployment": str(self.deployment.id) if self.deployment else None,
            "name": self.name,
            "parameters": self.parameters,
            "tags": sorted(self.tags),
            "state": [self.state.type, self.state.name, self.state.details] if self.state else None,
            "parent": str(self.parent_task_run_id) if self.parent_task_run_id else None,
            "job_variables": self.job_variables,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class FlowRunCreated:
    run: FlowRun
    created: bool


def _flow_run_event(run: FlowRun, initial: StateSpec | None, final: StateSpec, at: Any) -> None:
    events_record([_flow_run_event_build(run, initial, final, at)])


def _flow_run_event_build(run: FlowRun, initial: StateSpec | None, final: StateSpec, at: Any) -> Event:
    related = [resource("flow", run.flow_id, run.flow.name)]
    if run.deployment_id:
        related.append(resource("deployment", run.deployment_id))
    if run.work_pool_id:
        related.append(resource("work-pool", run.work_pool_id))
    if run.work_queue_id:
        related.append(resource("work-queue", run.work_queue_id))
    related.extend({"tether.resource.id": f"tether.tag.{tag}", "tether.resource.role": "tag"} for tag in run.tags)
    return event_build(
        workspace_id=run.workspace_id,
        event=f"tether.flow-run.{final.name}",
        occurred=at,
        resource=resource("flow-run", run.id, run.name, **{"tether.state-type": final.type}),
        related=related,
        payload={
            "initial_state": {"type": initial.type, "name": initial.name} if initial else None,
            "validated_state": {"type": final.type, "name": final.name, "message": final.message[:1000]},
        },
    )


def _record(run: FlowRun, initial: StateSpec | None, final: StateSpec) -> None:
    at = timezone.now()
    changed = book_state(run, initial, final, at)
    changed += on_flow_run_state(run, final)
    run.save(update_fields=[*changed, "updated_at"])
    FlowRunState.objects.create(
        flow_run=run, type=final.type, name=final.name, timestamp=at, message=final.message, details=final.details
    )
    _flow_run_event(run, initial, final, at)
    _announce(run)


def _announce(run: FlowRun) -> None:
    flow_run_changed_on_commit(
        workspace_id=run.workspace_id,
        run_id=run.id,
        state_type=run.state_type,
        state_name=run.state_name,
        deployment_id=run.deployment_id,
    )


def _existing_for_key(request: FlowRunRequest) -> FlowRunCreated | None:
    existing = unique_row(FlowRun.objects.filter(idempotency_key=request.idempotency_key))
    if existing is None:
        return None
    if existing.idempotency_fingerprint != request.fingerprint():
        raise ValidationFailed(
            "This idempotency key was already used for a different request.",
            details={"idempotency_key": request.idempotency_key, "flow_run_id": str(existing.id)},
        )
    return FlowRunCreated(run=existing, created=False)


def _parameters(request: FlowRunRequest) -> dict[str, Any]:
    deployment = request.deployment
    if deployment is None:
        validate_parameters({}, request.parameters)
        return request.parameters
    merged = {**deployment.parameters, **request.parameters}
    validate_parameters(deployment.parameter_schema if deployment.enforce_parameter_schema else {}, merged)
    return merged


def flow_run_create(*, workspace: Workspace, actor: Actor, request: FlowRunRequest) -> FlowRunCreated:
    """Create a run (from a deployment, or ad hoc for a flow run locally). Same key, same body → same run."""
    if request.deployment is not None and not request.idempotency_key and not request.parent_task_run_id:
        # The common case writes with one statement, atomic by itself: no transaction needed.
        return _flow_run_create(workspace=workspace, actor=actor, request=request)
    with transaction.atomic():
        return _flow_run_create(workspace=workspace, actor=actor, request=request)


def _flow_run_create(*, workspace: Workspace, actor: Actor, request: FlowRunRequest) -> FlowRunCreated:
    if request.idempotency_key:
        found = _existing_for_key(request)
        if found is not None:
            return found
    deployment = request.deployment
    if deployment is not None:
        flow = deployment.flow
    elif request.flow_name:
        flow, _ = Flow.objects.get_or_create(workspace=workspace, name=request.flow_name)
    else:
        raise ValidationFailed("A flow run needs a deployment or a flow name.")
    if request.parent_task_run_id and not TaskRun.objects.filter(pk=request.parent_task_run_id).exists():
        raise NotFound("Parent task run not found.")
    now = timezone.now()
    proposed = request.state or StateSpec(type=StateType.SCHEDULED, details={"scheduled_time": now.isoformat()})
    run = FlowRun(
        workspace=workspace,
        flow=flow,
        deployment=deployment,
        name=request.name or run_name(),
        parameters=_parameters(request),
        tags=sorted({*(deployment.tags if deployment else []), *request.tags}),
        idempotency_key=request.idempotency_key or None,
        idempotency_fingerprint=request.fingerprint() if request.idempotency_key else "",
        parent_task_run_id=request.parent_task_run_id,
        work_pool_id=deployment.work_pool_id if deployment else None,
        work_queue_id=deployment.work_queue_id if deployment else None,
        job_variables={**(deployment.job_variables if deployment else {}), **request.job_variables},
        max_retries=deployment.retries if deployment else 0,
        retry_delay_seconds=deployment.retry_delay_seconds if deployment else 0,
        created_by=actor.principal.user,
    )
    ctx = evaluate(FLOW_RUN_POLICY, TransitionContext(run=run, initial=None, proposed=proposed, now=now))
    if ctx.status != ResultStatus.ACCEPT:
        raise ValidationFailed(f"The initial state was refused: {ctx.reason}", details={"state": proposed.type})
    book_state(run, None, ctx.proposed, now)
    on_flow_run_state(run, ctx.proposed)
    rows = [
        Row(run),
        Row(
            FlowRunState(
                flow_run=run, type=run.state_type, name=run.state_name, timestamp=now, details=ctx.proposed.details
            )
        ),
        Row(event := _flow_run_event_build(run, None, ctx.proposed, now), skip_conflicts=True),
    ]
    if request.idempotency_key:
        try:
            with transaction.atomic():
                insert_rows(rows)
        except IntegrityError:
            # Another request with the same key won the race: answer with its run.
            found = _existing_for_key(request)
            if found is None:
                raise
            return found
    else:
        insert_rows(rows)
    events_announce([event])
    _announce(run)
    return FlowRunCreated(run=run, created=True)


def _locked(run_id: uuid.UUID) -> FlowRun:
    run = FlowRun.objects.select_for_update(of=("self",)).select_related("flow").filter(pk=run_id).first()
    if run is None:
        raise NotFound("Flow run not found.")
    return run


@transaction.atomic
def flow_run_set_state(
    *,
    run_id: uuid.UUID,
    proposed: StateSpec,
    force: bool = False,
    epoch: int | None = None,
    allow_rerun: bool = False,
) -> OrchestrationResult:
    """Propose a state; the policy decides. A report carrying a stale epoch is refused (409)."""
    run = _locked(run_id)
    if epoch is not None and epoch != run.epoch:
        raise Conflict(
            "This report carries a stale epoch: the run was handed to someone else.",
            details={"epoch": epoch, "current_epoch": run.epoch},
        )
    initial = current_state(run)
    ctx = evaluate(
        FLOW_RUN_POLICY,
        TransitionContext(
            run=run, initial=initial, proposed=proposed, now=timezone.now(), force=force, allow_rerun=allow_rerun
        ),
    )
    changed = ctx.status == ResultStatus.ACCEPT and not ctx.noop
    if changed:
        _record(run, initial, ctx.proposed)
    return result_of(ctx, changed=changed)


def flow_run_cancel(*, run_id: uuid.UUID) -> OrchestrationResult:
    """Cancel: a run with no process yet ends CANCELLED at once; one that may be running goes CANCELLING."""
    with transaction.atomic():
        run = _locked(run_id)
        started = run.state_type in (StateType.PENDING, StateType.RUNNING) or (
            run.state_type == StateType.PAUSED and run.state_name != "Suspended"
        )
    target = StateType.CANCELLING if started else StateType.CANCELLED
    return flow_run_set_state(run_id=run_id, proposed=StateSpec(type=target, message="Cancelled by a user."))


def flow_run_retry(*, run_id: uuid.UUID) -> OrchestrationResult:
    """Run a finished run again: back to SCHEDULED, due now."""
    state = StateSpec(
        type=StateType.SCHEDULED,
        name="AwaitingRetry",
        message="Retried by a user.",
        details={"scheduled_time": timezone.now().isoformat()},
    )
    return flow_run_set_state(run_id=run_id, proposed=state, allow_rerun=True)


@dataclass(frozen=True)
class BatchOutcome:
    id: uuid.UUID
    ok: bool
    detail: str


def flow_runs_cancel(*, run_ids: list[uuid.UUID]) -> list[BatchOutcome]:
    outcomes = []
    for run_id in run_ids:
        try:
            result = flow_run_cancel(run_id=run_id)
        except (NotFound, Conflict) as exc:
            outcomes.append(BatchOutcome(id=run_id, ok=False, detail=exc.message))
            continue
        ok = result.status == ResultStatus.ACCEPT
        outcomes.append(BatchOutcome(id=run_id, ok=ok, detail=result.state.type if ok else result.reason))
    return outcomes


@transaction.atomic
def flow_runs_delete(*, run_ids: list[uuid.UUID]) -> list[BatchOutcome]:
    """Delete runs that are not in flight (scheduled, paused-suspended or finished); refuse the others."""
    runs = {run.id: run for run in FlowRun.objects.select_for_update().filter(pk__in=run_ids)}
    deletable = [
        run_id
        for run_id, run in runs.items()
        if run.state_type not in ACTIVE_TYPES | {StateType.PAUSED} or run.state_name == "Suspended"
    ]
    FlowRun.objects.filter(pk__in=deletable).delete()
    outcomes = []
    for run_id in run_ids:
        if run_id not in runs:
            outcomes.append(BatchOutcome(id=run_id, ok=False, detail="Flow run not found."))
        elif run_id in deletable:
            outcomes.append(BatchOutcome(id=run_id, ok=True, detail="deleted"))
        else:
            state = runs[run_id].state_type
            outcomes.append(BatchOutcome(id=run_id, ok=False, detail=f"The run is {state}; cancel it first."))
    return outcomes
