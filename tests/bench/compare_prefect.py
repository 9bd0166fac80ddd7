"""Tether against Prefect 3.8.8, the same workloads on the same machine in one run (docs/bench.md).

    .venv/bin/python -m tests.bench.compare_prefect [--idle-agents 50] [--latency-runs 20] [--drain-runs 30]

Not part of `make test` nor `make bench` (it installs Prefect into var/prefect-compare/venv on
first use). Each system runs alone: Tether's phase, then Prefect's, each on its own fresh
PostgreSQL database. Each figure is printed as `BENCH compare.<workload>_<system> <value> <unit>`
and the ratio as `BENCH compare.<workload>_ratio <ratio> x`, oriented so that larger is better
for Tether (tether/prefect for rates, prefect/tether for times and sizes); a table ends the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bench.compare_prefect_side import PYTHON as PREFECT_PYTHON
from tests.bench.compare_prefect_side import PrefectSide, ensure_venv, prefect_server
from tests.bench.compare_tether_side import TetherSide, tether_server
from tests.bench.harness import hammer, median, report
from tests.load.metrics import cpu_seconds, process_tree
from tests.support.processes import REPO_ROOT

FINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}
TASKS = 1000
CREATES_PER_ROUND = 200
ROUNDS = 3
CONCURRENCY = 16
IDLE_SECONDS = 60.0
FIGURES_DIR = REPO_ROOT / "var" / "prefect-compare" / "figures"

IMPORT_PROBE = """
import json, sys, time
started = time.perf_counter()
module = __import__(sys.argv[1])
module.flow, module.task
elapsed = time.perf_counter() - started
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"ms": elapsed * 1000, "rss_mb": peak_kb / 1024}))
"""

# The same flow for both SDKs (their decorators have the same shape): sequential trivial tasks.
TASK_PROBE = """
import json, statistics, sys, time
module = __import__(sys.argv[1])
count, rounds = int(sys.argv[2]), int(sys.argv[3])

@module.task
def step(i: int) -> int:
    return i + 1

@module.flow
def sequential(n: int) -> int:
    return sum(step(i) for i in range(n))

def plain(n: int) -> int:
    return sum(i + 1 for i in range(n))

def timed(fn):
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn(count)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)

