"""The rules one by one: waiting, retries, concurrency, pauses, lateness, tasks, epochs, force."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.core.errors import Conflict
from controlplane.events.models import Event
from controlplane.flows.models import CollisionStrategy
from controlplane.runs.models import FlowRunState
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import flow_run_cancel, flow_run_retry, flow_run_set_state
from controlplane.runs.services.task_runs import TaskRunReport, task_runs_report
from controlplane.runs.states import StateType
from tests.support.runs import in_prod, make_deployment, make_run
from tests.support.tenants import World

S = StateType


def _propose(run_id: uuid.UUID, type_: str, name: str = "", **kwargs: object) -> object:
    details = kwargs.pop("details", {})
    return flow_run_set_state(run_id=run_id, proposed=StateSpec(type=type_, name=name, details=details), **kwargs)  # type: ignore[arg-type]


def test_a_run_not_due_waits_until_its_time(world: World) -> None:
    run = make_run(world, S.PENDING)
    with in_prod(world):
        run.next_scheduled_start_time = timezone.now() + timedelta(seconds=30)
        run.save(update_fields=["next_scheduled_start_time"])
        result = _propose(run.pk, S.RUNNING)
        assert result.status == ResultStatus.WAIT  # type: ignore[attr-defined]
        assert 25 < result.delay_seconds <= 30  # type: ignore[attr-defined]
        forced = _propose(run.pk, S.RUNNING, force=True)
        assert forced.status == ResultStatus.ACCEPT  # type: ignore[attr-defined]


def test_failures_retry_until_retries_run_out(world: World) -> None:
    run = make_run(world, S.PENDING, max_retries=2, retry_delay_seconds=10)
    with in_prod(world):
        for attempt in (1, 2):
            assert _propose(run.pk, S.RUNNING).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
            retry = _propose(run.pk, S.FAILED)
            assert retry.state.name == "AwaitingRetry"  # type: ignore[attr-defined]
            assert f"Retry {attempt} of 2" in retry.reason  # type: ignore[attr-defined]
            run.refresh_from_db()
            assert run.next_scheduled_start_time is not None
            assert run.next_scheduled_start_time > timezone.now() + timedelta(seconds=8)
            run.next_scheduled_start_time = timezone.now()
            run.save(update_fields=["next_scheduled_start_time"])
            assert _propose(run.pk, S.PENDING).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        assert _propose(run.pk, S.RUNNING).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        final = _propose(run.pk, S.FAILED)
        assert final.state.type == S.FAILED  # type: ignore[attr-defined]
        run.refresh_from_db()
        assert run.run_count == 3
        names = list(FlowRunState.objects.filter(flow_run=run).order_by("id").values_list("name", flat=True))
        assert names.count("AwaitingRetry") == 2
        assert names[-1] == "Failed"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (CollisionStrategy.ENQUEUE, ("SCHEDULED", "AwaitingConcurrencySlot")),
        (CollisionStrategy.CANCEL_NEW, ("CANCELLED", "Cancelled")),
    ],
)
def test_deployment_concurrency_limit(world: World, strategy: str, expected: tuple[str, str]) -> None:
    deployment = make_deployment(world, concurrency_limit=1, collision_strategy=strategy)
    busy = make_run(world, S.SCHEDULED, deployment=deployment)
    second = make_run(world, S.SCHEDULED, deployment=deployment)
    with in_prod(world):
        assert _propose(busy.pk, S.PENDING).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        result = _propose(second.pk, S.PENDING)
        assert (result.state.type, result.state.name) == expected  # type: ignore[attr-defined]
        assert "allows 1 active runs" in result.reason  # type: ignore[attr-defined]
        assert _propose(busy.pk, S.RUNNING).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        assert _propose(busy.pk, S.COMPLETED).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        if strategy == CollisionStrategy.ENQUEUE:
            assert _propose(second.pk, S.PENDING).state.type == S.PENDING  # type: ignore[attr-defined]


def test_pause_resume_and_timeouts(world: World) -> None:
    run = make_run(world, S.RUNNING)
    with in_prod(world):
        later = (timezone.now() + timedelta(minutes=5)).isoformat()
        assert _propose(run.pk, S.PAUSED, details={"pause_timeout": later}).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        assert _propose(run.pk, S.RUNNING).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        expired = (timezone.now() - timedelta(seconds=1)).isoformat()
        _propose(run.pk, S.PAUSED, details={"pause_timeout": expired})
        refused = _propose(run.pk, S.RUNNING)
        assert refused.status == ResultStatus.REJECT  # type: ignore[attr-defined]
        assert "timed out" in refused.reason  # type: ignore[attr-defined]


def test_suspended_runs_are_rescheduled_not_resumed(world: World) -> None:
    run = make_run(world, S.PAUSED, name="Suspended")
    with in_prod(world):
        assert _propose(run.pk, S.RUNNING).status == ResultStatus.REJECT  # type: ignore[attr-defined]
        assert _propose(run.pk, S.SCHEDULED).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]


def test_only_scheduled_runs_become_late(world: World) -> None:
    scheduled, running = make_run(world, S.SCHEDULED), make_run(world, S.RUNNING)
    with in_prod(world):
        assert _propose(scheduled.pk, S.SCHEDULED, "Late").status == ResultStatus.ACCEPT  # type: ignore[attr-defined]
        assert _propose(running.pk, S.SCHEDULED, "Late").status == ResultStatus.REJECT  # type: ignore[attr-defined]
        assert _propose(scheduled.pk, S.RUNNING, "Late").status == ResultStatus.ABORT  # type: ignore[attr-defined]


def test_tasks_cannot_start_in_a_finished_flow_run(world: World) -> None:
    finished = make_run(world, S.COMPLETED)
    with in_prod(world):
        (outcome,) = task_runs_report(
            workspace=world.prod,
            reports=[
                TaskRunReport(id=uuid.uuid4(), flow_run_id=finished.pk, task_key="t", state=StateSpec(type=S.RUNNING))
            ],
        )
        assert outcome.result.status == ResultStatus.ABORT
        assert "COMPLETED" in outcome.result.reason


def test_a_stale_epoch_is_refused_and_changes_nothing(world: World) -> None:
    run = make_run(world, S.RUNNING, epoch=3)
    with in_prod(world):
        with pytest.raises(Conflict, match="stale epoch"):
            _propose(run.pk, S.COMPLETED, epoch=2)
        run.refresh_from_db()
        assert run.state_type == S.RUNNING
        assert _propose(run.pk, S.COMPLETED, epoch=3).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]


def test_force_never_reopens_a_finished_run(world: World) -> None:
    run = make_run(world, S.COMPLETED)
    with in_prod(world):
        assert _propose(run.pk, S.RUNNING, force=True).status == ResultStatus.REJECT  # type: ignore[attr-defined]
        assert flow_run_retry(run_id=run.pk).state.name == "AwaitingRetry"


def test_cancel_depends_on_whether_anything_runs(world: World) -> None:
    scheduled, running = make_run(world, S.SCHEDULED), make_run(world, S.RUNNING)
    with in_prod(world):
        assert flow_run_cancel(run_id=scheduled.pk).state.type == S.CANCELLED
        assert flow_run_cancel(run_id=running.pk).state.type == S.CANCELLING
        assert _propose(running.pk, S.COMPLETED).status == ResultStatus.REJECT  # type: ignore[attr-defined]
        assert _propose(running.pk, S.CANCELLED).status == ResultStatus.ACCEPT  # type: ignore[attr-defined]


def test_every_accepted_state_records_an_event_in_the_same_transaction(world: World) -> None:
    deployment = make_deployment(world, tags=["nightly"])
    run = make_run(world, S.RUNNING, deployment=deployment, tags=["nightly"])
    with in_prod(world):
        _propose(run.pk, S.COMPLETED)
        _propose(run.pk, S.RUNNING)  # refused: no event
        events = list(Event.objects.filter(resource_id=f"tether.flow-run.{run.pk}"))
    assert [event.event for event in events] == ["tether.flow-run.Completed"]
    related = {entry["tether.resource.id"] for entry in events[0].related}
    assert {f"tether.flow.{run.flow_id}", f"tether.deployment.{deployment.pk}", "tether.tag.nightly"} <= related
