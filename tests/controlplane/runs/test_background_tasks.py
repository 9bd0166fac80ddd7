"""Background task runs over the API: create, claim exactly once, fenced reports, reaper, logs, filters."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from controlplane.runs.models import Log, TaskRun
from controlplane.runs.services import background_leases
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World, service_account_key

UMBRELLA = "/api/v1/orgs/umbrella/workspaces/prod"


def _key(world: World, role: str, name: str) -> Any:
    _, secret = service_account_key(world.alice, world.prod, role, name=name)
    return bearer(secret)


def _queue(client: Any, task_key: str = "add-1", **body: Any) -> dict[str, Any]:
    response = client.post(f"{PROD}/background-tasks/", {"task_key": task_key, **body}, format="json")
    assert response.status_code == 201, response.content
    result: dict[str, Any] = response.json()
    return result


def _claim(worker: Any, worker_id: uuid.UUID, keys: list[str], capacity: int = 10, wait: float = 0) -> list[Any]:
    body = {
        "worker_id": str(worker_id),
        "worker_name": f"w-{worker_id.hex[:4]}",
        "task_keys": keys,
        "capacity": capacity,
        "wait_seconds": wait,
    }
    response = worker.post(f"{PROD}/task-workers/claim/", body, format="json")
    assert response.status_code == 200, response.content
    runs: list[Any] = response.json()["task_runs"]
    return runs


def _report(
    worker: Any, run: dict[str, Any], worker_id: uuid.UUID, state: dict[str, Any], epoch: int | None = None
) -> Any:
    body = {"worker_id": str(worker_id), "epoch": run["epoch"] if epoch is None else epoch, "state": state}
    return worker.post(f"{PROD}/background-tasks/{run['id']}/set-state/", body, format="json")


def test_create_keeps_a_reference_and_idempotency_keys_answer_the_same_run(world: World) -> None:
    developer = _key(world, "developer", "dev")
    body = {"parameters_ref": "bg-args-1", "result_storage": "/srv/results", "idempotency_key": "order-7"}
    first = developer.post(f"{PROD}/background-tasks/", {"task_key": "add-1", **body}, format="json")
    again = developer.post(
        f"{PROD}/background-tasks/", {"task_key": "add-1", **body, "parameters_ref": "bg-args-2"}, format="json"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["state"]["type"] == "SCHEDULED"
    assert first.json()["parameters_ref"] == "bg-args-1"
    other = developer.post(f"{PROD}/background-tasks/", {"task_key": "other", **body}, format="json")
    assert other.status_code == 422
    both = developer.post(
        f"{PROD}/background-tasks/", {"task_key": "k", "parameters": {"a": 1}, "parameters_ref": "r"}, format="json"
    )
    assert both.status_code == 422
    assert TaskRun.dangerously_unscoped.filter(background=True).count() == 1


def test_scopes_developers_queue_workers_claim(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    assert worker.post(f"{PROD}/background-tasks/", {"task_key": "k"}, format="json").status_code == 403
    claim = {"worker_id": str(uuid.uuid4()), "worker_name": "w", "task_keys": ["k"]}
    assert developer.post(f"{PROD}/task-workers/claim/", claim, format="json").status_code == 403
    assert worker.post(f"{PROD}/task-workers/claim/", claim, format="json").status_code == 200


def test_claims_take_each_due_run_once_for_the_keys_served(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    due = [_queue(developer)["id"] for _ in range(3)]
    _queue(developer, task_key="other")
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    _queue(developer, scheduled_time=later)
    first, second = uuid.uuid4(), uuid.uuid4()
    taken = _claim(worker, first, ["add-1"], capacity=2)
    rest = _claim(worker, second, ["add-1"], capacity=10)
    assert len(taken) == 2
    assert len(rest) == 1
    assert sorted(run["id"] for run in taken + rest) == sorted(due)
    assert _claim(worker, second, ["add-1"]) == []
    assert all(run["epoch"] == 1 for run in taken + rest)
    stored = TaskRun.dangerously_unscoped.get(pk=taken[0]["id"])
    assert (stored.state_type, stored.lease_owner, stored.worker_name) == ("PENDING", first, f"w-{first.hex[:4]}")


def test_reports_are_fenced_by_worker_and_epoch(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    _queue(developer)
    holder, intruder = uuid.uuid4(), uuid.uuid4()
    (run,) = _claim(worker, holder, ["add-1"])
    assert _report(worker, run, holder, {"type": "RUNNING"}, epoch=run["epoch"] + 1).status_code == 409
    assert _report(worker, run, intruder, {"type": "RUNNING"}).status_code == 409
    assert _report(worker, run, holder, {"type": "RUNNING"}).status_code == 200
    done = _report(worker, run, holder, {"type": "COMPLETED", "details": {"result_key": "bg-result-x"}})
    assert done.status_code == 200
    read = developer.get(f"{PROD}/background-tasks/{run['id']}/").json()
    assert read["state"]["type"] == "COMPLETED"
    assert read["state"]["details"]["result_key"] == "bg-result-x"
    assert read["run_count"] == 1
    assert _report(worker, run, holder, {"type": "RUNNING"}).status_code == 409  # final is final


def test_an_in_process_retry_keeps_the_lease(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    _queue(developer, max_retries=2)
    holder = uuid.uuid4()
    (run,) = _claim(worker, holder, ["add-1"])
    assert _report(worker, run, holder, {"type": "RUNNING"}).status_code == 200
    now = timezone.now().isoformat()
    retry = {"type": "SCHEDULED", "name": "AwaitingRetry", "details": {"scheduled_time": now}}
    assert _report(worker, run, holder, retry).json()["state"]["name"] == "AwaitingRetry"
    assert _claim(worker, uuid.uuid4(), ["add-1"]) == []  # due, but held by the worker retrying it
    assert _report(worker, run, holder, {"type": "RUNNING", "name": "Retrying"}).status_code == 200
    assert _report(worker, run, holder, {"type": "COMPLETED"}).status_code == 200
    assert TaskRun.dangerously_unscoped.get(pk=run["id"]).run_count == 2


def _expire(run_id: str) -> None:
    TaskRun.dangerously_unscoped.filter(pk=run_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_a_lost_worker_s_running_task_is_retried_once_then_refused_its_late_reports(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    _queue(developer, max_retries=1)
    lost, other = uuid.uuid4(), uuid.uuid4()
    (run,) = _claim(worker, lost, ["add-1"])
    _report(worker, run, lost, {"type": "RUNNING"})
    _expire(run["id"])
    assert background_leases.reap() == 1
    assert background_leases.reap() == 0  # handled exactly once
    history = [s["name"] for s in developer.get(f"{PROD}/task-runs/{run['id']}/states/").json()]
    assert history == ["Scheduled", "Pending", "Running", "Crashed", "AwaitingRetry"]
    (again,) = _claim(worker, other, ["add-1"])
    assert again["epoch"] == 2
    assert again["run_count"] == 1
    assert _report(worker, run, lost, {"type": "COMPLETED"}).status_code == 409
    assert _report(worker, again, other, {"type": "RUNNING"}).status_code == 200
    _expire(run["id"])
    assert background_leases.reap() == 1
    stored = TaskRun.dangerously_unscoped.get(pk=run["id"])
    assert (stored.state_type, stored.run_count) == ("CRASHED", 2)  # no retries left
    assert _claim(worker, other, ["add-1"]) == []


def test_a_lost_claim_that_never_started_is_handed_out_again(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    _queue(developer)
    (run,) = _claim(worker, uuid.uuid4(), ["add-1"])
    _expire(run["id"])
    assert background_leases.reap() == 1
    (again,) = _claim(worker, uuid.uuid4(), ["add-1"])
    assert again["id"] == run["id"]
    assert again["epoch"] == 2


def test_heartbeats_renew_only_held_leases(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    _queue(developer)
    holder = uuid.uuid4()
    (run,) = _claim(worker, holder, ["add-1"])
    TaskRun.dangerously_unscoped.filter(pk=run["id"]).update(lease_expires_at=timezone.now() + timedelta(seconds=2))
    body = {"worker_id": str(holder), "runs": [{"id": run["id"], "epoch": run["epoch"]}]}
    answer = worker.post(f"{PROD}/task-workers/heartbeat/", body, format="json").json()
    assert answer == {"renewed": [run["id"]], "lost": []}
    lease = TaskRun.dangerously_unscoped.get(pk=run["id"]).lease_expires_at
    assert lease is not None
    assert lease > timezone.now() + timedelta(seconds=30)
    stale = {"worker_id": str(holder), "runs": [{"id": run["id"], "epoch": 7}]}
    assert worker.post(f"{PROD}/task-workers/heartbeat/", stale, format="json").json()["lost"] == [run["id"]]


def test_task_run_list_filters_background_runs(world: World) -> None:
    developer = _key(world, "developer", "dev")
    queued = _queue(developer)
    TaskRun.dangerously_unscoped.create(workspace=world.prod, name="inline", task_key="t")
    only = developer.get(f"{PROD}/task-runs/", {"background": "true"}).json()["results"]
    assert [run["id"] for run in only] == [queued["id"]]
    assert only[0]["background"] is True
    others = developer.get(f"{PROD}/task-runs/", {"background": "false"}).json()["results"]
    assert [run["name"] for run in others] == ["inline"]
    assert developer.get(f"{PROD}/task-runs/", {"background": "maybe"}).status_code == 422


def test_logs_are_stored_once_and_only_for_this_workspace_s_runs(world: World) -> None:
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    run = _queue(developer)
    now = timezone.now().isoformat()
    lines = [
        {"task_run_id": run["id"], "seq": n, "level": 20, "message": f"line {n}", "timestamp": now} for n in range(3)
    ]
    assert worker.post(f"{PROD}/background-tasks/logs/", lines, format="json").status_code == 201
    assert worker.post(f"{PROD}/background-tasks/logs/", lines, format="json").status_code == 201  # a re-send
    read = developer.get(f"{PROD}/background-tasks/{run['id']}/logs/").json()
    assert [line["message"] for line in read] == ["line 0", "line 1", "line 2"]
    _, foreign_secret = service_account_key(world.charlie, world.umbrella_prod, "worker", name="umbrella-wrk")
    foreign = bearer(foreign_secret)
    assert foreign.post(f"{UMBRELLA}/background-tasks/logs/", lines, format="json").status_code == 404
    assert Log.dangerously_unscoped.filter(task_run_id=run["id"]).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_long_poll_claim_returns_a_run_queued_while_it_waits() -> None:
    from tests.support.tenants import build_world

    world = build_world()
    developer = _key(world, "developer", "dev")
    worker = _key(world, "worker", "wrk")
    got: list[Any] = []

    def wait_for_work() -> None:
        try:
            got.extend(_claim(worker, uuid.uuid4(), ["add-1"], wait=20))
        finally:
            connection.close()

    waiter = threading.Thread(target=wait_for_work)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.5)
    queued = _queue(developer)
    waiter.join(30)
    assert [run["id"] for run in got] == [queued["id"]]
    assert time.monotonic() - started < 20  # answered by the run, not by the end of the wait


def test_retention_deletes_old_finished_background_runs_with_their_logs(world: World) -> None:
    from controlplane.orgs.models import Workspace
    from controlplane.services import retention

    developer = _key(world, "developer", "dev")
    old, recent, running = (_queue(developer)["id"] for _ in range(3))
    for run_id in (old, recent, running):
        Log.dangerously_unscoped.create(
            workspace=world.prod, task_run_id=run_id, source="w", seq=1, message="line", timestamp=timezone.now()
        )
    TaskRun.dangerously_unscoped.filter(pk__in=[old, recent]).update(state_type="COMPLETED")
    TaskRun.dangerously_unscoped.filter(pk__in=[old, running]).update(end_time=timezone.now() - timedelta(days=8))
    Workspace.objects.filter(pk=world.prod.pk).update(retention_days=7)

    assert retention.vacuum()["background_task_runs"] == 1
    assert set(TaskRun.dangerously_unscoped.values_list("id", flat=True)) == {uuid.UUID(recent), uuid.UUID(running)}
    assert set(Log.dangerously_unscoped.values_list("task_run_id", flat=True)) == {
        uuid.UUID(recent),
        uuid.UUID(running),
    }
