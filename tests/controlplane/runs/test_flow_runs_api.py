"""The flow-run and task-run API: idempotent creation, states over HTTP, batches, filters, no N+1."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.db import connection

from controlplane.runs.models import FlowRun, FlowRunState, TaskRunState
from controlplane.runs.states import StateType
from tests.support.clients import bearer, session
from tests.support.runs import PROD, make_deployment, make_run
from tests.support.tenants import World, service_account_key

S = StateType


def _developer(world: World) -> Any:
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    return bearer(secret)


def test_run_from_a_deployment_merges_and_validates_parameters(world: World) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "env": {"type": "string"}}, "required": ["n"]}
    deployment = make_deployment(world, parameters={"env": "prod"}, parameter_schema=schema, tags=["etl"])
    client = _developer(world)
    created = client.post(
        f"{PROD}/flow-runs/", {"deployment_id": str(deployment.pk), "parameters": {"n": 3}}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert body["parameters"] == {"env": "prod", "n": 3}
    assert body["state"]["type"] == "SCHEDULED"
    assert body["tags"] == ["etl"]
    assert body["deployment_name"] == "nightly"
    bad = client.post(
        f"{PROD}/flow-runs/", {"deployment_id": str(deployment.pk), "parameters": {"n": "x"}}, format="json"
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["paths"] == ["n"]
    huge = client.post(
        f"{PROD}/flow-runs/",
        {"deployment_id": str(deployment.pk), "parameters": {"n": 1, "blob": "x" * 600_000}},
        format="json",
    )
    assert huge.status_code == 422
    assert "512" in huge.json()["error"]["message"] or "524288" in str(huge.json()["error"]["details"])


def test_idempotency_key_same_body_same_run_different_body_422(world: World) -> None:
    client = _developer(world)
    body = {"flow_name": "adhoc", "parameters": {"a": 1}, "idempotency_key": "order-42"}
    first = client.post(f"{PROD}/flow-runs/", body, format="json")
    second = client.post(f"{PROD}/flow-runs/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    different = client.post(f"{PROD}/flow-runs/", {**body, "parameters": {"a": 2}}, format="json")
    assert different.status_code == 422
    assert FlowRun.dangerously_unscoped.filter(idempotency_key="order-42").count() == 1


def test_another_tenant_reusing_a_key_gets_its_own_run(world: World) -> None:
    """RELIABILITY 17."""
    body = {"flow_name": "adhoc", "idempotency_key": "shared-key"}
    acme = _developer(world).post(f"{PROD}/flow-runs/", body, format="json")
    _, umbrella_key = service_account_key(world.charlie, world.umbrella_prod, "developer", name="udev")
    umbrella = bearer(umbrella_key).post("/api/v1/orgs/umbrella/workspaces/prod/flow-runs/", body, format="json")
    assert (acme.status_code, umbrella.status_code) == (201, 201)
    assert acme.json()["id"] != umbrella.json()["id"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_key_make_one_run(world: World) -> None:
    """RELIABILITY 38."""
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    barrier = threading.Barrier(8)
    answers: list[tuple[int, str]] = []

    def create() -> None:
        try:
            barrier.wait()
            response = bearer(secret).post(
                f"{PROD}/flow-runs/", {"flow_name": "adhoc", "idempotency_key": "race"}, format="json"
            )
            answers.append((response.status_code, response.json().get("id", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(code for code, _ in answers) == [200] * 7 + [201]
    assert len({run_id for _, run_id in answers}) == 1
    assert FlowRun.dangerously_unscoped.filter(idempotency_key="race").count() == 1


def test_refused_transition_is_409_and_history_unchanged(world: World) -> None:
    """RELIABILITY 39."""
    run = make_run(world, S.COMPLETED)
    client = _developer(world)
    before = list(FlowRunState.objects.filter(flow_run=run).values_list("id", flat=True))
    response = client.post(f"{PROD}/flow-runs/{run.pk}/set-state/", {"state": {"type": "RUNNING"}}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "transition_refused"
    assert error["details"]["status"] == "REJECT"
    assert error["details"]["state"]["type"] == "COMPLETED"
    assert list(FlowRunState.objects.filter(flow_run=run).values_list("id", flat=True)) == before
    stale = make_run(world, S.RUNNING, epoch=2)
    response = client.post(
        f"{PROD}/flow-runs/{stale.pk}/set-state/", {"state": {"type": "COMPLETED"}, "epoch": 1}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"epoch": 1, "current_epoch": 2}


def test_force_is_for_owners(world: World) -> None:
    run = make_run(world, S.RUNNING)
    url = f"{PROD}/flow-runs/{run.pk}/set-state/"
    body = {"state": {"type": "CRASHED"}, "force": True}
    assert _developer(world).post(url, body, format="json").status_code == 403
    assert session(world.alice).post(url, body, format="json").status_code == 200


def test_named_state_with_the_wrong_type_is_a_400(world: World) -> None:
    run = make_run(world, S.RUNNING)
    response = _developer(world).post(
        f"{PROD}/flow-runs/{run.pk}/set-state/", {"state": {"type": "RUNNING", "name": "Late"}}, format="json"
    )
    assert response.status_code == 400


def test_a_batch_of_500_task_run_states_is_stored_in_order(world: World, django_assert_max_num_queries: Any) -> None:
    """Acceptance 3."""
    flow_run = make_run(world, S.RUNNING)
    ids = [uuid.uuid4() for _ in range(250)]
    entries = []
    for index, task_id in enumerate(ids):
        common = {"id": str(task_id), "flow_run_id": str(flow_run.pk), "task_key": f"t{index}", "name": f"task-{index}"}
        entries.append({**common, "state": {"type": "RUNNING"}})
        entries.append({"id": str(task_id), "state": {"type": "COMPLETED", "message": f"done {index}"}})
    client = _developer(world)
    with django_assert_max_num_queries(20):
        response = client.post(f"{PROD}/task-runs/batch/", {"task_runs": entries}, format="json")
    assert response.status_code == 200
    results = response.json()
    assert len(results) == 500
    assert {result["status"] for result in results} == {"ACCEPT"}
    stored = list(
        TaskRunState.objects.filter(task_run__flow_run=flow_run).order_by("id").values_list("task_run_id", "type")
    )
    expected = [(task_id, kind) for task_id in ids for kind in ("RUNNING", "COMPLETED")]
    assert stored == expected
    listed = client.get(f"{PROD}/task-runs/?flow_run_id={flow_run.pk}&page_size=200").json()["results"]
    assert len(listed) == 200
    assert {task["state_type"] for task in listed} == {"COMPLETED"}


def test_task_runs_of_another_workspace_flow_run_are_refused(world: World) -> None:
    """RELIABILITY 13."""
    from controlplane.flows.models import Flow

    flow = Flow.dangerously_unscoped.create(workspace=world.umbrella_prod, name="u")
    foreign = FlowRun.dangerously_unscoped.create(workspace=world.umbrella_prod, flow=flow, name="u")
    entry = {"id": str(uuid.uuid4()), "flow_run_id": str(foreign.pk), "state": {"type": "RUNNING"}}
    response = _developer(world).post(f"{PROD}/task-runs/batch/", {"task_runs": [entry]}, format="json")
    assert response.status_code == 404
    assert not TaskRunState.objects.exists()


def test_list_filters_counts_and_constant_queries(world: World, django_assert_max_num_queries: Any) -> None:
    deployment = make_deployment(world)
    for index in range(30):
        make_run(
            world, S.COMPLETED if index % 3 else S.FAILED, deployment=deployment, tags=["nightly"] if index % 2 else []
        )
    client = _developer(world)
    with django_assert_max_num_queries(8):
        page = client.get(f"{PROD}/flow-runs/?page_size=50").json()
    assert len(page["results"]) == 30
    failed = client.get(f"{PROD}/flow-runs/?state_type=FAILED&tag=nightly").json()["results"]
    assert {run["state_type"] for run in failed} == {"FAILED"}
    assert all("nightly" in run["tags"] for run in failed)
    counts = client.get(f"{PROD}/flow-runs/counts/").json()
    assert counts["COMPLETED"] == 20
    assert counts["FAILED"] == 10
    assert client.get(f"{PROD}/flow-runs/?state_type=NOPE").status_code == 422
    assert client.get(f"{PROD}/flow-runs/?deployment_id=not-a-uuid").status_code == 422


def test_batch_cancel_and_delete(world: World) -> None:
    scheduled, running, done = make_run(world, S.SCHEDULED), make_run(world, S.RUNNING), make_run(world, S.FAILED)
    client = _developer(world)
    ids = [str(scheduled.pk), str(running.pk), str(done.pk)]
    cancelled = client.post(f"{PROD}/flow-runs/batch-cancel/", {"ids": ids}, format="json").json()
    assert [(o["ok"], o["detail"]) for o in cancelled][:2] == [(True, "CANCELLED"), (True, "CANCELLING")]
    assert cancelled[2]["ok"] is False
    deleted = client.post(f"{PROD}/flow-runs/batch-delete/", {"ids": ids}, format="json").json()
    assert [o["ok"] for o in deleted] == [True, False, True]
    assert set(FlowRun.dangerously_unscoped.values_list("id", flat=True)) == {running.pk}
