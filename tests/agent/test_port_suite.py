"""The port suite: Prefect-3-style flows (tests/agent/port_flows.py), tracked by a real control plane.

Each test runs a flow and asserts what the server recorded: flow-run and task-run states and
their history, links between runs, and logs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.agent import port_flows as pf
from tests.agent.conftest import ControlPlane
from tether.exceptions import FlowPauseTimeout, FlowRunTimeoutError, UpstreamTaskError

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


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def _wait_for_pause(tracked: ControlPlane, flow_name: str, *, pauses: int = 1, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = tracked.flow_runs(flow_name)
        if runs and runs[0]["state_type"] == "PAUSED" and tracked.states(runs[0]["id"]).count("Paused") == pauses:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"{flow_name} did not pause")


def _resume(tracked: ControlPlane, run_id: str, body: dict[str, Any]) -> Any:
    return tracked.http.post(f"flow-runs/{run_id}/resume/", json=body)


def test_pause_and_resume_with_typed_input(tracked: ControlPlane) -> None:
    thread, outcome = _in_thread(pf.approval_flow)
    run = _wait_for_pause(tracked, "approval-flow")
    details = run["state"]["details"]
    assert details["pause_key"] == "pause-1"
    assert details["run_input_schema"]["required"] == ["approved", "reviewer"]
    # The task before the pause is on the server while the run waits.
    (prepare,) = tracked.task_runs(run["id"])
    assert prepare["state_type"] == "COMPLETED"

    wrong = _resume(tracked, run["id"], {"input": {"approved": "maybe"}})
    assert wrong.status_code == 422
    assert set(wrong.json()["error"]["details"]["paths"]) == {"approved", "reviewer"}
    assert tracked.get(f"flow-runs/{run['id']}/")["state_type"] == "PAUSED"
    ok = _resume(tracked, run["id"], {"input": {"approved": True, "reviewer": "alice"}})
    assert ok.status_code == 200, ok.text
    thread.join(60)
    assert outcome == {"value": "report-v1 approved by alice"}

    run = tracked.get(f"flow-runs/{run['id']}/")
    assert (run["state_type"], run["run_count"]) == ("COMPLETED", 1)
    assert tracked.states(run["id"]) == ["Running", "Paused", "Running", "Completed"]
    tasks = {t["name"].split("-")[0]: t for t in tracked.task_runs(run["id"])}
    assert {name: t["state_type"] for name, t in tasks.items()} == {
        "prepare_report": "COMPLETED",
        "publish": "COMPLETED",
    }


def test_pause_with_a_dataclass_input_then_an_approval(tracked: ControlPlane) -> None:
    thread, outcome = _in_thread(pf.quantity_flow)
    run = _wait_for_pause(tracked, "quantity-flow")
    assert run["state"]["details"]["run_input_schema"]["properties"]["count"]["type"] == "integer"
    assert _resume(tracked, run["id"], {"input": {"count": "three"}}).status_code == 422
    assert _resume(tracked, run["id"], {"input": {"count": 21}}).status_code == 200
    run = _wait_for_pause(tracked, "quantity-flow", pauses=2)
    assert run["state"]["details"]["pause_key"] == "pause-2"
    assert "run_input_schema" not in run["state"]["details"]
    assert _resume(tracked, run["id"], {}).status_code == 200
    thread.join(60)
    assert outcome == {"value": 42}
    assert tracked.states(run["id"]) == ["Running", "Paused", "Running", "Paused", "Running", "Completed"]
    inputs = tracked.get(f"flow-runs/{run['id']}/input/")["results"]
    assert sorted((i["key"], i["value"]) for i in inputs) == [("pause-1", {"count": 21}), ("pause-2", {})]


def test_a_pause_that_times_out_fails_the_run(tracked: ControlPlane) -> None:
    with pytest.raises(FlowPauseTimeout):
        pf.unattended_pause()
    run = tracked.latest_run("unattended-pause")
    assert run["state_type"] == "FAILED"
    assert tracked.states(run["id"]) == ["Running", "Paused", "Failed"]
    assert "FlowPauseTimeout" in run["state"]["message"]
    assert _resume(tracked, run["id"], {}).status_code == 409


def test_transaction_commits_or_rolls_back_in_reverse_order(tracked: ControlPlane, tmp_path: Path) -> None:
    pf.LEDGER.clear()
    good = tmp_path / "good.txt"
    assert pf.transactional_pipeline(str(good), "one\ntwo\n") == "committed"
    assert good.exists()
    assert [str(good)] == pf.LEDGER
    assert pf.HOOKS == ["commit:announce_file"]

    pf.HOOKS.clear()
    pf.LEDGER.clear()
    bad = tmp_path / "bad.txt"
    with pytest.raises(ValueError, match="Not enough data"):
        pf.transactional_pipeline(str(bad), "one\n")
    assert not bad.exists()
    assert pf.LEDGER == []
    assert pf.HOOKS == ["rollback:pop_ledger", "rollback:delete_file"]

    run = tracked.latest_run("transactional-pipeline")
    assert run["state_type"] == "FAILED"
    tasks = {t["name"].split("-")[0]: t for t in tracked.task_runs(run["id"])}
    assert {name: t["state_type"] for name, t in tasks.items()} == {
        "write_file": "COMPLETED",
        "append_ledger": "COMPLETED",
        "quality_test": "FAILED",
    }
    hook_lines = [line for line in tracked.logs(run["id"]) if "rollback hook" in line["message"]]
    assert [(line["message"], line["task_run_id"]) for line in hook_lines] == [
        ("Running rollback hook 'pop_ledger'", tasks["append_ledger"]["id"]),
        ("Running rollback hook 'delete_file'", tasks["write_file"]["id"]),
    ]


def test_run_deployment_as_a_linked_subflow_and_emit_event(tracked: ControlPlane) -> None:
    pool = tracked.http.post("work-pools/", json={"name": "port-pool", "type": "process"})
    assert pool.status_code in (201, 400, 409), pool.text
    body = {
        "flow_name": "report-worker",
        "name": "regional",
        "entrypoint": "flows/report.py:report_worker",
        "work_pool_name": "port-pool",
    }
    assert tracked.http.post("deployments/", json=body).status_code in (200, 201)

    child_id = pf.orchestrator("eu")
    assert pf.orchestrator("eu") == child_id  # the same idempotency key: one run

    second_parent, parent = tracked.flow_runs("orchestrator")[:2]
    child = tracked.get(f"flow-runs/{child_id}/")
    assert child["deployment_name"] == "regional"
    assert child["parameters"] == {"region": "eu"}
    assert child["state_type"] == "SCHEDULED"  # timeout=0: created, not waited for
    (link,) = tracked.task_runs(parent["id"])
    assert child["parent_task_run_id"] == link["id"]
    assert (link["task_key"], link["state_type"]) == ("run_deployment:report-worker/regional", "COMPLETED")
    assert second_parent["state_type"] == "COMPLETED"
    (second_link,) = tracked.task_runs(second_parent["id"])
    assert second_link["state_type"] == "COMPLETED"

    events = tracked.get("events/", event="acme.report.requested")["results"]
    assert len(events) == 2
    assert {e["payload"]["region"] for e in events} == {"eu"}
    related = {r["tether.resource.id"] for r in events[-1]["related"]}
    assert f"tether.flow-run.{parent['id']}" in related


def _assert_dask_run_recorded(tracked: ControlPlane, run_id: str, n: int) -> None:
    run = tracked.get(f"flow-runs/{run_id}/")
    assert run["state_type"] == "COMPLETED"
    tasks = tracked.task_runs(run_id)
    squares = by_name(tasks, "dask_square")
    assert sorted(t["name"] for t in squares) == sorted(f"dask_square-{i}" for i in range(n))
    assert {t["state_type"] for t in squares} == {"COMPLETED"}
    # The retry happened on a worker; its whole history came back with the result.
    (retried,) = [t for t in squares if t["run_count"] == 2]
    assert retried["name"] == "dask_square-5"
    assert tracked.task_states(retried["id"]) == ["Running", "AwaitingRetry", "Retrying", "Completed"]
    assert tracked.task_states(squares[0]["id"]) == ["Running", "Completed"]
    (total,) = by_name(tasks, "dask_total")
    assert total["state_type"] == "COMPLETED"
    assert {i["id"] for i in total["task_inputs"]["squares"]} == {t["id"] for t in squares}
    # Log lines from the workers are numbered into the run's own sequence: one source, no gaps.
    lines = tracked.logs(run_id)
    by_task = {t["id"]: t["name"] for t in tasks}
    squaring = sorted(by_task[line["task_run_id"]] for line in lines if line["message"].startswith("squaring "))
    assert squaring == sorted([f"dask_square-{i}" for i in range(n)] + ["dask_square-5"])
    assert len({line["source"] for line in lines}) == 1
    assert sorted(line["seq"] for line in lines) == list(range(len(lines)))


def test_dask_task_runner_in_process_cluster(tracked: ControlPlane) -> None:
    assert pf.dask_map(20) == sum(i * i for i in range(20))
    _assert_dask_run_recorded(tracked, tracked.latest_run("dask-map")["id"], 20)


def test_dask_task_runner_with_worker_processes(tracked: ControlPlane) -> None:
    from tether_dask import DaskTaskRunner

    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 2})
    assert pf.dask_map.with_options(task_runner=runner)(8) == sum(i * i for i in range(8))
    _assert_dask_run_recorded(tracked, tracked.latest_run("dask-map")["id"], 8)


def test_results_and_cache_records_in_fsspec_storage(tracked: ControlPlane, tmp_path: Path) -> None:
    store = tmp_path / "fsspec-store"
    stored_report = pf.stored_report.with_options(result_storage=f"file://{store}")
    assert stored_report("2026-01-02") == "2026-01-02: USD 1.08"
    assert stored_report("2026-01-02") == "2026-01-02: USD 1.08"
    assert pf.CALLS == {"fetch_rates": 1, "render_report": 2}  # the second run's fetch was a cache hit

    second, first = tracked.flow_runs("stored-report")[:2]
    first_fetch, first_render = (by_name(tracked.task_runs(first["id"]), n)[0] for n in ("fetch_rates", "render"))
    second_fetch = by_name(tracked.task_runs(second["id"]), "fetch_rates")[0]
    assert (first_fetch["state_name"], second_fetch["state_name"]) == ("Completed", "Cached")
    assert second_fetch["cache_key"] == first_fetch["cache_key"]
    # Only keys reach the server; the values are in the fsspec store (and nowhere else).
    (completed,) = [s for s in tracked.get(f"task-runs/{first_fetch['id']}/states/") if s["name"] == "Completed"]
    assert completed["details"] == {"result_key": first_fetch["cache_key"]}
    (rendered,) = [s for s in tracked.get(f"task-runs/{first_render['id']}/states/") if s["name"] == "Completed"]
    assert rendered["details"] == {"result_key": "report-2026-01-02"}
    assert sorted(p.name for p in store.iterdir()) == sorted([first_fetch["cache_key"], "report-2026-01-02"])
    assert "USD 1.08" not in str(tracked.get(f"flow-runs/{first['id']}/"))
    assert not (tmp_path / "results").exists()  # TETHER_RESULTS_DIR, the default store, was not used
