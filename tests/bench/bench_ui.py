"""The dashboard's first load with 10,000 runs in the workspace: each API call it makes, timed
through the real ASGI server on PostgreSQL (issue 10: each must answer in under 300 ms).

The calls are the ones `frontend/src/pages/dashboard/DashboardPage.tsx` and the shell around it
make on load; keep the list in step with that page.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.bench.harness import fresh_database, manage, percentile, report
from tests.support.processes import free_port, running, uvicorn_args

RUNS = 10_000
SAMPLES = 30
WARM_UP = 5
BENCH_UI_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tether_bench_ui"

# A realistic mix: mostly finished, some failures and late runs, a scheduled horizon ahead.
FILL = """
import random
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from controlplane.flows.models import Deployment, Flow
from controlplane.orgs.models import Workspace
from controlplane.runs.models import FlowRun
ws = Workspace.objects.get(slug="prod", organization__slug="acme")
flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=ws, name="bench")
deployment, _ = Deployment.dangerously_unscoped.get_or_create(
    workspace=ws, flow=flow, name="bench", defaults={{"entrypoint": "flows/bench.py:bench"}})
mix = [("COMPLETED", "Completed")] * 60 + [("FAILED", "Failed")] * 8 + [("CRASHED", "Crashed")] * 2 + \\
    [("SCHEDULED", "Late")] * 2 + [("SCHEDULED", "Scheduled")] * 18 + [("RUNNING", "Running")] * 5 + \\
    [("CANCELLED", "Cancelled")] * 5
rng = random.Random(10)
now = timezone.now()
batch = []
for index in range({count}):
    state_type, state_name = rng.choice(mix)
    if state_name == "Scheduled":
        start = now + timedelta(minutes=rng.randint(1, 60 * 48))
    else:
        start = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
    batch.append(FlowRun(workspace_id=ws.id, flow_id=flow.id, deployment=deployment, name=f"run-{{index}}",
        state_type=state_type, state_name=state_name, state_timestamp=start, expected_start_time=start,
        next_scheduled_start_time=start if state_type == "SCHEDULED" else None))
    if len(batch) == 2000:
        FlowRun.dangerously_unscoped.bulk_create(batch); batch = []
FlowRun.dangerously_unscoped.bulk_create(batch)
connection.cursor().execute("ANALYZE runs_flowrun")
print(FlowRun.dangerously_unscoped.filter(workspace=ws).count())
"""


WS = "/api/v1/orgs/acme/workspaces/prod/"


def dashboard_calls(now: datetime) -> dict[str, str]:
    """Name → path of every API call the dashboard page itself makes on load."""
    day_later = now + timedelta(days=1)
    calls = {
        "counts": "flow-runs/counts/",
        "failed": "flow-runs/?state_type=FAILED,CRASHED&page_size=10",
        "late": "flow-runs/?state_name=Late&page_size=10",
        "upcoming": (
            "flow-runs/?state_type=SCHEDULED&sort=created&page_size=50"
            f"&expected_start_after={now.isoformat().replace('+00:00', 'Z')}"
            f"&expected_start_before={day_later.isoformat().replace('+00:00', 'Z')}"
        ),
        "agents": "agents/?page_size=200",
    }
    # The shell's own calls (/api/v1/me/, the workspace switcher's list) answer a signed-in user
    # and do not grow with the runs; they are left out (a service-account key cannot make them).
    return {name: WS + path for name, path in calls.items()}


def run() -> None:
    env = fresh_database(BENCH_UI_DATABASE_URL)
    keys = json.loads(
        manage(
            "bootstrap",
            *("--org", "acme", "--workspace", "prod", "--email", "bench@acme.test"),
            *("--password", "bench-password-0123", "--json"),
            env=env,
        )
    )
    stored = int(manage("shell", "-c", FILL.format(count=RUNS), env=env).strip().splitlines()[-1])
    report("ui", "runs_in_workspace", stored, "runs")
    headers = {"Authorization": f"Bearer {keys['api_key']}"}
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(uvicorn_args(port), env=env, log_path=Path(tmp) / "server.log", port=port) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=30) as client,
    ):
        slowest = 0.0
        for name, path in dashboard_calls(datetime.now(UTC)).items():
            latencies = []
            for index in range(WARM_UP + SAMPLES):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                if index >= WARM_UP:
                    latencies.append((time.perf_counter() - started) * 1000)
            median = statistics.median(latencies)
            report("ui", f"dashboard_{name}_p50_ms", median, "ms")
            report("ui", f"dashboard_{name}_p95_ms", percentile(latencies, 0.95), "ms")
            slowest = max(slowest, median)
        report("ui", "dashboard_api_max_ms", slowest, "ms")
