"""The lease reaper: PENDING back to SCHEDULED, RUNNING to CRASHED (then a retry if allowed), once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from controlplane.runs.models import FlowRun
from controlplane.runs.services.flow_runs import flow_run_cancel
from controlplane.runs.states import StateType
from controlplane.services.leases import reap
from tests.controlplane.workpools.test_dispatch_support import (
    RUNNING,
    Fleet,
    claim,
    due_run,
    expire_lease,
    hello,
    make_fleet,
    set_state_url,
    state_of,
)
from tests.support.clients import bearer
from tests.support.runs import in_prod
from tests.support.tenants import World, build_world


def _running(fleet: Fleet, **fields: Any) -> tuple[FlowRun, str]:
    run = due_run(fleet, **fields)
    (claimed,) = claim(fleet, hello(fleet), capacity=1)
    response = bearer(claimed["run_token"]).post(set_state_url(run.pk), {**RUNNING, "epoch": 1}, format="json")
    assert response.status_code == 200, response.content
    return run, claimed["run_token"]


def test_expired_pending_run_goes_back_to_scheduled_due_now(world: World) -> None:
    fleet = make_fleet(world)
    run = due_run(fleet)
    claim(fleet, hello(fleet))
    expire_lease(run)
    assert reap() == 1
    run.refresh_from_db()
    assert (run.state_type, run.epoch, run.lease_owner, run.lease_expires_at) == (StateType.SCHEDULED, 1, None, None)
    assert reap() == 0  # idempotent
    assert claim(fleet, hello(fleet, "b"))[0]["flow_run"]["epoch"] == 2


def test_unexpired_leases_are_left_alone(world: World) -> None:
    fleet = make_fleet(world)
    run = due_run(fleet)
    claim(fleet, hello(fleet))
    assert reap() == 0
    assert state_of(run)[0] == StateType.PENDING


def test_expired_running_run_crashes_and_its_token_dies(world: World) -> None:
    fleet = make_fleet(world)
    run, token = _running(fleet)
    expire_lease(run)
    assert reap() == 1
    assert state_of(run) == (StateType.CRASHED, "Crashed")
    assert "Agent lost" in run.state_message
    late = bearer(token).post(set_state_url(run.pk), {"state": {"type": "COMPLETED"}, "epoch": 1}, format="json")
    assert late.status_code == 401
    by_agent = fleet.worker.post(set_state_url(run.pk), {"state": {"type": "COMPLETED"}, "epoch": 1}, format="json")
    assert by_agent.status_code == 409
    assert state_of(run)[0] == StateType.CRASHED


def test_expired_running_run_with_retries_left_is_retried(world: World) -> None:
    fleet = make_fleet(world)
    run, _ = _running(fleet, max_retries=1)
    expire_lease(run)
    reap()
    assert state_of(run) == (StateType.SCHEDULED, "AwaitingRetry")
    assert list(run.states.values_list("type", flat=True))[-2:] == [StateType.CRASHED, StateType.SCHEDULED]
    (again,) = claim(fleet, hello(fleet, "other"))
    assert again["flow_run"]["epoch"] == 2
    bearer(again["run_token"]).post(set_state_url(run.pk), {**RUNNING, "epoch": 2}, format="json")
    run.refresh_from_db()
    assert run.run_count == 2
    expire_lease(run)
    reap()
    assert state_of(run)[0] == StateType.CRASHED  # no retries left


def test_expired_cancelling_run_is_cancelled(world: World) -> None:
    fleet = make_fleet(world)
    run, _ = _running(fleet)
    with in_prod(world):
        flow_run_cancel(run_id=run.pk)
    assert state_of(run)[0] == StateType.CANCELLING
    expire_lease(run)
    reap()
    assert state_of(run)[0] == StateType.CANCELLED


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    return build_world()


def test_two_reapers_at_once_handle_each_run_once(committed_world: World) -> None:
    fleet = make_fleet(committed_world)
    runs = [due_run(fleet) for _ in range(40)]
    agent = hello(fleet)
    while claim(fleet, agent, capacity=20):
        pass
    for run in runs:
        expire_lease(run)
    handled: list[int] = []
    barrier = threading.Barrier(2)

    def reaper() -> None:
        try:
            barrier.wait()
            handled.append(reap(batch_size=100))
        finally:
            connection.close()

    threads = [threading.Thread(target=reaper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(handled) == 40
    for run in runs:
        assert list(run.states.values_list("type", flat=True)) == ["SCHEDULED", "PENDING", "SCHEDULED"]
