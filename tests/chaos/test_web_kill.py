"""The web process killed with SIGKILL mid-request, and a new one started in its place.

An agent without WebSocket is always inside a long-poll claim, its flow run is shipping log
batches, and a client is creating runs with idempotency keys: the kill cuts requests of all
three in flight. Once a new web process listens on the same address, everybody carries on
without a manual step: the run completes once with every log line, the history is clean, a
run created afterwards is claimed, and each idempotency key still names exactly one run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.checks import assert_history_obeys_rules, assert_logs_complete, count_messages
from tests.chaos.load import Load, idle_deployment
from tests.chaos.plane import ChaosPlane, Template, chaos_plane
from tests.e2e.agent_support import FINAL, agent, wait_until

# The first scenario of a test process also builds the template database: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LINES = 100
DOWN_SECONDS = 3


@pytest.fixture(scope="module")
def plane(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosPlane]:
    with chaos_plane(template, tmp_path_factory.mktemp("web-kill")) as running:
        yield running


def test_web_killed_mid_request_loses_and_duplicates_nothing(
    plane: ChaosPlane, flows: Path, out: Path, tmp_path: Path
) -> None:
    server = plane.server
    deployment = server.deployment("web-kill-pool", flows, entry="chatty")
    load_deployment = idle_deployment(server, "web-kill-load-pool")
    with agent(server, "web-kill-pool", tmp_path, "--limit", "2", "--no-websocket") as running:
        run_id = server.create_run(deployment, out=str(out), key="through-kill", lines=LINES)
        server.wait_for(run_id, {"RUNNING"}, timeout=60)
        load = Load(server, load_deployment).start()
        wait_until(lambda: len(load.run_ids) >= 5, 30, "no load before the kill")

        plane.kill_web()
        killed_at = time.monotonic()
        time.sleep(DOWN_SECONDS)
        plane.start_web()

        wait_until(lambda: load.statuses(time.monotonic() - 2)[201] >= 3, 60, f"no recovery: {load.statuses()}")
        load.stop()
        finished = server.wait_for(run_id, FINAL, timeout=120)
        after = server.create_run(deployment, out=str(out), key="after-kill", lines=3)
        assert server.wait_for(after, FINAL, timeout=60)["state_type"] == "COMPLETED", running.log()[-3000:]
        agent_log = running.log()

    assert finished["state_type"] == "COMPLETED", agent_log[-3000:]
    assert load.statuses(killed_at, killed_at + DOWN_SECONDS - 0.5)[0] >= 1  # the load did hit the dead server
    for one in (run_id, after):
        assert assert_history_obeys_rules(server, one) == ["Scheduled", "Pending", "Running", "Completed"]
    lines = assert_logs_complete(server, run_id)
    assert count_messages(lines, "line ") == {f"line {i}": 1 for i in range(LINES)}
    assert sorted(p.name for p in out.iterdir()) == ["after-kill", "through-kill"]
    created = server.get("flow-runs/", deployment_id=load_deployment, page_size=1000)["results"]
    assert sorted(r["id"] for r in created) == sorted(load.run_ids.values())  # one run per key
