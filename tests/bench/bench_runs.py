"""Flow-run creation throughput and list latency through the real ASGI server on PostgreSQL."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.harness import fresh_database, manage, measure_http, percentile, report, server_workers
from tests.support.processes import free_port, running, uvicorn_args

CREATES = 3000
WORKERS = 2
LISTED_RUNS = 100_000

SETUP = """
from controlplane.flows.models import Deployment, Flow
from controlplane.orgs.models import Workspace
ws = Workspace.objects.get(slug="prod", organization__slug="acme")
flow, _ = Flow.dangerously_unscoped.get_or_create(workspace=ws, name="bench")
deployment, _ = Deployment.dangerously_unscoped.get_or_create(
    workspace=ws, flow=flow, name="bench", defaults={"entrypoint": "flows/bench.py:bench", "parameters": {"n": 1}})
print(deployment.id)
"""

FILL = """
from datetime import timedelta
from django.utils import timezone
from controlplane.flows.models import Deployment
from controlplane.runs.models import FlowRun
deployment = Deployment.dangerously_unscoped.get(pk="{deployment}")
now = timezone.now()
batch = []
for index in range({count}):
    at = now - timedelta(seconds=index)
    batch.append(FlowRun(workspace_id=deployment.workspace_id, flow_id=deployment.flow_id, deployment=deployment,
        name=f"filler-{{index}}", state_type="COMPLETED", state_name="Completed", state_timestamp=at))
    if len(batch) == 5000:
        FlowRun.dangerously_unscoped.bulk_create(batch); batch = []
FlowRun.dangerously_unscoped.bulk_create(batch)
from django.db import connection
connection.cursor().execute("ANALYZE runs_flowrun")
print(FlowRun.dangerously_unscoped.count())
"""


def run() -> None:
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
    deployment = manage("shell", "-c", SETUP, env=env).strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {keys['api_key']}"}
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(
            uvicorn_args(port, workers=server_workers()), env=env, log_path=Path(tmp) / "server.log", port=port
        ) as server,
    ):
        runs_url = f"{server.url}/api/v1/orgs/acme/workspaces/prod/flow-runs/"
        body = {"deployment_id": deployment, "parameters": {"n": 2}}
        print(f"# server: uvicorn --workers {server_workers()} (production settings, pooled connections)", flush=True)
        measure_http(
            "runs", "create", runs_url, method="POST", body=body, headers=headers, requests=CREATES, suffix="_c16"
        )

        manage("shell", "-c", FILL.format(deployment=deployment, count=LISTED_RUNS), env=env)
        latencies = []
        with httpx.Client(headers=headers, timeout=30) as client:
            for _ in range(60):
                started = time.perf_counter()
                response = client.get(f"{runs_url}?page_size=200")
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
        assert len(response.json()["results"]) == 200
        steady = latencies[10:]
        report("runs", "list200_of_100k_ms", statistics.median(steady) * 1000, "ms")
        report("runs", "list200_of_100k_p95_ms", percentile(steady, 0.95) * 1000, "ms")
