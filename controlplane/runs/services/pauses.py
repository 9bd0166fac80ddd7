"""Resuming paused and suspended flow runs with typed input, and failing pauses that time out.

A flow pauses itself (the SDK proposes PAUSED, or PAUSED named Suspended) and says in the
state's details what it waits for:

- `pause_key`: where the input it is resumed with is stored (a `FlowRunInput` key), so a
  suspended run that starts again finds the answer and does not pause a second time;
- `run_input_schema`: the JSON Schema the input must match (the UI renders a form from it);
- `pause_timeout`: when the pause expires; a run still paused then ends FAILED.

A paused run's process waits: resuming moves it back to RUNNING. A suspended run's process
has exited: resuming moves it to SCHEDULED, due now, and an agent runs it again.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from controlplane.core.errors import Conflict, NotFound, ValidationFailed
from controlplane.core.tenancy import tenant_scope
from controlplane.flows.parameters import validate_parameters
from controlplane.orgs.principals import Actor
from controlplane.runs.models import FlowRun, FlowRunInput
from controlplane.runs.orchestration.context import OrchestrationResult, ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.states import SUSPENDED, StateType

PAUSE_KEY = "pause_key"
PAUSE_INPUT_SCHEMA = "run_input_schema"
PAUSE_TIMEOUT = "pause_timeout"
PAUSE_TIMED_OUT_MESSAGE = "The run was paused and not resumed before its pause timed out."
EXPIRE_BATCH_SIZE = 200


def _validated_input(schema: Any, run_input: dict[str, Any] | None) -> dict[str, Any] | None:
    if isinstance(schema, dict) and schema:
        if run_input is None:
            raise ValidationFailed(
                "This run waits for input: send it as `input`, matching the schema in the paused state's details.",
                details={"input": ["This field is required."], "schema": schema},
            )
        try:
            validate_parameters(schema, run_input)
        except ValidationFailed as exc:
            message = exc.message.replace("Parameters do not match the parameter schema", "The input does not match")
            raise ValidationFailed(message, details=exc.details) from None
    elif run_input is not None:
        validate_parameters(None, run_input)  # the size limit still holds
    return run_input


@transaction.atomic
def flow_run_resume(*, run_id: uuid.UUID, run_input: dict[str, Any] | None, actor: Actor) -> OrchestrationResult:
    """Resume a paused run (to RUNNING) or a suspended one (to SCHEDULED, due now), storing its input.

    The input is validated against the schema the run paused with (422 on a mismatch); a run
    that is not paused, or whose pause timed out, answers 409.
    """
    run: FlowRun | None = FlowRun.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
    if run is None:
        raise NotFound("Flow run not found.")
    if run.state_type != StateType.PAUSED:
        raise Conflict(
            f"The run is {run.state_type}; only a paused run can be resumed.",
            details={"state_type": run.state_type},
        )
    details = run.state_details or {}
    value = _validated_input(details.get(PAUSE_INPUT_SCHEMA), run_input)
    now = timezone.now()
    if run.state_name == SUSPENDED:
        proposed = StateSpec(
            type=StateType.SCHEDULED,
            message="Resumed; the run starts again.",
            details={"scheduled_time": now.isoformat()},
        )
    else:
        proposed = StateSpec(type=StateType.RUNNING, message="Resumed.")
    result = flow_run_set_state(run_id=run.pk, proposed=proposed)
    key = details.get(PAUSE_KEY)
    if result.status == ResultStatus.ACCEPT and result.changed and isinstance(key, str) and key:
        FlowRunInput.objects.update_or_create(
            workspace_id=run.workspace_id,
            flow_run=run,
            key=key[:255],
            defaults={"value": value if value is not None else {}, "created_by": actor.principal.user},
        )
    return result


def _pause_deadline(details: dict[str, Any]) -> Any:
    value = details.get(PAUSE_TIMEOUT)
    return parse_datetime(value) if isinstance(value, str) else None


def paused_runs_expire(*, batch_size: int = EXPIRE_BATCH_SIZE) -> int:
    """Fail runs paused past their `pause_timeout` (a suspended run has no process to do it). Safe on several hosts."""
    now = timezone.now()
    paused = FlowRun.dangerously_unscoped.filter(state_type=StateType.PAUSED, state_details__has_key=PAUSE_TIMEOUT)
    due = [
        (run_id, organization_id, workspace_id)
        for run_id, organization_id, workspace_id, details in paused.values_list(
            "id", "workspace__organization_id", "workspace_id", "state_details"
        )
        if (deadline := _pause_deadline(details or {})) is not None and deadline <= now
    ][:batch_size]
    expired = 0
    for run_id, organization_id, workspace_id in due:
        with (
            transaction.atomic(),
            tenant_scope(organization_id=organization_id, workspace_id=workspace_id),
        ):
            # Taken again under a lock: a run resumed in the meantime is left alone.
            run = FlowRun.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=run_id).first()
            if run is None or run.state_type != StateType.PAUSED:
                continue
            deadline = _pause_deadline(run.state_details or {})
            if deadline is None or deadline > now:
                continue
            result = flow_run_set_state(
                run_id=run.pk, proposed=StateSpec(type=StateType.FAILED, message=PAUSE_TIMED_OUT_MESSAGE)
            )
            expired += int(result.changed)
    return expired
