"""Background tasks: a real server on PostgreSQL and two real `tether task-worker` processes, a trivial task.

- `delay_to_start_p50_s`: 20 `.delay()` calls one at a time against idle (long-polling)
  workers: the run's creation → its RUNNING state, from its state history (server timestamps).
- `throughput_per_s`: 300 runs queued while no worker runs, then two workers (`--limit 8`):
  runs completed per second, from the first run's start to the last run's end (server times).
- `delay_call_mean_ms`: what one `.delay()` costs the caller (arguments written, run created).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.bench.harness import BENCH_DATABASE_URL, median, percentile, report
from tests.e2e.agent_support import Server, control_plane
from tests.e2e.background_support import task_worker

GROUP = "tasks"
LATENCY_RUNS = 20
THROUGHPUT_RUNS = 300

TASKS_MODULE = """
from tether import task


@task
def trivial(n: int) -> int:
    return n
"""


def _stamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _first(server: Server, run_id: str, state_type: str) -> float:
    for state in server.get(f"task-runs/{run_id}/states/"):
        if state["type"] == state_type:
            return _stamp(state["timestamp"])
    raise RuntimeError(f"task run {run_id} never was {state_type}")


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        paths = {name: tmp / name for name in ("code", "storage", "out")}
        for directory in paths.values():
            directory.mkdir()
        paths["tmp"] = tmp
        (paths["code"] / "bench_bg_tasks.py").write_text(TASKS_MODULE)
        sys.path.insert(0, str(paths["code"]))
        with control_plane(tmp, BENCH_DATABASE_URL) as server:
            os.environ.update(
                {
                    "TETHER_API_URL": server.api_url,
                    "TETHER_API_KEY": server.api_key,
                    "TETHER_RESULTS_DIR": str(paths["storage"]),
                }
            )
            import bench_bg_tasks  # type: ignore[import-not-found]

            spec = "bench_bg_tasks:trivial"
            with task_worker(server, paths, "bench-a", spec), task_worker(server, paths, "bench-b", spec):
                bench_bg_tasks.trivial.delay(-1).result(timeout=120)  # both up, imports warm
                time.sleep(1)
                starts = []
                for n in range(LATENCY_RUNS):
                    future = bench_bg_tasks.trivial.delay(n)
                    future.result(timeout=60)
                    created = _first(server, future.task_run_id, "SCHEDULED")
                    starts.append(_first(server, future.task_run_id, "RUNNING") - created)
                report(GROUP, "delay_to_start_p50_s", median(starts), "s")
                report(GROUP, "delay_to_start_p95_s", percentile(starts, 0.95), "s")
            # Queued with no worker up, so the figure is the workers' pace, not the caller's.
            queued_at = time.monotonic()
            futures = [bench_bg_tasks.trivial.delay(n) for n in range(THROUGHPUT_RUNS)]
            report(GROUP, "delay_call_mean_ms", (time.monotonic() - queued_at) / THROUGHPUT_RUNS * 1000, "ms")
            with task_worker(server, paths, "bench-c", spec), task_worker(server, paths, "bench-d", spec):
                assert [f.result(timeout=600) for f in futures] == list(range(THROUGHPUT_RUNS))
            runs = [server.get(f"background-tasks/{f.task_run_id}/") for f in futures]
            first = min(_stamp(run["start_time"]) for run in runs)
            last = max(_stamp(run["end_time"]) for run in runs)
            report(GROUP, "throughput_per_s", THROUGHPUT_RUNS / (last - first), "runs/s")
