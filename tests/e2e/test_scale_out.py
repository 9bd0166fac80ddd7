"""Issue 11, acceptance 5: the production shape scaled out, on PostgreSQL and Redis.

Two web processes (uvicorn, production settings), one Celery worker and Celery beat
(`controlplane.celery:app`), all on one database and one Redis; an agent connected to the
second web process only. Shown here:

- a run created through web process A is pushed to the agent on web process B and completes;
- the web processes run no periodic services: a deployment's schedule gets no runs until
  beat and the worker are started; then the scheduler service, run by the worker on beat's
  clock, creates them, and the agent completes the first one when it falls due.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agent_support import (
    AGENT_DATABASE_URL,
    FINAL,
    Server,
    agent,
    control_plane_replicas,
    wait_until,
    write_flows,
)
from tests.support.processes import REPO_ROOT, stop

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/1"
SAFETY_CLAIM_SECONDS = 120
SCHEDULE_INTERVAL_SECONDS = 10
# Only a few runs ahead per schedule (the default keeps an hour's worth).
SCHEDULER_SETTINGS = {"TETHER_SCHEDULER_MIN_RUNS": "3", "TETHER_SCHEDULER_MIN_SECONDS": "0"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    tmp = tmp_path_factory.mktemp("scale-out")
    settings = {"REDIS_URL": REDIS_URL, "TETHER_LOG_LEVEL": "INFO", **SCHEDULER_SETTINGS}
    with control_plane_replicas(tmp, AGENT_DATABASE_URL + "_scale", settings) as (a, b):
        yield a, b


@contextlib.contextmanager
def celery(role: str, env: dict[str, str], tmp: Path, ready: str, *args: str) -> Iterator[Path]:
    """`celery -A controlplane.celery:app <role>` until the block ends; yields its log file."""
    log_path = tmp / f"celery-{role}.log"
    command = [sys.executable, "-m", "celery", "-A", "controlplane.celery:app", role, "--loglevel", "INFO", *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_until(
            lambda: process.poll() is not None or ready in log_path.read_text(errors="replace"),
            90,
            f"celery {role} did not start:\n{log_path.read_text(errors='replace')}",
        )
        assert process.poll() is None, log_path.read_text(errors="replace")
        yield log_path
    finally:
        stop(process, timeout=30)


def _scheduled_runs(server: Server, deployment_id: str) -> list[dict[str, Any]]:
    page = server.get("flow-runs/", deployment_id=deployment_id, tag="auto-scheduled", page_size=100)
    return list(page["results"])


def test_two_web_processes_a_celery_worker_and_beat_serve_an_agent(web: tuple[Server, Server], tmp_path: Path) -> None:
    a, b = web
    env = {**a.env}
    flows = write_flows(tmp_path / "flows")
    out = tmp_path / "out"
    out.mkdir()
    deployment = a.deployment("scale-pool", flows)
    scheduled = a.post(
        "deployments/",
        {
            "flow_name": "trivial",
            "name": "every-few-seconds",
            "entrypoint": "flows.py:trivial",
            "source": {"type": "path", "path": str(flows)},
            "work_pool_name": "scale-pool",
        },
    )["id"]
    a.post(f"deployments/{scheduled}/schedules/", {"kind": "interval", "interval_seconds": SCHEDULE_INTERVAL_SECONDS})

    with agent(b, "scale-pool", tmp_path, "--claim-interval", str(SAFETY_CLAIM_SECONDS)) as on_b:
        wait_until(lambda: "Control channel open" in on_b.log(), 30, on_b.log())
        time.sleep(1)

        # Through A, to the agent on B: pushed over Redis, well before the agent's safety re-claim.
        created = time.monotonic()
        run_id = a.create_run(deployment, out=str(out), key="through-a")
        run = b.wait_for(run_id, FINAL, timeout=60)
        assert run["state_type"] == "COMPLETED", on_b.log()
        assert time.monotonic() - created < SAFETY_CLAIM_SECONDS / 2
        assert (out / "through-a").exists()

        # No web process schedules anything: that is beat's and the worker's job.
        assert _scheduled_runs(a, scheduled) == []

        with (
            celery("worker", env, tmp_path, " ready.", "--concurrency", "2", "--without-gossip", "--without-mingle"),
            celery("beat", env, tmp_path, "beat: Starting", "--schedule", str(tmp_path / "beat-schedule")) as beat,
        ):
            wait_until(lambda: len(_scheduled_runs(a, scheduled)) >= 3, 90, beat.read_text(errors="replace"))

            def first_scheduled_finished() -> bool:
                runs = sorted(_scheduled_runs(b, scheduled), key=lambda r: r["expected_start_time"])
                return runs[0]["state_type"] in FINAL

            wait_until(first_scheduled_finished, SCHEDULE_INTERVAL_SECONDS * 3 + 60, on_b.log())
            worker_log = (tmp_path / "celery-worker.log").read_text(errors="replace")
            beat_log = beat.read_text(errors="replace")

    first = sorted(_scheduled_runs(a, scheduled), key=lambda r: r["expected_start_time"])[0]
    assert first["state_type"] == "COMPLETED", on_b.log()
    assert "Sending due task tether-scheduler (tether.services.run)" in beat_log
    assert re.search(r"Task tether\.services\.run\[[0-9a-f-]+\] succeeded", worker_log), worker_log[-3000:]
