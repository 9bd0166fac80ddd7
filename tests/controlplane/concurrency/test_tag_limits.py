"""Tag limits (`tag:<tag>`): a limit of 0 aborts the task runs that carry the tag."""

from __future__ import annotations

import uuid
from typing import Any

from controlplane.concurrency.models import ConcurrencyLimit
from controlplane.runs.models import TaskRun
from controlplane.runs.states import StateType as S
from tests.support.clients import bearer
from tests.support.runs import PROD, make_run
from tests.support.tenants import World, service_account_key


def _developer(world: World) -> Any:
    _, secret = service_account_key(world.alice, world.prod, "developer", name="dev")
    return bearer(secret)


def _tag_limit(world: World, tag: str, limit: int, **fields: Any) -> None:
    ConcurrencyLimit.dangerously_unscoped.create(workspace=world.prod, name=f"tag:{tag}", limit=limit, **fields)


def _entry(flow_run_id: object, tags: list[str], state: str = S.RUNNING) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "flow_run_id": str(flow_run_id), "tags": tags, "state": {"type": state}}


def test_a_tag_limited_to_zero_aborts_running_and_nothing_else(world: World) -> None:
    _tag_limit(world, "frozen", 0)
    _tag_limit(world, "db", 3)
    _tag_limit(world, "paused-limit", 0, active=False)
    flow_run = make_run(world, S.RUNNING)
    entries = [
        _entry(flow_run.pk, ["db", "frozen"]),
        _entry(flow_run.pk, ["db"]),
        _entry(flow_run.pk, ["paused-limit"]),
        _entry(flow_run.pk, []),
        _entry(flow_run.pk, ["frozen"], S.CANCELLED),
    ]
    response = _developer(world).post(f"{PROD}/task-runs/batch/", {"task_runs": entries}, format="json")
    assert response.status_code == 200
    results = response.json()
    assert [result["status"] for result in results] == ["ABORT", "ACCEPT", "ACCEPT", "ACCEPT", "ACCEPT"]
    assert "'tag:frozen' is 0" in results[0]["reason"]
    # The aborted run never started: it was not even created (its first state was refused).
    assert not TaskRun.dangerously_unscoped.filter(pk=entries[0]["id"]).exists()
    assert TaskRun.dangerously_unscoped.get(pk=entries[4]["id"]).state_type == S.CANCELLED


def test_raising_the_limit_above_zero_lets_the_tag_run_again(world: World) -> None:
    _tag_limit(world, "frozen", 0)
    flow_run = make_run(world, S.RUNNING)
    client = _developer(world)
    first = client.post(f"{PROD}/task-runs/batch/", {"task_runs": [_entry(flow_run.pk, ["frozen"])]}, format="json")
    assert first.json()[0]["status"] == "ABORT"
    ConcurrencyLimit.dangerously_unscoped.filter(name="tag:frozen").update(limit=1)
    again = client.post(f"{PROD}/task-runs/batch/", {"task_runs": [_entry(flow_run.pk, ["frozen"])]}, format="json")
    assert again.json()[0]["status"] == "ACCEPT"


def test_a_batch_of_tagged_task_runs_still_costs_a_constant_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    _tag_limit(world, "frozen", 0)
    flow_run = make_run(world, S.RUNNING)
    entries = [_entry(flow_run.pk, ["db", f"t{index}"]) for index in range(300)]
    client = _developer(world)
    with django_assert_max_num_queries(20):
        response = client.post(f"{PROD}/task-runs/batch/", {"task_runs": entries}, format="json")
    assert {result["status"] for result in response.json()} == {"ACCEPT"}


def test_tag_limits_are_listed_by_prefix(world: World) -> None:
    _tag_limit(world, "db", 3)
    _tag_limit(world, "api", 1)
    ConcurrencyLimit.dangerously_unscoped.create(workspace=world.prod, name="database", limit=1)
    client = _developer(world)
    listed = client.get(f"{PROD}/concurrency-limits/", {"name_prefix": "tag:"}).json()["results"]
    assert [limit["name"] for limit in listed] == ["tag:api", "tag:db"]
    named = client.get(f"{PROD}/concurrency-limits/?name=database&name=tag:db").json()["results"]
    assert [limit["name"] for limit in named] == ["database", "tag:db"]
