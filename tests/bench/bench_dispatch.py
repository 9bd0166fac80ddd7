"""Dispatch latency and throughput: a real server on PostgreSQL and real `tether agent` processes.

- 20 trivial runs created one at a time against an idle agent: run created → claimed (PENDING)
  → RUNNING → COMPLETED, read from each run's state history (server timestamps).
- 40 trivial runs drained by one agent with `--limit 8`: runs completed per second, from the
  first run's creation to the last run's completion.
- The idle agent's resident memory, from /proc, after it has run work and gone quiet.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.bench.harness import BENCH_DATABASE_URL, median, percentile, report
from tests.e2e.agent_support import FINAL, Server, agent, control_plane, rss_mb, wait_until, write_flows

GROUP = "dispatch"
LATENCY_RUNS = 20
THROUGHPUT_RUNS = 40


def _history(server: Server, run_id: str) -> dict[str, float]:
    """First timestamp of each state type in the run's history, as epoch seconds."""
    seen: dict[str, float] = {}
    for state in server.get(f"flow-runs/{run_id}/states/"):
        stamp = datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp()
        seen.setdefault(state["type"], stamp)
    return seen


def _wait_final(server: Server, run_ids: list[str], timeout: float) -> None:
    pending = set(run_ids)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} runs not finished after {timeout}s")
        for run_id in list(pending):
            if server.run(run_id)["state_type"] in FINAL:
                pending.discard(run_id)
        time.sleep(0.1)


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        flows = write_flows(tmp / "flows")
        with control_plane(tmp, BENCH_DATABASE_URL) as server:
            deployment = server.deployment("bench-pool", flows, entry="trivial")
            claimed, running, completed = [], [], []
            with agent(server, "bench-pool", tmp) as idle_agent:
                wait_until(lambda: "Control channel open" in idle_agent.log(), 30, idle_agent.log())
                time.sleep(1)
                for _ in range(LATENCY_RUNS):
                    run_id = server.create_run(deployment)
                    _wait_final(server, [run_id], 60)
                    history = _history(server, run_id)
                    created = history["SCHEDULED"]
                    claimed.append(history["PENDING"] - created)
                    running.append(history["RUNNING"] - created)
                    completed.append(history["COMPLETED"] - created)
                    time.sleep(0.3)  # the agent is idle again when the next run arrives
                time.sleep(3)
                idle_rss = rss_mb(idle_agent.pid)
            report(GROUP, "created_to_claimed_p50_s", median(claimed), "s")
            report(GROUP, "created_to_running_p50_s", median(running), "s")
            report(GROUP, "created_to_running_p95_s", percentile(running, 0.95), "s")
            report(GROUP, "created_to_completed_p50_s", median(completed), "s")

            with agent(server, "bench-pool", tmp, "--limit", "8") as busy_agent:
                wait_until(lambda: "Control channel open" in busy_agent.log(), 30, busy_agent.log())
                run_ids = [server.create_run(deployment) for _ in range(THROUGHPUT_RUNS)]
                _wait_final(server, run_ids, 300)
            histories = [_history(server, run_id) for run_id in run_ids]
            elapsed = max(h["COMPLETED"] for h in histories) - min(h["SCHEDULED"] for h in histories)
            report(GROUP, "trivial_runs_per_s_limit8", THROUGHPUT_RUNS / elapsed, "runs/s")
            report(GROUP, "agent_idle_rss_mb", idle_rss, "MB")
