"""A flow's run token may queue background task runs (`task.delay()` inside a flow), nothing more about them."""

from __future__ import annotations

from typing import Any

from controlplane.runs.models import TaskRun
from tests.controlplane.workpools.test_dispatch_support import claim, due_run, hello, make_fleet
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World


def _run_token_client(world: World) -> Any:
    fleet = make_fleet(world)
    due_run(fleet)
    (claimed,) = claim(fleet, hello(fleet), capacity=1)
    return bearer(claimed["run_token"])


def test_a_run_token_queues_a_background_task_run(world: World) -> None:
    token = _run_token_client(world)
    body = {"task_key": "send-email", "parameters_ref": "bg-args-1", "result_storage": "/srv/results"}
    response = token.post(f"{PROD}/background-tasks/", body, format="json")
    assert response.status_code == 201, response.content
    run = TaskRun.dangerously_unscoped.get(pk=response.json()["id"])
    assert (run.background, run.workspace_id, run.flow_run_id) == (True, world.prod.id, None)


def test_a_run_token_cannot_act_as_a_task_worker(world: World) -> None:
    token = _run_token_client(world)
    claim_body = {"worker_id": "8a0c2a7e-5a8e-4d43-9a4f-0d1c4b1f9a11", "worker_name": "w", "task_keys": ["k"]}
    assert token.post(f"{PROD}/task-workers/claim/", {**claim_body, "capacity": 1}, format="json").status_code == 403
    queued = token.post(f"{PROD}/background-tasks/", {"task_key": "k"}, format="json").json()
    report = {"worker_id": claim_body["worker_id"], "epoch": 1, "state": {"type": "RUNNING"}}
    assert token.post(f"{PROD}/background-tasks/{queued['id']}/set-state/", report, format="json").status_code == 403
