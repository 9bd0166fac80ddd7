"""RELIABILITY 35: PostgreSQL restarts under load.

While an agent runs a flow that logs steadily and a client reads and creates runs, the
(private) database is shut down for a few seconds and started again. For the duration the
API answers 503, never a 500; afterwards it recovers without anyone restarting anything. The
flow run completes once with every log line, each run created under load exists once per
idempotency key, and no run's state disagrees with its history (no half-applied transition).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chaos.checks import assert_history_obeys_rules, assert_logs_complete, count_messages, states
from tests.chaos.load import Load, idle_deployment
from tests.chaos.plane import ChaosPlane, Template, chaos_plane
from tests.chaos.services import PrivatePostgres
from tests.e2e.agent_support import FINAL, agent, wait_until

# The first scenario of a test process also builds the template database: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DOWN_SECONDS = 5
LINES = 150


@pytest.fixture(scope="module")
def plane(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosPlane]:
    # A request waits this long for a database connection before answering 503.
    with chaos_plane(template, tmp_path_factory.mktemp("postgres-restart"), TETHER_DB_POOL_TIMEOUT="2") as running:
        yield running


def test_postgres_restart_under_load_is_503_then_recovers(
    plane: ChaosPlane, private_postgres: PrivatePostgres, flows: Path, out: Path, tmp_path: Path
) -> None:
    server = plane.server
    deployment = server.deployment("pg-pool", flows, entry="chatty")
    load_deployment = idle_deployment(server, "pg-load-pool")
    with agent(server, "pg-pool", tmp_path) as running:
        run_id = server.create_run(deployment, out=str(out), key="through-restart", lines=LINES)
        server.wait_for(run_id, {"RUNNING"}, timeout=60)
        load = Load(server, load_deployment).start()
        wait_until(lambda: len(load.run_ids) >= 5, 30, "no load before the restart")

        private_postgres.stop()
        down_at = time.monotonic()
        wait_until(lambda: load.statuses(down_at + 1)[503] >= 3, 30, f"no 503 while down: {load.statuses(down_at)}")
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        private_postgres.start()
        up_at = time.monotonic()

        wait_until(lambda: load.statuses(time.monotonic() - 2)[201] >= 3, 60, f"no recovery: {load.statuses(up_at)}")
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        load.stop()
        finished = server.wait_for(run_id, FINAL, timeout=120)
        agent_log = running.log()

    assert ready.status_code == 200, ready.text
    assert finished["state_type"] == "COMPLETED", agent_log[-3000:]
    assert load.statuses()[500] == 0, [a for a in load.answers if a.status == 500]
    assert set(load.statuses()) <= {200, 201, 503, 0}, load.statuses()

    history = assert_history_obeys_rules(server, run_id)
    assert history == ["Scheduled", "Pending", "Running", "Completed"]
    lines = assert_logs_complete(server, run_id)
    assert count_messages(lines, "line ") == {f"line {i}": 1 for i in range(LINES)}
    assert [p.name for p in out.iterdir()] == ["through-restart"]

    created = server.get("flow-runs/", deployment_id=load_deployment, page_size=1000)["results"]
    assert sorted(r["id"] for r in created) == sorted(load.run_ids.values())  # one run per key, none half-made
    for run in created:
        assert run["state_type"] == "SCHEDULED"  # (Late, on a slow machine: still SCHEDULED)
        assert assert_history_obeys_rules(server, run["id"])[0] == "Scheduled"
        assert states(server, run["id"])[-1]["type"] == run["state_type"]  # the run agrees with its history
