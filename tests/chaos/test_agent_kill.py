"""RELIABILITY 32: an agent killed with SIGKILL mid-run, its host gone with it.

Two runs are RUNNING on the agent when it and its engines die: one without retries ends
CRASHED with the reason when its lease expires; one with a retry is re-queued once, and a
second agent runs it to completion. Nobody calls the reaper by hand: the periodic services
do. The dead holder's late reports (its old epoch) answer 409 and change nothing; the API shows the dead agent offline.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chaos.checks import assert_history_obeys_rules, assert_logs_complete
from tests.chaos.plane import ChaosPlane, Template, chaos_plane
from tests.e2e.agent_support import FINAL, Server, agent, wait_until

# The first scenario of a test process also builds the template database: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# Short, so that the dead agent's runs are dealt with within seconds; long enough that a slow
# heartbeat on a loaded machine does not crash the successor's run.
LEASE_SECONDS = 10


@pytest.fixture(scope="module")
def plane(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosPlane]:
    tmp = tmp_path_factory.mktemp("agent-kill")
    lease = str(LEASE_SECONDS)
    with chaos_plane(template, tmp, TETHER_AGENT_LEASE_SECONDS=lease, TETHER_AGENT_HEARTBEAT_SECONDS="1") as running:
        yield running


def _engine_credentials(pid: int) -> tuple[str, int]:
    environ = dict(
        item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item
    )
    return environ[b"TETHER_API_KEY"].decode(), int(environ[b"TETHER_FLOW_RUN_EPOCH"])


def _engine_of(engines: list[int], run_id: str) -> int:
    for pid in engines:
        if run_id.encode() in Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes():
            return pid
    raise AssertionError(f"no engine for {run_id}")


def _status(server: Server, agent_name: str) -> str:
    (found,) = [a for a in server.get("agents/")["results"] if a["name"] == agent_name]
    return str(found["status"])


def _late_report(server: Server, run_id: str, token: str, epoch: int) -> httpx.Response:
    body = {"state": {"type": "COMPLETED"}, "epoch": epoch}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{server.api_url}/flow-runs/{run_id}/set-state/", json=body, headers=headers, timeout=30)


def test_killed_agent_runs_are_crashed_or_requeued_once(
    plane: ChaosPlane, flows: Path, out: Path, tmp_path: Path
) -> None:
    server = plane.server
    deployment = server.deployment("kill-pool", flows, entry="chatty")
    retried = server.post(
        "deployments/",
        {
            "flow_name": "chatty",
            "name": "chatty-retried",
            "entrypoint": "flows.py:chatty",
            "source": {"type": "path", "path": str(flows)},
            "work_pool_name": "kill-pool",
            "retries": 1,
        },
    )["id"]
    with agent(server, "kill-pool", tmp_path, "--limit", "2", "--name", "doomed") as doomed:
        # Long enough to be mid-run when the agent dies; the retry of `requeued` runs it again in full.
        crashed_id = server.create_run(deployment, out=str(out), key="crashed", lines=600)
        requeued_id = server.create_run(retried, out=str(out), key="requeued", lines=80)
        server.wait_for(crashed_id, {"RUNNING"}, timeout=60)
        server.wait_for(requeued_id, {"RUNNING"}, timeout=60)
        wait_until(lambda: len(doomed.engines()) == 2, 30, doomed.log())
        engines = doomed.engines()
        credentials = {run_id: _engine_credentials(_engine_of(engines, run_id)) for run_id in (crashed_id, requeued_id)}
        # The host goes away: the agent and every flow process it started, with no chance to report.
        for pid in [doomed.pid, *engines]:
            os.kill(pid, signal.SIGKILL)
        doomed.process.wait(10)

    crashed = server.wait_for(crashed_id, FINAL, timeout=LEASE_SECONDS + 40)
    assert crashed["state_type"] == "CRASHED"
    assert "Agent lost" in crashed["state"]["message"]
    wait_until(
        lambda: server.run(requeued_id)["state_name"] == "AwaitingRetry",
        LEASE_SECONDS + 40,
        str(server.run(requeued_id)),
    )
    wait_until(lambda: _status(server, "doomed") == "offline", 3 + 30)

    with agent(server, "kill-pool", tmp_path, "--name", "successor") as successor:
        finished = server.wait_for(requeued_id, FINAL, timeout=90)
        assert finished["state_type"] == "COMPLETED", successor.log()
    assert finished["epoch"] > credentials[requeued_id][1]

    # The dead holder's reports, arriving late: with the agent's key and its old epoch, 409; with
    # the engine's run token, 409 or 401 (the token dies with the run's lease). Nothing changes.
    for run_id, (token, epoch) in credentials.items():
        before = server.get(f"flow-runs/{run_id}/states/")
        late = _late_report(server, run_id, server.agent_key, epoch)
        assert late.status_code == 409, late.text
        assert _late_report(server, run_id, token, epoch).status_code in (401, 409)
        assert server.get(f"flow-runs/{run_id}/states/") == before

    assert assert_history_obeys_rules(server, crashed_id) == ["Scheduled", "Pending", "Running", "Crashed"]
    history = assert_history_obeys_rules(server, requeued_id)
    assert history == ["Scheduled", "Pending", "Running", "Crashed", "AwaitingRetry", "Pending", "Running", "Completed"]
    assert sorted(p.name for p in out.iterdir()) == ["requeued"]  # the retry ran once; the crashed run never finished
    for run_id in (crashed_id, requeued_id):
        assert_logs_complete(server, run_id)
