"""What the load run records: latency per request kind, errors, and the server processes' CPU and memory."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.harness import percentile, report

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Recorder:
    """Latencies by request kind (`agent.claim`, `ui.counts`, ...) and every failure, by cause."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # Requests that wait on purpose (long-polls): answered, but not latency figures.
    held: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    server_errors: int = 0
    requests: int = 0
    # WebSocket control channels that failed to open or dropped: the agent falls back to
    # long-polls, so they are not request errors; reported on their own (docs/bench.md).
    channel_failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Long-polls the server answered at once because its per-process cap of waiting claims was full.
    long_polls_refused: int = 0

    def ok(self, kind: str, seconds: float, *, counted: bool = True) -> None:
        self.requests += 1
        (self.latencies if counted else self.held)[kind].append(seconds)

    def failed(self, kind: str, cause: str, *, server_error: bool = False) -> None:
        self.requests += 1
        self.failures[f"{kind} {cause}"] += 1
        if server_error:
            self.server_errors += 1

    def channel_failed(self, cause: str) -> None:
        self.channel_failures[cause] += 1

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    def all_latencies(self) -> list[float]:
        return [value for samples in self.latencies.values() for value in samples]


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (uvicorn's workers, Celery's beat)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found = [root]
    for pid in found:
        found.extend(child for child, parent in parents.items() if parent == pid)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLOCK_TICKS


def rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
    return total_kb / 1024


@dataclass
class ServerSampler:
    """CPU used by the server's processes between `start()` and `stop()`, and their RSS over time."""

    root_pid: int
    started_cpu: float = 0.0
    started_at: float = 0.0
    rss_samples: list[float] = field(default_factory=list)
    cpu_percent: float = 0.0

    def start(self) -> None:
        self.started_cpu = cpu_seconds(process_tree(self.root_pid))
        self.started_at = time.monotonic()

    def sample(self) -> None:
        self.rss_samples.append(rss_mb(process_tree(self.root_pid)))

    def stop(self) -> None:
        used = cpu_seconds(process_tree(self.root_pid)) - self.started_cpu
        self.cpu_percent = 100 * used / max(1e-9, time.monotonic() - self.started_at)
        self.sample()


@dataclass
class LoadResult:
    recorder: Recorder
    sampler: ServerSampler
    seconds: float
    agents: int
    ui_users: int
    runs_created: int
    runs_completed: int

    @property
    def error_rate(self) -> float:
        return self.recorder.errors / max(1, self.recorder.requests)

    @property
    def p95_seconds(self) -> float:
        every = self.recorder.all_latencies()
        return percentile(every, 0.95) if every else 0.0

    def print_report(self) -> None:
        """The figures as `BENCH load.*` lines, then a table per request kind."""
        recorder = self.recorder
        every = recorder.all_latencies()
        print(
            f"# load: {self.agents} agents + {self.ui_users} UI users for {self.seconds:.0f}s, "
            f"{recorder.requests} requests, {recorder.errors} errors, {recorder.server_errors} 5xx",
            flush=True,
        )
        report("load", "requests_per_s", recorder.requests / self.seconds, "req/s")
        if every:
            report("load", "p50_ms", percentile(every, 0.50) * 1000, "ms")
            report("load", "p95_ms", percentile(every, 0.95) * 1000, "ms")
            report("load", "p99_ms", percentile(every, 0.99) * 1000, "ms")
        report("load", "error_rate_pct", 100 * self.error_rate, "%")
        report("load", "server_errors", recorder.server_errors, "responses")
        report("load", "channel_open_failures", sum(recorder.channel_failures.values()), "channels")
        report("load", "runs_completed", self.runs_completed, "runs")
        report("load", "server_cpu_pct", self.sampler.cpu_percent, "% of one core")
        report("load", "server_rss_mb_max", max(self.sampler.rss_samples, default=0.0), "MB")
        print(f"# {'request':<22} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}", flush=True)
        for kind in sorted(recorder.latencies):
            samples = recorder.latencies[kind]
            print(
                f"# {kind:<22} {len(samples):>7} {percentile(samples, 0.5) * 1000:>8.1f} "
                f"{percentile(samples, 0.95) * 1000:>8.1f} {percentile(samples, 0.99) * 1000:>8.1f}",
                flush=True,
            )
        for kind, samples in sorted(recorder.held.items()):
            print(f"# {kind:<22} {len(samples):>7} answered (a long-poll: its time is its wait)", flush=True)
        if recorder.long_polls_refused:
            print(
                f"# {'':<22} {recorder.long_polls_refused:>7} of them refused their wait (the server's cap), "
                "retried after `retry_after_seconds`",
                flush=True,
            )
        for cause, count in sorted(recorder.failures.items()):
            print(f"# failed: {cause} x{count}", flush=True)
        for cause, count in sorted(recorder.channel_failures.items()):
            print(f"# control channel failed (agent falls back to long-polls): {cause} x{count}", flush=True)
