"""The SDK through network trouble (issue 5, acceptance 4): a TCP proxy between the SDK and the real server.

A flow whose reporter cannot reach the server for 30 s mid-run completes once the server is
back, and the server ends up with every task-run state and log line exactly once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.agent.conftest import ControlPlane
from tests.support.tcp_proxy import TcpProxy
from tether import flow, get_run_logger, task
from tether.context import get_run_context

pytestmark = pytest.mark.e2e

OUTAGE_SECONDS = 30
SERVER_BACK = threading.Event()


@task(retries=1)
def outage_step(i: int) -> int:
    get_run_logger().info("step %d", i)
    if i % 7 == 3 and get_run_context().task_run.run_count == 1:  # type: ignore[union-attr]
        raise ConnectionError(f"step {i} failed once")
    return i


@flow
def survives_outage(steps_after_outage: int = 20) -> int:
    logger = get_run_logger()
    i = after = 0
    while after < steps_after_outage:
        if i % 5 == 0:
            outage_step.submit(i).result()
        else:
            outage_step(i)
        logger.info("flow line %d", i)
        i += 1
        if SERVER_BACK.is_set():
            after += 1
        time.sleep(0.1)
    return i


@task(retries=1, retry_delay_seconds=1)
def fails_once() -> str:
    if get_run_context().task_run.run_count == 1:  # type: ignore[union-attr]
        raise ConnectionError("first attempt fails")
    return "ok"


@flow
def answer_lost() -> str:
    return fails_once()


@pytest.fixture
def proxy(control_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[TcpProxy]:
    """The SDK reaches the control plane only through this proxy."""
    server = urlsplit(control_plane.api_url)
    assert server.hostname is not None
    assert server.port is not None
    with TcpProxy(server.hostname, server.port) as tcp:
        monkeypatch.setenv("TETHER_API_URL", f"{tcp.url}{server.path}")
        monkeypatch.setenv("TETHER_API_KEY", control_plane.api_key)
        monkeypatch.setenv("TETHER_RESULTS_DIR", str(tmp_path / "results"))
        yield tcp


def _latest_run(tracked: ControlPlane, flow_name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = tracked.flow_runs(flow_name)
        if runs:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError(f"no run of {flow_name}")


def _wait_for_task_runs(tracked: ControlPlane, run_id: str, count: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = len(tracked.task_runs(run_id))
        if found >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} task runs reached the server")


def _all_logs(tracked: ControlPlane, run_id: str) -> list[dict[str, Any]]:
    page: Any = tracked.get(f"flow-runs/{run_id}/logs/", page_size=1000)
    lines = list(page["results"])
    while page.get("next"):
        response = tracked.http.get(page["next"])
        response.raise_for_status()
        page = response.json()
        lines.extend(page["results"])
    return lines


def _stamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_a_30s_outage_mid_run_loses_and_duplicates_nothing(control_plane: ControlPlane, proxy: TcpProxy) -> None:
    SERVER_BACK.clear()
    outcome: dict[str, Any] = {}

    def run_flow() -> None:
        try:
            outcome["steps"] = survives_outage()
        except BaseException as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=run_flow, daemon=True)
    runner.start()
    flow_run = _latest_run(control_plane, "survives-outage")
    _wait_for_task_runs(control_plane, flow_run["id"], 15)

    proxy.cut()
    cut_at = dt.datetime.now(dt.UTC)
    time.sleep(2)
    seen_during_outage = len(control_plane.task_runs(flow_run["id"]))
    time.sleep(OUTAGE_SECONDS - 2)
    assert len(control_plane.task_runs(flow_run["id"])) == seen_during_outage  # nothing got through
    restored_at = dt.datetime.now(dt.UTC)
    proxy.restore()
    SERVER_BACK.set()
    runner.join(240)
    assert not runner.is_alive()
    assert "error" not in outcome, outcome
    steps = outcome["steps"]

    run = control_plane.get(f"flow-runs/{flow_run['id']}/")
    assert run["state_type"] == "COMPLETED"
    assert control_plane.states(run["id"]) == ["Running", "Completed"]

    tasks = control_plane.task_runs(run["id"])
    assert sorted(t["name"] for t in tasks) == sorted(f"outage_step-{i}" for i in range(steps))
    by_step = {int(t["name"].rsplit("-", 1)[1]): t for t in tasks}
    ran_during_outage = 0
    for i, task_run in by_step.items():
        history = control_plane.get(f"task-runs/{task_run['id']}/states/")
        expected = ["Running", "Completed"] if i % 7 != 3 else ["Running", "AwaitingRetry", "Retrying", "Completed"]
        assert [s["name"] for s in history] == expected, (i, history)
        if cut_at < _stamp(history[0]["timestamp"]) < restored_at:
            ran_during_outage += 1
    assert ran_during_outage >= 10  # the flow kept running its tasks while the server was unreachable

    lines = _all_logs(control_plane, run["id"])
    assert len({line["source"] for line in lines}) == 1
    assert sorted(line["seq"] for line in lines) == list(range(len(lines)))  # contiguous: none lost
    counts = Counter(line["message"] for line in lines)
    for i in range(steps):
        assert counts[f"flow line {i}"] == 1, i
        assert counts[f"step {i}"] == (2 if i % 7 == 3 else 1), i
    assert sum(n for message, n in counts.items() if message.startswith("Finished in state Completed")) == 1


def test_a_lost_answer_is_not_sent_twice(control_plane: ControlPlane, proxy: TcpProxy) -> None:
    # The first batch ([Running, AwaitingRetry]) is applied, but its answer never comes back.
    # Sent again blindly, Running would be accepted a second time (AwaitingRetry → Running).
    proxy.drop_next_response(b"task-runs/batch/")
    assert answer_lost() == "ok"
    assert proxy.dropped_responses == 1

    run = control_plane.latest_run("answer-lost")
    assert run["state_type"] == "COMPLETED"
    (task_run,) = control_plane.task_runs(run["id"])
    assert control_plane.task_states(task_run["id"]) == ["Running", "AwaitingRetry", "Retrying", "Completed"]
