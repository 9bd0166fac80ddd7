"""RELIABILITY 37: a 60 s network partition between an agent (and its flow run) and the server.

The agent and the engine it starts reach the server only through a TCP proxy the test cuts
for 60 s mid-run. The lease (longer than the partition, as in production: 60 s lease, 15 s
heartbeat) outlives it, so the run resumes: the agent retries with growing, jittered delays
rather than hammering; every log batch is stored once (gap-free sequence numbers, each line
once); the history has no duplicate transition; the run completes once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.chaos.checks import all_logs, assert_history_obeys_rules, assert_logs_complete, count_messages
from tests.chaos.plane import ChaosPlane, Template, chaos_plane
from tests.e2e.agent_support import FINAL, agent, agent_env, wait_until
from tests.support.tcp_proxy import TcpProxy

# The first scenario of a test process also builds the template database: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PARTITION_SECONDS = 60
LINES = 150
INTERVAL = 0.5  # the flow runs ~75 s: from before the cut until after the restore
RETRY = re.compile(r"retrying in ([\d.]+)s")


@pytest.fixture(scope="module")
def plane(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosPlane]:
    with chaos_plane(template, tmp_path_factory.mktemp("partition"), TETHER_AGENT_LEASE_SECONDS="120") as running:
        yield running


def test_a_60s_partition_resumes_the_run_losing_and_duplicating_nothing(
    plane: ChaosPlane, flows: Path, out: Path, tmp_path: Path
) -> None:
    server = plane.server
    deployment = server.deployment("partition-pool", flows, entry="chatty")
    upstream = urlsplit(server.url)
    assert upstream.hostname is not None
    assert upstream.port is not None
    with TcpProxy(upstream.hostname, upstream.port) as proxy:
        env = agent_env(server, TETHER_API_URL=proxy.url + urlsplit(server.api_url).path)
        # Room for a second run: the agent keeps trying to claim through the partition.
        with agent(server, "partition-pool", tmp_path, "--limit", "2", env=env) as running:
            run_id = server.create_run(deployment, out=str(out), key="partitioned", lines=LINES, interval=INTERVAL)
            server.wait_for(run_id, {"RUNNING"}, timeout=60)
            wait_until(lambda: len(all_logs(server, run_id)) >= 3, 30, running.log())

            proxy.cut()
            connections_before_cut = proxy.connections
            cut_log = len(running.log())
            time.sleep(PARTITION_SECONDS)
            during = running.log()[cut_log:]
            assert server.run(run_id)["state_type"] == "RUNNING"  # the lease outlived the partition
            assert proxy.connections == connections_before_cut  # nothing got through
            proxy.restore()

            finished = server.wait_for(run_id, FINAL, timeout=120)
            wait_until(lambda: "finished (exit" in running.log(), 30, running.log()[-3000:])
            agent_log = running.log()

    assert finished["state_type"] == "COMPLETED", agent_log[-3000:]
    assert assert_history_obeys_rules(server, run_id) == ["Scheduled", "Pending", "Running", "Completed"]
    lines = assert_logs_complete(server, run_id)
    assert count_messages(lines, "line ") == {f"line {i}": 1 for i in range(LINES)}
    assert [p.name for p in out.iterdir()] == ["partitioned"]

    delays = [float(d) for d in RETRY.findall(during)]
    # Backoff: a handful of attempts in 60 s, not one per heartbeat or poll; the waits grow...
    assert 3 <= len(delays) <= 40, during[-3000:]
    assert max(delays) >= 2.0, delays
    # ...and are jittered: no fixed schedule that a fleet of agents would follow in lockstep.
    assert len(set(delays)) >= len(delays) - 1, delays
