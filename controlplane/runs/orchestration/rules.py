"""The orchestration rules, small and readable top to bottom.

Each rule names the transitions it watches (`from_types` → `to_types`; None means any, and
a run's first state has no `from`) and decides in `before_transition` by calling one of the
context's verbs. Rules marked `bypassed_by_force` may be skipped by a privileged
`force=true`; the others protect data and always run.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.utils.dateparse import parse_datetime

from controlplane.runs.orchestration.context import StateSpec, TransitionContext
from controlplane.runs.states import (
    ACTIVE_TYPES,
    AWAITING_CONCURRENCY_SLOT,
    AWAITING_RETRY,
    LATE,
    NAMED_STATE_TYPES,
    SUSPENDED,
    TERMINAL_TYPES,
    StateType,
)

S = StateType


class Rule:
    from_types: ClassVar[frozenset[str] | None] = None
    to_types: ClassVar[frozenset[str] | None] = None
    bypassed_by_force: ClassVar[bool] = False

    def applies(self, ctx: TransitionContext) -> bool:
        initial_type = ctx.initial.type if ctx.initial else None
        if self.from_types is not None and initial_type not in self.from_types:
            return False
        return self.to_types is None or ctx.proposed.type in self.to_types

    def before_transition(self, ctx: TransitionContext) -> None:
        raise NotImplementedError


def scheduled_time(state: StateSpec) -> datetime | None:
    value = state.details.get("scheduled_time")
    return parse_datetime(value) if isinstance(value, str) else None


class NamedStatesKeepTheirType(Rule):
    """`Late` is a SCHEDULED state, `Cached` a COMPLETED one, and so on."""

    def before_transition(self, ctx: TransitionContext) -> None:
        expected = NAMED_STATE_TYPES.get(ctx.proposed.name)
        if expected is not None and expected != ctx.proposed.type:
            ctx.abort(f"{ctx.proposed.name} is a {expected} state, not {ctx.proposed.type}.")


class PreventDuplicateSubmission(Rule):
    """A run is submitted (PENDING) once; a second submission would execute it twice."""

    from_types = frozenset({S.PENDING, S.RUNNING, S.CANCELLING, S.PAUSED})
    to_types = frozenset({S.PENDING})

    def before_transition(self, ctx: TransitionContext) -> None:
        assert ctx.initial is not None
        ctx.abort(f"The run is already {ctx.initial.type}; it cannot be submitted again.")


class RepeatedProposalsAreIdempotent(Rule):
    """Reports are retried over flaky networks: the same state twice changes nothing."""

    def before_transition(self, ctx: TransitionContext) -> None:
        if ctx.initial is not None and ctx.initial.same_as(ctx.proposed):
            ctx.accept_as_noop(f"The run is already {ctx.initial.name}.")


class TerminalStatesAreFinal(Rule):
    """A finished run stays finished, unless a user explicitly retries it (back to SCHEDULED)."""

    from_types = TERMINAL_TYPES

    def before_transition(self, ctx: TransitionContext) -> None:
        assert ctx.initial is not None
        if ctx.allow_rerun and ctx.proposed.type == S.SCHEDULED:
            return
        ctx.reject(f"The run is {ctx.initial.type}, a final state; it cannot become {ctx.proposed.type}.")


class CancellingOnlyEndsCancelled(Rule):
    from_types = frozenset({S.CANCELLING})
    bypassed_by_force = True

    def before_transition(self, ctx: TransitionContext) -> None:
        if ctx.proposed.type != S.CANCELLED:
            ctx.reject(f"The run is being cancelled; it can only become CANCELLED, not {ctx.proposed.type}.")


class OnlyScheduledRunsBecomeLate(Rule):
    to_types = frozenset({S.SCHEDULED})

    def before_transition(self, ctx: TransitionContext) -> None:
        if ctx.proposed.name == LATE and (ctx.initial is None or ctx.initial.type != S.SCHEDULED):
            ctx.reject("Only a SCHEDULED run can become Late.")


class ResumeOnlyLivePauses(Rule):
    """A paused run resumes in place until its pause times out; a suspended one is rescheduled."""

    from_types = frozenset({S.PAUSED})
    to_types = frozenset({S.RUNNING, S.SCHEDULED})
    bypassed_by_force = True

    def before_transition(self, ctx: TransitionContext) -> None:
        assert ctx.initial is not None
        suspended = ctx.initial.name == SUSPENDED
        if ctx.proposed.type == S.SCHEDULED and not suspended:
            ctx.reject("A paused run resumes to RUNNING; only a suspended run is rescheduled.")
        elif ctx.proposed.type == S.RUNNING and suspended:
            ctx.reject("A suspended run's process has exited; resume it to SCHEDULED so an agent picks it up.")
        elif ctx.proposed.type == S.RUNNING:
            timeout = ctx.initial.details.get("pause_timeout")
            deadline = parse_datetime(timeout) if isinstance(timeout, str) else None
            if deadline is not None and deadline < ctx.now:
                ctx.reject("The pause timed out; the run can no longer be resumed.")


class PausesCarryAValidInputSchema(Rule):
    """A run that pauses for typed input says what it waits for: a schema the resume endpoint can check."""

    to_types = frozenset({S.PAUSED})

    def before_transition(self, ctx: TransitionContext) -> None:
        from controlplane.core.errors import ValidationFailed
        from controlplane.flows.parameters import check_parameter_schema

        schema = ctx.proposed.details.get("run_input_schema")
        if schema is None:
            return
        if not isinstance(schema, dict):
            ctx.abort("run_input_schema must be a JSON Schema object.")
            return
        try:
            check_parameter_schema(schema, field="run_input_schema")
        except ValidationFailed as exc:
            ctx.abort(exc.message)


class SuspendNeedsADeployment(Rule):
    """A suspended run's process exits; only a deployment's run can be started again by an agent."""

    to_types = frozenset({S.PAUSED})

    def before_transition(self, ctx: TransitionContext) -> None:
        if ctx.proposed.name == SUSPENDED and getattr(ctx.run, "deployment_id", None) is None:
            ctx.abort("Only a run of a deployment can be suspended (nothing could start it again); pause it instead.")


class WaitForScheduledTime(Rule):
    """Agents may claim a run a few seconds early; it starts running on time."""

    from_types = frozenset({S.SCHEDULED, S.PENDING})
    to_types = frozenset({S.RUNNING})
    bypassed_by_force = True

    def before_transition(self, ctx: TransitionContext) -> None:
        due = getattr(ctx.run, "next_scheduled_start_time", None)
        if due is not None and due > ctx.now + timedelta(milliseconds=100):
            ctx.wait((due - ctx.now).total_seconds(), "The run is not due yet.")


class DeploymentConcurrencyLimit(Rule):
    """A deployment's limit counts its runs in PENDING, RUNNING and CANCELLING."""

    from_types = frozenset({S.SCHEDULED})
    to_types = frozenset({S.PENDING, S.RUNNING})
    bypassed_by_force = True

    def before_transition(self, ctx: TransitionContext) -> None:
        from controlplane.flows.models import CollisionStrategy, Deployment

        deployment_id = getattr(ctx.run, "deployment_id", None)
        if deployment_id is None:
            return
        # Lock the deployment row: concurrent claims of its runs count one at a time.
        deployment = Deployment.objects.select_for_update().filter(pk=deployment_id).first()
        if deployment is None or deployment.concurrency_limit is None:
            return
        active = deployment.runs.filter(state_type__in=ACTIVE_TYPES).exclude(pk=ctx.run.pk).count()
        if active < deployment.concurrency_limit:
            return
        if deployment.collision_strategy == CollisionStrategy.CANCEL_NEW:
            ctx.replace(
                StateSpec(type=S.CANCELLED, message="Deployment concurrency limit reached."),
                f"The deployment allows {deployment.concurrency_limit} active runs; the new run was cancelled.",
            )
        else:
            ctx.replace(
                StateSpec(
                    type=S.SCHEDULED,
                    name=AWAITING_CONCURRENCY_SLOT,
                    details={"scheduled_time": ctx.now.isoformat()},
                ),
                f"The deployment allows {deployment.concurrency_limit} active runs; the run waits for a slot.",
            )