sequential(20)  # warm-up: imports, connections, the flow's registration
print(json.dumps({"flow_s": timed(sequential), "plain_s": timed(plain)}))
"""


@dataclass(frozen=True)
class Workload:
    name: str
    unit: str
    higher_is_better: bool
    description: str


WORKLOADS = [
    Workload("task_overhead", "ms/task", False, f"per-task overhead, {TASKS} sequential tasks, tracked"),
    Workload("create_throughput", "runs/s", True, f"flow-run creation, {CONCURRENCY} concurrent clients"),
    Workload("list200", "ms", False, "list 200 runs (median)"),
    Workload("created_to_running", "s", False, "created -> RUNNING, idle agent/worker (median)"),
    Workload("drain", "runs/min", True, "trivial runs drained by one agent/worker (limit 8)"),
    Workload("idle_cpu", "% core", False, "server CPU, N idle agents/workers connected"),
    Workload("sdk_import", "ms", False, "SDK import time (median of 7)"),
    Workload("sdk_import_rss", "MB", False, "RSS after importing the SDK"),
]


@dataclass(frozen=True)
class Options:
    idle_agents: int
    latency_runs: int
    drain_runs: int
    task_rounds: int


def log(message: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {message}", flush=True)


def import_cost(python: str, package: str) -> tuple[float, float]:
    samples = [
        json.loads(
            subprocess.run(
                [python, "-c", IMPORT_PROBE, package], capture_output=True, text=True, check=True, cwd="/tmp"
            ).stdout
        )
        for _ in range(7)
    ]
    return statistics.median(s["ms"] for s in samples), statistics.median(s["rss_mb"] for s in samples)


def task_overhead(python: str, package: str, env: dict[str, str], rounds: int, cwd: Path) -> float:
    out = subprocess.run(
        [python, "-c", TASK_PROBE, package, str(TASKS), str(rounds)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{package} task probe failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return float((figures["flow_s"] - figures["plain_s"]) * 1000 / TASKS)


def creation_rate(url: str, body: dict[str, object], headers: dict[str, str]) -> float:
    """Median of three rounds of `CREATES_PER_ROUND` POSTs from 16 concurrent httpx clients, after a warm-up."""

    def send(client: httpx.AsyncClient) -> object:
        return client.post(url, json=body)

    asyncio.run(hammer(send, headers=headers, requests=32, concurrency=CONCURRENCY))  # type: ignore[arg-type]
    rates = []
    for _ in range(ROUNDS):
        elapsed, _latencies = asyncio.run(
            hammer(send, headers=headers, requests=CREATES_PER_ROUND, concurrency=CONCURRENCY)  # type: ignore[arg-type]
        )
        rates.append(CREATES_PER_ROUND / elapsed)
    return median(rates)


def list_latency(request: Callable[[httpx.Client], httpx.Response], headers: dict[str, str]) -> float:
    """Median ms of 30 sequential requests after 5 warm-ups; each must answer 200 runs."""
    samples = []
    with httpx.Client(headers=headers, timeout=60) as client:
        for attempt in range(35):
            started = time.perf_counter()
            response = request(client)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            body = response.json()
            runs = body["results"] if isinstance(body, dict) else body
            if len(runs) != 200:
                raise RuntimeError(f"expected 200 runs, got {len(runs)}")
            if attempt >= 5:
                samples.append(elapsed)
    return median(samples) * 1000


def wait_final(state_type: Callable[[str], str], run_ids: list[str], timeout: float) -> None:
    pending = set(run_ids)
    deadline = time.monotonic() + timeout
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} runs not finished after {timeout}s")
        for run_id in list(pending):
            if state_type(run_id) in FINAL:
                pending.discard(run_id)
        time.sleep(0.2)


def created_to_running(side: TetherSide | PrefectSide, deployment: str, runs: int) -> float:
    """Median seconds from SCHEDULED to RUNNING (server timestamps), one run at a time."""
    samples = []
    for _ in range(runs):
        run_id = side.create_run(deployment)
        wait_final(side.state_type, [run_id], 300)
        history = side.history(run_id)
        if "RUNNING" not in history or "COMPLETED" not in history:
            raise RuntimeError(f"run {run_id} did not complete: {history}")
        samples.append(history["RUNNING"] - history["SCHEDULED"])
        time.sleep(0.3)
    return median(samples)


def drain_rate(side: TetherSide | PrefectSide, deployment: str, runs: int) -> float:
    """Runs per minute, from the first run's creation to the last run's completion."""
    run_ids = [side.create_run(deployment) for _ in range(runs)]
    wait_final(side.state_type, run_ids, 900)
    histories = [side.history(run_id) for run_id in run_ids]
    failed = [h for h in histories if "COMPLETED" not in h]
    if failed:
        raise RuntimeError(f"{len(failed)} runs did not complete: {failed[0]}")
    elapsed = max(h["COMPLETED"] for h in histories) - min(h["SCHEDULED"] for h in histories)
    return runs * 60 / elapsed


def idle_cpu(server_pids: list[int], online: Callable[[], int], expected: int) -> float:
    """Percent of one core the server processes use while `expected` agents/workers idle beside them."""
    deadline = time.monotonic() + 900
    while online() < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {online()} of {expected} agents/workers online after 900s")
        time.sleep(2)
    time.sleep(10)  # past the connection burst
    pids = [pid for root in server_pids for pid in process_tree(root)]
    before, started = cpu_seconds(pids), time.monotonic()
    time.sleep(IDLE_SECONDS)
    return 100 * (cpu_seconds(pids) - before) / (time.monotonic() - started)


def measure_tether(tmp: Path, options: Options) -> dict[str, float]:
    figures: dict[str, float] = {}
    figures["sdk_import"], figures["sdk_import_rss"] = import_cost(sys.executable, "tether")
    with tether_server(tmp) as side:
        log("tether: server up")
        server = side.server
        env = {
            "PATH": "/usr/bin:/bin",
            "TETHER_API_URL": server.api_url,
            "TETHER_API_KEY": server.api_key,
            "TETHER_RESULTS_DIR": str(tmp / "results"),
            "TETHER_LOGGING_LEVEL": "WARNING",
        }
        figures["task_overhead"] = task_overhead(sys.executable, "tether", env, options.task_rounds, tmp)
        log("tether: task overhead done")
        parked = side.deployment("compare-parked")  # no agent serves it: its runs stay SCHEDULED
        figures["create_throughput"] = creation_rate(
            f"{server.api_url}/flow-runs/", {"deployment_id": parked}, side.headers
        )
        figures["list200"] = list_latency(
            lambda client: client.get(f"{server.api_url}/flow-runs/", params={"page_size": 200}), side.headers
        )
        log("tether: API figures done")
        deployment = side.deployment("compare-pool")
        with side.agents("compare-pool", 1, limit=8) as agents:
            wait_until_log(agents[0].log, "Control channel open")
            figures["created_to_running"] = created_to_running(side, deployment, options.latency_runs)
            figures["drain"] = drain_rate(side, deployment, options.drain_runs)
        log("tether: dispatch figures done")
        side.pool("compare-fleet")
        with side.agents("compare-fleet", options.idle_agents, limit=1):
            figures["idle_cpu"] = idle_cpu(
                side.server_pids, lambda: side.agents_online("compare-fleet"), options.idle_agents
            )
        log("tether: idle CPU done")
    return figures


def measure_prefect(tmp: Path, options: Options) -> dict[str, float]:
    ensure_venv()
    python = str(PREFECT_PYTHON)
    figures: dict[str, float] = {}
    figures["sdk_import"], figures["sdk_import_rss"] = import_cost(python, "prefect")
    with prefect_server(tmp) as side:
        log("prefect: server up")
        figures["task_overhead"] = task_overhead(python, "prefect", side.env, options.task_rounds, tmp)
        log("prefect: task overhead done")
        parked = side.deployment("compare-parked")
        figures["create_throughput"] = creation_rate(f"{side.url}deployments/{parked}/create_flow_run", {}, {})
        body = {"limit": 200, "sort": "EXPECTED_START_TIME_DESC"}
        figures["list200"] = list_latency(lambda client: client.post(f"{side.url}flow_runs/filter", json=body), {})
        log("prefect: API figures done")
        deployment = side.deployment("compare-pool")
        with side.workers("compare-pool", 1, limit=8):
            wait_until(lambda: side.workers_online("compare-pool") >= 1, 300)
            figures["created_to_running"] = created_to_running(side, deployment, options.latency_runs)
            figures["drain"] = drain_rate(side, deployment, options.drain_runs)
        log("prefect: dispatch figures done")
        side.pool("compare-fleet")
        with side.workers("compare-fleet", options.idle_agents, limit=1):
            figures["idle_cpu"] = idle_cpu(
                [side.server_pid], lambda: side.workers_online("compare-fleet"), options.idle_agents
            )
        log("prefect: idle CPU done")
    return figures


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"condition not met in {timeout}s")
        time.sleep(0.5)


def wait_until_log(read: Callable[[], str], marker: str, timeout: float = 300) -> None:
    wait_until(lambda: marker in read(), timeout)


def ratio(workload: Workload, tether: float, prefect: float) -> float:
    return tether / prefect if workload.higher_is_better else prefect / tether


def print_table(tether: dict[str, float], prefect: dict[str, float]) -> None:
    for workload in WORKLOADS:
        t, p = tether[workload.name], prefect[workload.name]
        report("compare", f"{workload.name}_tether", t, workload.unit)
        report("compare", f"{workload.name}_prefect", p, workload.unit)
        report("compare", f"{workload.name}_ratio", ratio(workload, t, p), "x")
    print(f"# {'workload':<62} {'tether':>10} {'prefect':>10} {'unit':>9} {'ratio':>7}", flush=True)
    for workload in WORKLOADS:
        t, p = tether[workload.name], prefect[workload.name]
        print(
            f"# {workload.description:<62} {t:>10.3f} {p:>10.3f} {workload.unit:>9} {ratio(workload, t, p):>6.2f}x",
            flush=True,
        )
    print("# ratio > 1: Tether better (tether/prefect for rates, prefect/tether for times and sizes)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-agents", type=int, default=50)
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument("--drain-runs", type=int, default=30)
    parser.add_argument("--task-rounds", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=["tether", "prefect"],
        help="measure one side again; the other side's figures come from the last run that measured it",
    )
    args = parser.parse_args(argv)
    options = Options(args.idle_agents, args.latency_runs, args.drain_runs, args.task_rounds)
    started = time.monotonic()
    measured: dict[str, dict[str, float]] = {}
    for system, measure in (("tether", measure_tether), ("prefect", measure_prefect)):
        if args.only in (None, system):
            with tempfile.TemporaryDirectory() as tmp:
                measured[system] = measure(Path(tmp), options)
            log(f"{system}: {json.dumps(measured[system])}")
            FIGURES_DIR.mkdir(parents=True, exist_ok=True)
            (FIGURES_DIR / f"{system}.json").write_text(json.dumps(measured[system]))
        elif (FIGURES_DIR / f"{system}.json").exists():
            measured[system] = json.loads((FIGURES_DIR / f"{system}.json").read_text())
            log(f"{system}: the figures of the last run that measured it ({FIGURES_DIR / system}.json)")
    if len(measured) == 2:
        print_table(measured["tether"], measured["prefect"])
    log(f"compare done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
