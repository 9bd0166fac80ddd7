"""Issue 7, acceptance 3 (second half): a slot holder killed with SIGKILL leaks nothing.

Real processes throughout: the server (uvicorn on PostgreSQL), a holder and an acquirer that
use the SDK's `concurrency()`, the lease clean-up service (`manage.py run_services --once`,
what Celery beat runs in production), and an agent whose flow holds slots with its run token.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from tests.bench.harness import manage
from tests.e2e.agent_support import Server, agent, control_plane, wait_until

pytestmark = pytest.mark.e2e

DATABASE_URL = os.environ.get(
    "TETHER_CONCURRENCY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_concurrency_tests"
)
LEASE_SECONDS = 3.0

HOLDER = """
import sys, time
from tether.concurrency import concurrency
with concurrency("gpu", lease_duration=float(sys.argv[1])):
    print("HOLDING", flush=True)
    time.sleep(600)
"""

ACQUIRER = """
import time
from tether.concurrency import concurrency
with concurrency("gpu", timeout_seconds=60):
    print("ACQUIRED", time.time(), flush=True)
"""

FLOWS = """
import time
from tether import flow, task
from tether.concurrency import concurrency


@task(tags=["warehouse"])
def load(i: int) -> int:
    time.sleep(0.2)
    return i


@flow
def guarded() -> int:
    with concurrency("gpu", timeout_seconds=60):
        total = sum(load.map(range(4)).result())
    return total
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("concurrency-server")
    with control_plane(tmp, DATABASE_URL, TETHER_AGENT_HEARTBEAT_SECONDS="1") as running:
        running.post("concurrency-limits/", {"name": "gpu", "limit": 1})
        running.post("concurrency-limits/", {"name": "tag:warehouse", "limit": 2})
        yield running


def _sdk_env(server: Server) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TETHER_")}
    return {**env, "TETHER_API_URL": server.api_url, "TETHER_API_KEY": server.api_key}


def _leases() -> list[tuple[str, datetime, datetime]]:
    with psycopg.connect(DATABASE_URL) as conn:
        rows = conn.execute("SELECT id::text, created_at, expires_at FROM concurrency_concurrencylease").fetchall()
    return [(row[0], row[1], row[2]) for row in rows]


def _active_slots(server: Server, name: str) -> float:
    (limit,) = server.get("concurrency-limits/", name=name)["results"]
    return float(limit["active_slots"])


def _wait_for_line(process: subprocess.Popen[str], line: str, timeout: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = process.stdout.readline()
        if got.strip() == line:
            return
        if not got and process.poll() is not None:
            break
    raise AssertionError(f"no {line!r} from the process (exit {process.poll()})")


def test_a_killed_holder_frees_its_slot_when_the_lease_expires(server: Server) -> None:
    env = _sdk_env(server)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(LEASE_SECONDS)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        _wait_for_line(holder, "HOLDING", 60)
        # Held past two lease durations: the background renewal keeps it.
        time.sleep(LEASE_SECONDS * 2)
        assert holder.poll() is None
        assert _active_slots(server, "gpu") == 1
        os.kill(holder.pid, signal.SIGKILL)
        killed_at = time.time()
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    (dead_lease,) = _leases()  # the dead holder's, no longer renewed
    _, _, dead_expires_at = dead_lease
    assert dead_expires_at.timestamp() > killed_at  # the slot outlived its holder: only expiry can free it

    acquirer = subprocess.run(
        [sys.executable, "-c", ACQUIRER], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert acquirer.returncode == 0, acquirer.stderr
    word, acquired_at = acquirer.stdout.split()
    assert word == "ACQUIRED"
    # Same clock: the acquirer got the slot only after the dead holder's lease had run out.
    assert float(acquired_at) >= dead_expires_at.timestamp()
    assert _active_slots(server, "gpu") == 0
    (remaining,) = _leases()
    assert remaining == dead_lease  # the acquirer released its own lease on exit; the dead one lingers

    cleanup = manage("run_services", "--once", env=server.env)
    assert "concurrency-lease-cleanup: 1" in cleanup
    assert _leases() == []


def test_a_flow_run_holds_slots_with_its_run_token(server: Server, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "flows.py").write_text(textwrap.dedent(FLOWS))
    deployment = server.deployment("concurrency-pool", flows, entry="guarded")
    with agent(server, "concurrency-pool", tmp_path) as running:
        run_id = server.create_run(deployment)
        finished = server.wait_for(run_id, {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}, timeout=90)
        assert finished["state_type"] == "COMPLETED", running.log()
    tasks = server.get("task-runs/", flow_run_id=run_id)["results"]
    assert len(tasks) == 4
    assert {task["state_type"] for task in tasks} == {"COMPLETED"}
    wait_until(lambda: _active_slots(server, "gpu") == 0, 10, "the flow's lease was not released")
    assert _active_slots(server, "tag:warehouse") == 0
    assert _leases() == []