class RetryFailedRuns(Rule):
    """A failure with retries left becomes AwaitingRetry, due after the retry delay."""

    from_types = frozenset({S.RUNNING})
    to_types = frozenset({S.FAILED})
    bypassed_by_force = True

    def before_transition(self, ctx: TransitionContext) -> None:
        run = ctx.run
        if ctx.proposed.details.get("retriable") is False or run.run_count > run.max_retries:
            return
        delay = ctx.proposed.details.get("retry_delay_seconds", getattr(run, "retry_delay_seconds", 0))
        delay = float(delay) if isinstance(delay, int | float) and delay >= 0 else 0.0
        due = ctx.now + timedelta(seconds=delay)
        ctx.replace(
            StateSpec(
                type=S.SCHEDULED,
                name=AWAITING_RETRY,
                message=ctx.proposed.message,
                details={"scheduled_time": due.isoformat(), "retry_of_failure": ctx.proposed.message[:500]},
            ),
            f"Retry {run.run_count} of {run.max_retries} in {delay:g}s.",
        )


class TasksNeedAnActiveFlowRun(Rule):
    """A task cannot start inside a flow run that has finished or is being cancelled."""

    to_types = frozenset({S.PENDING, S.RUNNING})

    def before_transition(self, ctx: TransitionContext) -> None:
        flow_run = getattr(ctx.run, "flow_run", None)
        if flow_run is not None and (flow_run.state_type in TERMINAL_TYPES or flow_run.state_type == S.CANCELLING):
            ctx.abort(f"The flow run is {flow_run.state_type}; its tasks cannot start.")


class TaskTagLimitOfZeroAborts(Rule):
    """A tag limited to 0 slots (a limit named `tag:<tag>`) stops its task runs before they start.

    Slots of other tag limits are held by the SDK as leases while a task runs (reports are
    asynchronous, so the server could not make a task wait); this rule guards what must never run.
    """

    to_types = frozenset({S.PENDING, S.RUNNING})

    def before_transition(self, ctx: TransitionContext) -> None:
        tags = getattr(ctx.run, "tags", None)
        if not tags:
            return
        blocked = sorted(_tags_limited_to_zero(ctx.run.workspace_id, ctx.now) & set(tags))
        if blocked:
            names = ", ".join(f"'tag:{tag}'" for tag in blocked)
            ctx.abort(f"The concurrency limit {names} is 0: task runs tagged {', '.join(blocked)} never run.")


_zero_tags_memo = threading.local()


def _tags_limited_to_zero(workspace_id: Any, now: datetime) -> frozenset[str]:
    # Every entry of one task-run batch shares `now`: one query per batch, not one per task run.
    key = (workspace_id, now)
    if getattr(_zero_tags_memo, "key", None) != key:
        from controlplane.concurrency.selectors import tags_limited_to_zero

        _zero_tags_memo.tags, _zero_tags_memo.key = tags_limited_to_zero(workspace_id), key
    tags: frozenset[str] = _zero_tags_memo.tags
    return tags
