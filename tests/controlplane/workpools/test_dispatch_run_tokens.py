"""Run tokens: confined to their workspace, their run and its subflows; dead once the claim ends."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from controlplane.apikeys.models import RunToken
from controlplane.runs.models import FlowRun, Log, TaskRun
from controlplane.runs.states import StateType
from tests.controlplane.workpools.test_dispatch_support import (
    RUNNING,
    Fleet,
    claim,
    due_run,
    hello,
    make_fleet,
    set_state_url,
)
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World


@pytest.fixture
def fleet(world: World) -> Fleet:
    return make_fleet(world)


def _claimed(fleet: Fleet) -> tuple[FlowRun, dict[str, Any], Any]:
    run = due_run(fleet)
    (claimed,) = claim(fleet, hello(fleet), capacity=1)
    return run, claimed, bearer(claimed["run_token"])


def _log(run_id: object, seq: int = 0) -> dict[str, Any]:
    return {
        "flow_run_id": str(run_id),
        "seq": seq,
        "level": 20,
        "message": "hi",
        "timestamp": timezone.now().isoformat(),
    }


def test_token_is_stored_hashed(fleet: Fleet) -> None:
    _, claimed, _ = _claimed(fleet)
    token = RunToken.dangerously_unscoped.get()
    assert claimed["run_token"] not in (token.prefix, token.secret_hash)
    assert claimed["run_token"] not in repr(token)


def test_token_reports_its_own_run(fleet: Fleet) -> None:
    run, _, client = _claimed(fleet)
    assert client.post(set_state_url(run.pk), {**RUNNING, "epoch": 1}, format="json").status_code == 200
    assert client.post(f"{PROD}/logs/", [_log(run.pk)], format="json").status_code == 201
    task = {
        "id": str(uuid.uuid4()),
        "flow_run_id": str(run.pk),
        "name": "t",
        "task_key": "t",
        "state": {"type": "RUNNING"},
    }
    assert client.post(f"{PROD}/task-runs/batch/", {"task_runs": [task]}, format="json").status_code == 200
    artifact = {"type": "markdown", "data": "# ok", "flow_run_id": str(run.pk)}
    assert client.post(f"{PROD}/artifacts/", artifact, format="json").status_code == 201
    assert client.get(f"{PROD}/flow-runs/{run.pk}/").status_code == 200


def test_token_gets_404_for_another_runs_writes_and_nothing_changes(fleet: Fleet) -> None:
    run, _, client = _claimed(fleet)
    other = due_run(fleet)
    other_task = TaskRun.dangerously_unscoped.create(workspace=fleet.world.prod, flow_run=other, name="x", task_key="x")
    assert client.post(set_state_url(other.pk), {**RUNNING}, format="json").status_code == 404
    # One foreign line refuses the whole batch.
    assert client.post(f"{PROD}/logs/", [_log(run.pk), _log(other.pk, 1)], format="json").status_code == 404
    assert (
        client.post(
            f"{PROD}/artifacts/", {"type": "markdown", "data": "x", "flow_run_id": str(other.pk)}, format="json"
        ).status_code
        == 404
    )
    # Reusing another run's task-run id under our own flow run is not a way in.
    hijack = {"id": str(other_task.pk), "flow_run_id": str(run.pk), "state": {"type": "COMPLETED"}}
    assert client.post(f"{PROD}/task-runs/batch/", {"task_runs": [hijack]}, format="json").status_code == 404
    # Integer ids are UUIDs to the API: they are checked the same way.
    assert (
        client.post(f"{PROD}/logs/", [{**_log(run.pk), "flow_run_id": other.pk.int}], format="json").status_code == 404
    )
    assert state_type(other) == StateType.SCHEDULED
    assert Log.dangerously_unscoped.count() == 0
    assert TaskRun.dangerously_unscoped.get(pk=other_task.pk).state_type == StateType.SCHEDULED


def state_type(run: FlowRun) -> str:
    run.refresh_from_db()
    return run.state_type


def test_token_writes_outside_reporting_are_refused(fleet: Fleet) -> None:
    run, _, client = _claimed(fleet)
    assert client.post(f"{PROD}/flow-runs/{run.pk}/cancel/", format="json").status_code == 403
    assert client.post(f"{PROD}/flow-runs/", {"flow_name": "adhoc"}, format="json").status_code == 403
    assert client.post(f"{PROD}/work-pools/", {"name": "p"}, format="json").status_code == 403
    assert client.get("/api/v1/orgs/acme/").status_code == 404
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_token_creates_subflow_runs_and_reports_them(fleet: Fleet) -> None:
    run, _, client = _claimed(fleet)
    client.post(set_state_url(run.pk), {**RUNNING, "epoch": 1}, format="json")
    parent_task = str(uuid.uuid4())
    batch = {
        "task_runs": [
            {
                "id": parent_task,
                "flow_run_id": str(run.pk),
                "name": "sub",
                "task_key": "sub",
                "state": {"type": "RUNNING"},
            }
        ]
    }
    assert client.post(f"{PROD}/task-runs/batch/", batch, format="json").status_code == 200
    created = client.post(
        f"{PROD}/flow-runs/",
        {"flow_name": "child", "parent_task_run_id": parent_task, "state": {"type": "RUNNING"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    child = created.json()["id"]
    assert client.post(set_state_url(child), {"state": {"type": "COMPLETED"}}, format="json").status_code == 200
    assert client.post(f"{PROD}/logs/", [_log(child)], format="json").status_code == 201
    # A subflow under someone else's task run is not ours.
    foreign_task = TaskRun.dangerously_unscoped.create(
        workspace=fleet.world.prod, flow_run=due_run(fleet), name="x", task_key="x"
    )
    refused = client.post(
        f"{PROD}/flow-runs/", {"flow_name": "c", "parent_task_run_id": str(foreign_task.pk)}, format="json"
    )
    assert refused.status_code == 404


def test_token_is_useless_in_another_workspace(fleet: Fleet) -> None:
    _, _, client = _claimed(fleet)
    assert client.get("/api/v1/orgs/acme/workspaces/staging/flow-runs/").status_code == 404
    assert client.get("/api/v1/orgs/umbrella/workspaces/prod/flow-runs/").status_code == 404


def test_token_stops_working_when_the_run_finishes(fleet: Fleet) -> None:
    run, _, client = _claimed(fleet)
    assert client.post(set_state_url(run.pk), {**RUNNING, "epoch": 1}, format="json").status_code == 200
    done = client.post(set_state_url(run.pk), {"state": {"type": "COMPLETED"}, "epoch": 1}, format="json")
    assert done.status_code == 200
    response = client.post(f"{PROD}/logs/", [_log(run.pk)], format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_token_stops_working_when_the_lease_runs_out(fleet: Fleet) -> None:
    run, _, client = _claimed(fleet)
    FlowRun.dangerously_unscoped.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=16))
    assert client.get(f"{PROD}/flow-runs/{run.pk}/").status_code == 401


def test_a_mistyped_run_token_is_401(fleet: Fleet) -> None:
    _, claimed, _ = _claimed(fleet)
    token = claimed["run_token"]
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert bearer(broken).get(f"{PROD}/flow-runs/").status_code == 401
