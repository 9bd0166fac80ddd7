"""`import tether` stays fast and light: every flow run pays for it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

MEASURE = """
import json, sys, time
started = time.perf_counter()
import tether
from tether import flow, task, get_run_logger
elapsed = time.perf_counter() - started
heavy = sorted(m for m in ("httpx", "django", "controlplane", "pydantic", "asyncio", "websockets") if m in sys.modules)
# VmHWM (peak RSS of this process image); ru_maxrss would include the parent's peak from before exec.
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"ms": elapsed * 1000, "rss_mb": peak_kb / 1024, "heavy": heavy}))
"""


def measure_import() -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, timeout=60, check=True)
    measured: dict[str, Any] = json.loads(result.stdout)
    return measured


def test_import_is_fast_and_light() -> None:
    runs = [measure_import() for _ in range(3)]
    assert all(run["heavy"] == [] for run in runs), runs  # HTTP and friends load only when used
    best = min(run["ms"] for run in runs)
    assert best < 150, runs
    assert max(run["rss_mb"] for run in runs) < 40, runs
