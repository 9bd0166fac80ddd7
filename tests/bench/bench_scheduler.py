"""One scheduler pass over 10,000 active cron deployments on PostgreSQL (target: under 10 s)."""

from __future__ import annotations

from tests.bench.harness import BENCH_DATABASE_URL, fresh_database, manage, report

DEPLOYMENTS = 10_000

SETUP = """
from controlplane.flows.models import Deployment, DeploymentSchedule, Flow
from controlplane.orgs.models import Workspace
ws = Workspace.objects.get(slug="prod", organization__slug="acme")
flow = Flow.dangerously_unscoped.create(workspace=ws, name="bench")
deployments = Deployment.dangerously_unscoped.bulk_create(
    [Deployment(workspace=ws, flow=flow, name=f"d{{i}}", entrypoint="f.py:f") for i in range({count})], batch_size=2000)
DeploymentSchedule.dangerously_unscoped.bulk_create(
    [DeploymentSchedule(workspace=ws, deployment=d, kind="cron", cron=f"{{i % 60}} {{i % 24}} * * *",
     timezone=("UTC", "Europe/Berlin", "America/New_York")[i % 3]) for i, d in enumerate(deployments)], batch_size=2000)
from django.db import connection
connection.cursor().execute("ANALYZE")
"""

PASS = """
import time
from controlplane.runs.models import FlowRun
from controlplane.services import scheduler
started = time.perf_counter()
created = scheduler.tick()
elapsed = time.perf_counter() - started
again = time.perf_counter()
scheduler.tick()
print(created, FlowRun.dangerously_unscoped.count(), elapsed, time.perf_counter() - again)
"""


def run() -> None:
    env = fresh_database(BENCH_DATABASE_URL + "_scheduler")
    manage(
        "bootstrap",
        "--org",
        "acme",
        "--workspace",
        "prod",
        "--email",
        "b@acme.test",
        "--password",
        "bench-pw-0123456",
        env=env,
    )
    manage("shell", "-c", SETUP.format(count=DEPLOYMENTS), env=env)
    created, _total, first, second = manage("shell", "-c", PASS, env=env).strip().splitlines()[-1].split()
    report("scheduler", "pass_10k_deployments_s", float(first), "s")
    report("scheduler", "runs_created_first_pass", float(created), "runs")
    report("scheduler", "second_pass_10k_deployments_s", float(second), "s")
