"""Run a proposal through a policy, then book the accepted state onto the run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from controlplane.runs.orchestration.context import OrchestrationResult, ResultStatus, StateSpec, TransitionContext
from controlplane.runs.orchestration.rules import Rule, scheduled_time
from controlplane.runs.states import SUSPENDED, TERMINAL_TYPES, StateType


def current_state(run: Any) -> StateSpec | None:
    if run.state_timestamp is None:
        return None
    return StateSpec(
        type=run.state_type,
        name=run.state_name,
        message=run.state_message,
        details=run.state_details,
        timestamp=run.state_timestamp,
    )


def evaluate(policy: Sequence[Rule], ctx: TransitionContext) -> TransitionContext:
    for rule in policy:
        if ctx.decided:
            break
        if ctx.force and rule.bypassed_by_force:
            continue
        if rule.applies(ctx):
            rule.before_transition(ctx)
    return ctx


def book_state(run: Any, initial: StateSpec | None, final: StateSpec, at: datetime) -> list[str]:
    """Update the run's denormalised state and times; return the changed field names."""
    changed = ["state_type", "state_name", "state_timestamp", "state_message", "state_details"]
    was_running = initial is not None and initial.type == StateType.RUNNING
    # A live pause resumes the same attempt in the same process: it is not another run.
    resumed = initial is not None and initial.type == StateType.PAUSED and initial.name != SUSPENDED
    if final.type == StateType.RUNNING and not was_running and not resumed:
        run.run_count += 1
        changed.append("run_count")
        if run.start_time is None:
            run.start_time = at
            changed.append("start_time")
    if was_running and final.type != StateType.RUNNING and run.state_timestamp is not None:
        run.total_run_time += max(0.0, (at - run.state_timestamp).total_seconds())
        changed.append("total_run_time")
    if final.type in TERMINAL_TYPES:
        run.end_time = at
        changed.append("end_time")
    if final.type == StateType.SCHEDULED and hasattr(run, "next_scheduled_start_time"):
        run.next_scheduled_start_time = scheduled_time(final) or at
        changed.append("next_scheduled_start_time")
        if run.expected_start_time is None:
            run.expected_start_time = run.next_scheduled_start_time
            changed.append("expected_start_time")
    run.state_type, run.state_name, run.state_timestamp = final.type, final.name, at
    run.state_message, run.state_details = final.message, final.details
    return changed


def result_of(ctx: TransitionContext, *, changed: bool) -> OrchestrationResult:
    state = ctx.proposed if ctx.status == ResultStatus.ACCEPT and not ctx.noop else (ctx.initial or ctx.proposed)
    return OrchestrationResult(
        status=ctx.status, state=state, reason=ctx.reason, delay_seconds=ctx.delay_seconds, changed=changed
    )
