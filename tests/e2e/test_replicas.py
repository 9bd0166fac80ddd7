"""Issue 6, acceptance 9: two server replicas share pushes through the Redis channel layer.

Two independent web processes (production settings) share one PostgreSQL database and one
Redis. The agent says hello to, and holds its WebSocket on, replica B only; runs are created
through replica A. The agent's safety re-claim timer is set to two minutes and B never sees
the creating request, so the only way the agent can start such a run within seconds is the
`wake` that A published on Redis and B's consumer relayed down the agent's WebSocket.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.agent_support import (
    AGENT_DATABASE_URL,
    FINAL,
    Server,
    agent,
    control_plane_replicas,
    wait_until,
    write_flows,
)

pytestmark = pytest.mark.e2e

# Pushes and Celery of these tests live in their own Redis database.
REDIS_URL = "redis://127.0.0.1:6379/1"
SAFETY_CLAIM_SECONDS = 120
# Far below the safety timer, far above a push on a loaded machine.
PUSHED_WITHIN_SECONDS = 20
RUNS = 5


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    tmp = tmp_path_factory.mktemp("replicas")
    with control_plane_replicas(tmp, AGENT_DATABASE_URL + "_replicas", {"REDIS_URL": REDIS_URL}) as (a, b):
        yield a, b


def _first_timestamps(server: Server, run_id: str) -> dict[str, float]:
    seen: dict[str, float] = {}
    for state in server.get(f"flow-runs/{run_id}/states/"):
        seen.setdefault(state["type"], datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp())
    return seen


def test_a_run_created_on_replica_a_wakes_an_agent_connected_to_replica_b(
    replicas: tuple[Server, Server], tmp_path: Path
) -> None:
    a, b = replicas
    assert a.url != b.url
    flows = write_flows(tmp_path / "flows")
    deployment = a.deployment("replica-pool", flows)
    out = tmp_path / "out"
    out.mkdir()
    to_running: list[float] = []
    with agent(b, "replica-pool", tmp_path, "--claim-interval", str(SAFETY_CLAIM_SECONDS)) as on_b:
        wait_until(lambda: "Control channel open" in on_b.log(), 30, on_b.log())
        time.sleep(1)  # its first claim (on opening the channel) is over: it now waits for a wake
        for number in range(RUNS):
            run_id = a.create_run(deployment, out=str(out), key=f"r{number}")
            run = b.wait_for(run_id, FINAL, timeout=PUSHED_WITHIN_SECONDS + 30)
            assert run["state_type"] == "COMPLETED", on_b.log()
            stamps = _first_timestamps(a, run_id)
            claimed = stamps["PENDING"] - stamps["SCHEDULED"]
            assert claimed < PUSHED_WITHIN_SECONDS, f"claimed {claimed:.1f}s after creation: not by push"
            to_running.append(stamps["RUNNING"] - stamps["SCHEDULED"])
            time.sleep(0.5)  # idle again (the claim after a run ends is over) before the next one
    assert sorted(path.name for path in out.iterdir()) == [f"r{n}" for n in range(RUNS)]
    # The agent's WebSocket was held by B (uvicorn logs each accepted handshake); A never saw one.
    assert '"WebSocket /ws/v1/orgs/acme/workspaces/prod/agents/' in b.log_path.read_text()
    assert "WebSocket /ws/v1/" not in a.log_path.read_text()
    print(
        f"\nreplica A → agent on replica B, created → RUNNING: median {statistics.median(to_running):.2f}s, "
        f"max {max(to_running):.2f}s over {RUNS} runs"
    )
