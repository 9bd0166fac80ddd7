"""The agent end to end: a real server on PostgreSQL, real `tether agent start` processes.

The server runs with a 4 s lease and a 1 s heartbeat so that a dead agent's run is reaped
quickly. The lease reaper is not a running service under these settings (production runs it
from Celery beat); the kill -9 test calls `reap()` through `manage.py shell` itself, which is
what beat would do, at a moment the test chooses.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.agent_support import (
    FINAL,
    Server,
    agent,
    alive,
    control_plane,
    listening_sockets,
    socket_inodes,
    wait_until,
    write_flows,
)

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("agent-server")
    with control_plane(
        tmp,
        TETHER_AGENT_LEASE_SECONDS=str(LEASE_SECONDS),
        TETHER_AGENT_HEARTBEAT_SECONDS="1",
        TETHER_AGENT_LONG_POLL_SECONDS="10",
    ) as running:
        yield running


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    return write_flows(tmp_path / "flows")


def test_runs_with_its_run_token_never_the_agent_key(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("token-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "token-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(out), key="only", sleep=3)
        server.wait_for(run_id, {"RUNNING"})
        wait_until(lambda: running.engines(), 5, "no engine process under the agent")
        (engine,) = running.engines()
        environ = dict(
            item.split(b"=", 1) for item in Path(f"/proc/{engine}/environ").read_bytes().split(b"\0") if b"=" in item
        )
        assert environ[b"TETHER_API_KEY"].startswith(b"tether_run_")
        assert environ[b"TETHER_FLOW_RUN_EPOCH"] == str(server.run(run_id)["epoch"]).encode()
        assert server.agent_key.encode() not in Path(f"/proc/{engine}/environ").read_bytes()
        assert Path(f"/proc/{engine}/cwd").resolve() == flows.resolve()
        finished = server.wait_for(run_id, FINAL)
        wait_until(lambda: f"{finished['name']} finished" in running.log(), 10, running.log())
    assert finished["state_type"] == "COMPLETED", running.log()
    assert (out / "only").exists()
    assert f"{finished['name']} | " in running.log()  # the engine's output, prefixed with the run name
    assert f"{finished['name']} finished (exit 0)" in running.log()  # no CRASHED attempt after a completed run
    assert server.agent_key not in running.log()


def test_outbound_only_no_listening_socket(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("outbound-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "outbound-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(out), key="k", sleep=2)
        server.wait_for(run_id, {"RUNNING"})
        wait_until(lambda: "Control channel open" in running.log(), 10, running.log())
        # A check that can fail: the agent does hold sockets (HTTPS + WebSocket), just none listening.
        assert socket_inodes(running.pid)
        assert listening_sockets(running.pid) == set()
        for engine in running.engines():
            assert listening_sockets(engine) == set()
        assert server.wait_for(run_id, FINAL)["state_type"] == "COMPLETED"


def test_exactly_once_with_agents_racing(server: Server, flows: Path, tmp_path: Path) -> None:
    runs = int(os.environ.get("TETHER_AGENT_TEST_RACE_RUNS", "200"))
    deployment = server.deployment("race-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with (
        agent(server, "race-pool", tmp_path, "--limit", "4", "--name", "racer-1") as a,
        agent(server, "race-pool", tmp_path, "--limit", "4", "--name", "racer-2") as b,
        agent(server, "race-pool", tmp_path, "--limit", "4", "--name", "racer-3", "--no-websocket") as c,
    ):
        ids = [server.create_run(deployment, out=str(out), key=f"run-{i}") for i in range(runs)]
        deadline = time.monotonic() + 240
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for run_id in list(pending)[:50]:
                if server.run(run_id)["state_type"] in FINAL:
                    pending.discard(run_id)
            time.sleep(0.5)
        logs = a.log() + b.log() + c.log()
    assert not pending, f"{len(pending)} runs never finished\n{logs[-3000:]}"
    states = {server.run(run_id)["state_type"] for run_id in ids}
    assert states == {"COMPLETED"}, logs[-3000:]
    markers = sorted(path.name for path in out.iterdir())
    assert markers == sorted(f"run-{i}" for i in range(runs))  # one per run: none lost, none twice
    assert "FileExistsError" not in logs


def test_cancel_stops_the_process_within_grace(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("cancel-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "cancel-pool", tmp_path, "--grace-seconds", "10") as running:
        run_id = server.create_run(deployment, out=str(out), key="c", sleep=60)
        server.wait_for(run_id, {"RUNNING"})
        wait_until(lambda: running.engines(), 5)
        (engine,) = running.engines()
        started = time.monotonic()
        server.post(f"flow-runs/{run_id}/cancel/", {})
        run = server.wait_for(run_id, FINAL, timeout=12)
        wait_until(lambda: not alive(engine), 12 - (time.monotonic() - started), "the engine is still alive")
        assert time.monotonic() - started < 10 + 2
    assert run["state_type"] == "CANCELLED"
    assert not (out / "c").exists()


def test_cancel_kills_a_process_that_ignores_sigterm(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("stubborn-pool", flows, entry="stubborn")
    with agent(server, "stubborn-pool", tmp_path, "--grace-seconds", "2") as running:
        run_id = server.create_run(deployment)
        server.wait_for(run_id, {"RUNNING"})
        wait_until(lambda: running.engines(), 5)
        (engine,) = running.engines()
        time.sleep(0.5)  # let the flow install its SIGTERM-ignoring handler
        started = time.monotonic()
        server.post(f"flow-runs/{run_id}/cancel/", {})
        run = server.wait_for(run_id, FINAL, timeout=2 + 2)
        assert time.monotonic() - started < 2 + 2
        assert not alive(engine)
    assert run["state_type"] == "CANCELLED", running.log()
    assert "reported CANCELLED" in running.log()


def test_agent_killed_mid_run_is_crashed_after_its_lease(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("kill-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "kill-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(out), key="k", sleep=60)
        server.wait_for(run_id, {"RUNNING"})
        wait_until(lambda: running.engines(), 5)
        orphans = running.engines()
        os.kill(running.pid, signal.SIGKILL)
        running.process.wait()
        killed = time.monotonic()
        try:
            time.sleep(LEASE_SECONDS + 0.5)
            assert server.run(run_id)["state_type"] == "RUNNING"  # nobody finalised it early
            deadline = killed + LEASE_SECONDS + 10
            while server.run(run_id)["state_type"] != "CRASHED" and time.monotonic() < deadline:
                server.reap()  # what Celery beat does every few seconds in production
            run = server.run(run_id)
        finally:
            for pid in orphans:
                os.kill(pid, signal.SIGKILL)
    assert run["state_type"] == "CRASHED"
    assert "Agent lost" in run["state"]["message"]


def test_long_poll_without_websocket(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("poll-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "poll-pool", tmp_path, "--no-websocket") as running:
        wait_until(lambda: "long-poll" in running.log(), 10, running.log())
        time.sleep(1)  # the agent is now inside a long-poll claim
        started = time.monotonic()
        run_id = server.create_run(deployment, out=str(out), key="p")
        run = server.wait_for(run_id, FINAL, timeout=20)
        elapsed = time.monotonic() - started
    assert run["state_type"] == "COMPLETED", running.log()
    assert elapsed < 5  # the long-poll answers as the run is created, not at its end
    assert "Control channel" not in running.log()


def test_sigterm_drains_running_runs_then_exits_zero(server: Server, flows: Path, tmp_path: Path) -> None:
    deployment = server.deployment("drain-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    with agent(server, "drain-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(out), key="d", sleep=3)
        server.wait_for(run_id, {"RUNNING"})
        # Idle on its WebSocket (not inside a long-poll, which could still return the next run).
        wait_until(lambda: "Control channel open" in running.log(), 10, running.log())
        time.sleep(0.5)
        running.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        later = server.create_run(deployment, out=str(out), key="later")
        assert running.process.wait(20) == 0, running.log()
    assert server.run(run_id)["state_type"] == "COMPLETED"
    assert server.run(later)["state_type"] == "SCHEDULED", running.log()  # not claimed while draining
    assert "draining 1 run(s)" in running.log()
