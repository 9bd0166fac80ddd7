"""Acceptance 1: every (from, to) pair for flow runs and task runs, against an independent table."""

from __future__ import annotations

import uuid

import pytest

from controlplane.runs.models import FlowRunState, TaskRun
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.services.task_runs import TaskRunReport, task_runs_report
from controlplane.runs.states import TERMINAL_TYPES, StateType
from tests.support.runs import in_prod, make_run
from tests.support.tenants import World

TYPES = list(StateType.values)
S = StateType


def expected_flow_run(from_type: str, to_type: str) -> tuple[ResultStatus, bool]:
    """(status, whether a new state is written) for default-named states, no retries, run due."""
    if to_type == S.PENDING and from_type in (S.PENDING, S.RUNNING, S.CANCELLING, S.PAUSED):
        return ResultStatus.ABORT, False
    if from_type == to_type == S.SCHEDULED:
        return ResultStatus.ACCEPT, True  # another scheduled time: a reschedule, not a repeat
    if from_type == to_type:
        return ResultStatus.ACCEPT, False
    if from_type in TERMINAL_TYPES:
        return ResultStatus.REJECT, False
    if from_type == S.CANCELLING and to_type != S.CANCELLED:
        return ResultStatus.REJECT, False
    if from_type == S.PAUSED and to_type == S.SCHEDULED:
        return ResultStatus.REJECT, False  # only suspended runs are rescheduled
    return ResultStatus.ACCEPT, True


def expected_task_run(from_type: str, to_type: str) -> tuple[ResultStatus, bool]:
    if from_type == to_type:
        return ResultStatus.ACCEPT, False
    if from_type in TERMINAL_TYPES:
        return ResultStatus.REJECT, False
    if from_type == S.CANCELLING and to_type != S.CANCELLED:
        return ResultStatus.REJECT, False
    return ResultStatus.ACCEPT, True


@pytest.mark.parametrize("to_type", TYPES)
@pytest.mark.parametrize("from_type", TYPES)
def test_flow_run_transition_table(world: World, from_type: str, to_type: str) -> None:
    run = make_run(world, from_type)
    with in_prod(world):
        before = FlowRunState.objects.filter(flow_run=run).count()
        result = flow_run_set_state(run_id=run.pk, proposed=StateSpec(type=to_type))
        status, writes = expected_flow_run(from_type, to_type)
        assert (result.status, result.changed) == (status, writes), result.reason
        run.refresh_from_db()
        assert run.state_type == (to_type if writes else from_type)
        assert FlowRunState.objects.filter(flow_run=run).count() == before + int(writes)


@pytest.mark.parametrize("to_type", TYPES)
@pytest.mark.parametrize("from_type", TYPES)
def test_task_run_transition_table(world: World, from_type: str, to_type: str) -> None:
    flow_run = make_run(world, S.RUNNING)
    task_id = uuid.uuid4()
    with in_prod(world):
        first = task_runs_report(
            workspace=world.prod,
            reports=[TaskRunReport(id=task_id, flow_run_id=flow_run.pk, task_key="t", state=StateSpec(type=from_type))],
        )
        assert first[0].result.status == ResultStatus.ACCEPT
        (outcome,) = task_runs_report(
            workspace=world.prod, reports=[TaskRunReport(id=task_id, state=StateSpec(type=to_type))]
        )
        status, writes = expected_task_run(from_type, to_type)
        assert (outcome.result.status, outcome.result.changed) == (status, writes), outcome.result.reason
        task = TaskRun.objects.get(pk=task_id)
        assert task.state_type == (to_type if writes else from_type)
        assert task.states.count() == 1 + int(writes)
