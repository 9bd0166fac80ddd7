"""The port suite: Prefect-3-style flows (tests/agent/port_flows.py), tracked by a real control plane.

Each test runs a flow and asserts what the server recorded: flow-run and task-run states and
their history, links between runs, and logs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.agent import port_flows as pf
from tests.agent.conftest import ControlPlane
from tether.exceptions import FlowRunTimeoutError, UpstreamTaskError

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    pf.CALLS.clear()
    pf.HOOKS.clear()


def by_name(task_runs: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return sorted((t for t in task_runs if t["name"].startswith(prefix)), key=lambda t: t["name"])


def test_retries_with_delays(tracked: ControlPlane) -> None:
    assert pf.retrying_etl() == "payload of https://example.com"

    run = tracked.latest_run("retrying-etl")
    assert run["state_type"] == "COMPLETED"
    assert run["run_count"] == 2
    assert tracked.states(run["id"]) == ["Running", "AwaitingRetry", "Retrying", "Completed"]
    tasks = tracked.task_runs(run["id"])
    (fetch,) = by_name(tasks, "flaky_fetch")
    assert fetch["state_type"] == "COMPLETED"
    assert fetch["run_count"] == 3
    assert fetch["max_retries"] == 2
    assert tracked.task_states(fetch["id"]) == [
        "Running",
        "AwaitingRetry",
        "Retrying",
        "AwaitingRetry",
        "Retrying",
        "Completed",
    ]
    backoff = by_name(tasks, "flaky_backoff")
    # the flow ran twice: the first attempt's task retried once, the second's succeeded at once
    assert [t["state_type"] for t in backoff] == ["COMPLETED", "COMPLETED"]
    assert sorted(t["run_count"] for t in backoff) == [1, 2]


def test_cache_hits_across_runs(tracked: ControlPlane) -> None:
    assert pf.cached_math(3) == 9 + 27
    assert pf.cached_math(3) == 9 + 27
    assert pf.CALLS == {"expensive_square": 1, "expensive_cube": 1}
    assert pf.cached_math(4) == 16 + 64
    assert pf.CALLS == {"expensive_square": 2, "expensive_cube": 2}

    first, second = reversed(tracked.flow_runs("cached-math")[1:3])
    for task_run in tracked.task_runs(first["id"]):
        assert task_run["state_name"] == "Completed"
        assert task_run["cache_key"]
    cached = tracked.task_runs(second["id"])
    assert sorted(t["state_name"] for t in cached) == ["Cached", "Cached"]
    assert {t["cache_key"] for t in cached} == {t["cache_key"] for t in tracked.task_runs(first["id"])}
    assert tracked.task_states(cached[0]["id"]) == ["Cached"]


def test_map_over_a_hundred_items(tracked: ControlPlane) -> None:
    assert pf.map_hundred(100) == sum(2 * i + 1 for i in range(100))

    run = tracked.latest_run("map-hundred")
    assert run["state_type"] == "COMPLETED"
    tasks = tracked.task_runs(run["id"])
    doubles = by_name(tasks, "double")
    assert len(doubles) == 100
    assert {t["state_type"] for t in doubles} == {"COMPLETED"}
    (summed,) = by_name(tasks, "total")
    assert summed["state_type"] == "COMPLETED"
    assert len(summed["task_inputs"]["values"]) == 100  # every mapped run is an upstream of the sum


def test_futures_passed_between_tasks(tracked: ControlPlane) -> None:
    assert pf.futures_pipeline() == 60 + 3
    assert pf.as_completed_flow() == [0, 2, 4, 6, 8]

    run = tracked.flow_runs("futures-pipeline")[0]
    tasks = {t["name"].split("-")[0]: t for t in tracked.task_runs(run["id"])}
    assert {t["state_type"] for t in tasks.values()} == {"COMPLETED"}
    assert tasks["transform"]["task_inputs"] == {"rows": [{"input_type": "task_run", "id": tasks["extract"]["id"]}]}
    load_inputs = tasks["load"]["task_inputs"]
    assert load_inputs["rows"] == [{"input_type": "task_run", "id": tasks["transform"]["id"]}]
    assert load_inputs["wait_for"] == [{"input_type": "task_run", "id": tasks["extract"]["id"]}]


def test_failure_propagates_and_downstream_is_not_run(tracked: ControlPlane) -> None:
    with pytest.raises(UpstreamTaskError):
        pf.failing_pipeline()
    assert "downstream" not in pf.CALLS

    run = tracked.latest_run("failing-pipeline")
    assert run["state_type"] == "FAILED"
    assert "UpstreamTaskError" in run["state"]["message"]
    tasks = {t["name"].split("-")[0]: t for t in tracked.task_runs(run["id"])}
    assert tasks["explode"]["state_type"] == "FAILED"
    assert "kaboom" in tasks["explode"]["state_message"]
    assert (tasks["downstream"]["state_type"], tasks["downstream"]["state_name"]) == ("PENDING", "NotReady")
    assert any("kaboom" in line["message"] for line in tracked.logs(run["id"]))

    assert pf.tolerant_pipeline() == "recovered"
    assert tracked.latest_run("tolerant-pipeline")["state_type"] == "COMPLETED"


def test_subflows_are_linked_to_a_parent_task_run(tracked: ControlPlane) -> None:
    assert pf.parent() == 10 + 12

    parent_run = tracked.latest_run("parent")
    assert parent_run["state_type"] == "COMPLETED"
    parent_tasks = tracked.task_runs(parent_run["id"])
    subflow_tasks = [t for t in parent_tasks if t["task_key"] == "subflow:child"]
    assert len(subflow_tasks) == 2
    assert {t["state_type"] for t in subflow_tasks} == {"COMPLETED"}
    children = tracked.flow_runs("child")[:2]
    assert {c["parent_task_run_id"] for c in children} == {t["id"] for t in subflow_tasks}
    for child in children:
        assert child["state_type"] == "COMPLETED"
        assert [t["name"] for t in tracked.task_runs(child["id"])] == ["double-0"]
        assert any("child got" in line["message"] for line in tracked.logs(child["id"]))


def test_async_flow_and_tasks(tracked: ControlPlane) -> None:
    assert asyncio.run(pf.async_flow(4)) == (0 + 3 + 6 + 9) + 30

    run = tracked.latest_run("async-flow")
    assert run["state_type"] == "COMPLETED"
    assert run["parameters"] == {"n": 4}
    tasks = tracked.task_runs(run["id"])
    assert len(tasks) == 5
    assert {t["state_type"] for t in tasks} == {"COMPLETED"}


def test_timeouts(tracked: ControlPlane) -> None:
    assert pf.timeout_tasks() == "TimedOut"
    run = tracked.latest_run("timeout-tasks")
    assert run["state_type"] == "COMPLETED"
    (slow,) = tracked.task_runs(run["id"])
    assert (slow["state_type"], slow["state_name"]) == ("FAILED", "TimedOut")
    assert "exceeded timeout of 0.3" in slow["state_message"]

    with pytest.raises(FlowRunTimeoutError):
        pf.slow_flow()
    flow_run = tracked.latest_run("slow-flow")
    assert (flow_run["state_type"], flow_run["state_name"]) == ("FAILED", "TimedOut")


def test_state_hooks(tracked: ControlPlane) -> None:
    assert pf.hooked_flow(False) == "ok"
    assert pf.HOOKS == [
        "task:hooked_task:Completed",
        "task:hooked_task:Completed",
        "flow:hooked-flow:Completed",
    ]
    pf.HOOKS.clear()
    with pytest.raises(RuntimeError, match="hooked failure"):
        pf.hooked_flow(True)
    assert pf.HOOKS == [
        "task:hooked_task:Completed",
        "task:hooked_task:Failed",
        "flow:hooked-flow:Failed",
    ]
    run = tracked.latest_run("hooked-flow")
    assert run["state_type"] == "FAILED"
    assert sorted(t["state_type"] for t in tracked.task_runs(run["id"])) == ["COMPLETED", "FAILED"]


def test_logs_and_prints_reach_the_server(tracked: ControlPlane) -> None:
    pf.chatty(3)
    run = tracked.latest_run("chatty")
    lines = tracked.logs(run["id"])
    messages = [line["message"] for line in lines]
    for expected in ("line 0", "line 1", "line 2", "printed from the flow", "from a task"):
        assert expected in messages
    assert len({(line["source"], line["seq"]) for line in lines}) == len(lines)
    (task_line,) = [line for line in lines if line["message"] == "from a task"]
    (shout,) = tracked.task_runs(run["id"])
    assert task_line["task_run_id"] == shout["id"]
    assert task_line["level"] == 30
