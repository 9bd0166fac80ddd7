"""RELIABILITY 36: Redis goes down under load, then comes back empty.

Redis carries pushes (the channel layer), the Celery broker, the cache and the rate limits;
PostgreSQL holds every state. With Redis killed mid-run: the running flow's state reports and
log batches are still accepted and it completes; a run created meanwhile is still claimed (the
agent falls back to long-poll) and completes. When Redis returns, empty, the agent reopens its
control channel by itself and the next run is pushed to it as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.checks import assert_history_obeys_rules, assert_logs_complete, count_messages
from tests.chaos.plane import ChaosPlane, Template, chaos_plane
from tests.chaos.services import PrivateRedis
from tests.e2e.agent_support import FINAL, agent, wait_until

# The first scenario of a test process also builds the template database: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LINES = 80
CONTROL_OPEN = "Control channel open"


@pytest.fixture(scope="module")
def plane(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosPlane]:
    with chaos_plane(template, tmp_path_factory.mktemp("redis-restart")) as running:
        yield running


def _is_a_500(line: str) -> bool:
    return '"level": "ERROR", "logger": "django.request"' in line


def test_redis_down_degrades_to_long_poll_and_resyncs(
    plane: ChaosPlane, private_redis: PrivateRedis, flows: Path, out: Path, tmp_path: Path
) -> None:
    server = plane.server
    deployment = server.deployment("redis-pool", flows, entry="chatty")
    with agent(server, "redis-pool", tmp_path) as running:
        wait_until(lambda: CONTROL_OPEN in running.log(), 60, running.log())
        through = server.create_run(deployment, out=str(out), key="through-outage", lines=LINES)
        server.wait_for(through, {"RUNNING"}, timeout=60)

        private_redis.stop()
        try:
            during = server.create_run(deployment, out=str(out), key="during-outage", lines=5)
            assert server.wait_for(through, FINAL, timeout=90)["state_type"] == "COMPLETED", running.log()[-3000:]
            assert server.wait_for(during, FINAL, timeout=90)["state_type"] == "COMPLETED", running.log()[-3000:]
            opened_before = running.log().count(CONTROL_OPEN)
        finally:
            private_redis.start()

        wait_until(lambda: running.log().count(CONTROL_OPEN) > opened_before, 90, running.log()[-3000:])
        time.sleep(0.5)
        after = server.create_run(deployment, out=str(out), key="after-outage", lines=5)
        assert server.wait_for(after, FINAL, timeout=60)["state_type"] == "COMPLETED", running.log()[-3000:]
        agent_log = running.log()

    for run_id in (through, during, after):
        assert assert_history_obeys_rules(server, run_id) == ["Scheduled", "Pending", "Running", "Completed"]
        assert_logs_complete(server, run_id)
    lines = assert_logs_complete(server, through)
    assert count_messages(lines, "line ") == {f"line {i}": 1 for i in range(LINES)}
    assert sorted(p.name for p in out.iterdir()) == ["after-outage", "during-outage", "through-outage"]
    server_errors = [line for line in plane.web_log.read_text(errors="replace").splitlines() if _is_a_500(line)]
    assert server_errors == []  # every HTTP request answered: Redis is not on the path of a state report
    assert "long-poll" in agent_log
