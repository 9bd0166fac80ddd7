"""SDK overhead: 1,000 trivial tasks (sequential and submitted) tracked by the real server on
PostgreSQL, against the same work in plain Python; and the cost of `import tether`."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bench.harness import fresh_database, manage, report
from tests.support.processes import free_port, running, uvicorn_args

TASKS = 1000
ROUNDS = 3

IMPORT_PROBE = """
import json, time
started = time.perf_counter()
import tether
from tether import flow, task
elapsed = time.perf_counter() - started
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"ms": elapsed * 1000, "rss_mb": peak_kb / 1024}))
"""


def trivial(i: int) -> int:
    return i + 1


def plain_sequential() -> int:
    return sum(trivial(i) for i in range(TASKS))


def plain_submitted() -> int:
    with cf.ThreadPoolExecutor(min(32, (os.cpu_count() or 1) + 4)) as pool:
        return sum(f.result() for f in [pool.submit(trivial, i) for i in range(TASKS)])


def timed(fn: Callable[[], object]) -> float:
    fn()  # warm-up: imports, connections, thread pools
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def sdk_flows() -> tuple[Callable[[], int], Callable[[], int]]:
    from tether import flow, task

    @task
    def step(i: int) -> int:
        return i + 1

    @flow
    def sequential_1000() -> int:
        return sum(step(i) for i in range(TASKS))

    @flow
    def submitted_1000() -> int:
        return sum(f.result() for f in [step.submit(i) for i in range(TASKS)])

    return sequential_1000, submitted_1000


def import_cost() -> None:
    samples = [
        json.loads(
            subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(7)
    ]
    report("sdk", "import_ms", statistics.median(s["ms"] for s in samples), "ms")
    report("sdk", "import_rss_mb", statistics.median(s["rss_mb"] for s in samples), "MB")


def run() -> None:
    import logging

    import_cost()
    env = fresh_database()
    keys = json.loads(
        manage(
            "bootstrap",
            "--org",
            "acme",
            "--workspace",
            "prod",
            "--email",
            "bench@acme.test",
            "--password",
            "bench-password-0123",
            "--json",
            env=env,
        )
    )
    os.environ.setdefault("TETHER_LOGGING_LEVEL", "WARNING")  # console lines are not what we measure
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sequential, submitted = sdk_flows()
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(uvicorn_args(port), env=env, log_path=Path(tmp) / "server.log", port=port) as server,
    ):
        api_url = f"{server.url}/api/v1/orgs/acme/workspaces/prod"
        with environment(TETHER_API_URL=None, TETHER_RESULTS_DIR=tmp):
            untracked_seq = timed(sequential)
            untracked_sub = timed(submitted)
        with environment(TETHER_API_URL=api_url, TETHER_API_KEY=keys["api_key"], TETHER_RESULTS_DIR=tmp):
            tracked_seq = timed(sequential)
            tracked_sub = timed(submitted)
        base_seq = timed(plain_sequential)
        base_sub = timed(plain_submitted)

    report("sdk", "flow_total_ms_seq1000", tracked_seq * 1000, "ms")
    report("sdk", "flow_total_ms_submit1000", tracked_sub * 1000, "ms")
    # Per task, against the same work in plain Python (engine + tracking), and tracking alone.
    report("sdk", "task_overhead_ms_seq1000", (tracked_seq - base_seq) * 1000 / TASKS, "ms")
    report("sdk", "task_overhead_ms_submit1000", (tracked_sub - base_sub) * 1000 / TASKS, "ms")
    report("sdk", "task_tracking_ms_seq1000", (tracked_seq - untracked_seq) * 1000 / TASKS, "ms")
    report("sdk", "task_tracking_ms_submit1000", (tracked_sub - untracked_sub) * 1000 / TASKS, "ms")
