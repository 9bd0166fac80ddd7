"""Issue 9 acceptance 1 and 5 with real processes: the production server, a Celery worker
(with beat) and a local HTTP sink standing in for Slack."""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.controlplane.automations.sink import http_sink
from tests.e2e.agent_support import Server, control_plane
from tests.support.processes import REPO_ROOT, kill_group, stop

pytestmark = pytest.mark.e2e

# A Redis database of its own: other stacks' servers on this machine queue tasks in the shared one.
REDIS_URL = os.environ.get("TETHER_AUTOMATIONS_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
DATABASE_URL = os.environ.get(
    "TETHER_AUTOMATIONS_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_h5_e2e"
)


@pytest.fixture(autouse=True)
def _empty_broker() -> None:
    """Start from an empty queue: ticks a killed or stopped worker left behind (beat sends one per
    service every second) would keep a new worker busy discarding them before it reached ours."""
    redis.Redis.from_url(REDIS_URL).flushdb()


@contextlib.contextmanager
def celery_worker(server: Server, tmp: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp / f"worker-{name}.log"
    command = [
        sys.executable, "-m", "celery", "-A", "controlplane.celery:app", "worker", "-B",
        "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "-n", f"{name}@%h",
        "--schedule", str(tmp / f"beat-{name}"),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **server.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its embedded beat is a child process: stopped with it
        )
    try:
        _wait(lambda: b"ready." in log_path.read_bytes() or process.poll() is not None, 90)
        assert process.poll() is None, log_path.read_text()
        yield process
    finally:
        stop(process, signal.SIGTERM, timeout=20)


def _wait(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout}s")


def test_a_failed_run_notifies_slack_within_two_seconds(tmp_path: Path) -> None:
    with (
        http_sink() as sink,
        control_plane(tmp_path, DATABASE_URL, TETHER_OUTBOUND_ALLOW="127.0.0.1", REDIS_URL=REDIS_URL) as server,
        celery_worker(server, tmp_path, "a"),
    ):
        block = server.post(
            "blocks/", {"block_type_slug": "slack-webhook", "name": "alerts", "data": {"url": f"{sink.url}/T/B/x"}}
        )
        server.post(
            "automations/",
            {
                "name": "failures to slack",
                "trigger": {"expect": ["tether.flow-run.Failed"]},
                "actions": [
                    {
                        "type": "send-notification",
                        "block_id": block["id"],
                        "subject": "{{ flow_run.name }} is {{ flow_run.state }}",
                        "body": "{{ flow_run.url }}",
                    }
                ],
            },
        )
        # The first failure warms the worker's code paths; the next three are measured. The median is
        # what is asserted: a single sample on a loaded 2-core CI machine says more about the load.
        latencies = []
        for index, name in enumerate(["warm-up", "loud-heron", "quiet-finch", "brave-otter"]):
            run = server.post("flow-runs/", {"flow_name": "etl", "name": name})
            server.post(f"flow-runs/{run['id']}/set-state/", {"state": {"type": "RUNNING"}})
            server.post(f"flow-runs/{run['id']}/set-state/", {"state": {"type": "FAILED", "message": "boom"}})
            failed = server.get("events/", event="tether.flow-run.Failed", resource_id=f"tether.flow-run.{run['id']}")
            message = sink.wait_for(index + 1, timeout=15)[index]
            assert f"{name} is Failed" in message.json()["text"]
            assert f"/flow-runs/{run['id']}" in message.json()["text"]
            if index:
                latencies.append(message.at - datetime.fromisoformat(failed["results"][0]["occurred"]).timestamp())
        assert statistics.median(latencies) < 2.0, f"the notifications took {latencies}"


def test_killing_the_worker_between_event_and_action_neither_loses_nor_duplicates(tmp_path: Path) -> None:
    with control_plane(tmp_path, DATABASE_URL, REDIS_URL=REDIS_URL) as server:
        server.post("work-pools/", {"name": "p"})
        target = server.post(
            "deployments/", {"flow_name": "etl", "name": "b", "entrypoint": "f.py:f", "work_pool_name": "p"}
        )
        server.post(
            "automations/",
            {"name": "ping runs b", "trigger": {"expect": ["ping"]},
             "actions": [{"type": "run-deployment", "deployment_id": target["id"]}]},
        )  # fmt: skip
        database = server.env["DATABASE_URL"]
        with psycopg.connect(database) as blocker:
            # Hold the deployment row: the action's insert of a run waits on it, mid-transaction.
            blocker.execute("SELECT 1 FROM flows_deployment WHERE id = %s FOR UPDATE", [target["id"]])
            with celery_worker(server, tmp_path, "first") as first:
                sent = server.http.post("events/", json=[{"event": "ping", "resource": {"tether.resource.id": "x"}}])
                assert sent.status_code == 202, sent.text

                def waiting_on_the_lock() -> bool:
                    with psycopg.connect(database) as probe:
                        # Foreign keys are checked at COMMIT (Django makes them deferrable), so the
                        # waiting statement may be the insert or the commit: any lock wait in this
                        # database is the action's, since nothing else writes here meanwhile.
                        row = probe.execute(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        ).fetchone()
                    return bool(row and row[0])

                _wait(waiting_on_the_lock, 20)
                kill_group(first)  # the worker and its beat, as when the host dies
                first.wait(10)
            blocker.rollback()
        with celery_worker(server, tmp_path, "second"):
            runs = _wait(lambda: server.get("flow-runs/", deployment_id=target["id"])["results"], 30)
            time.sleep(4)  # more passes of the periodic services: nothing more appears
            assert len(server.get("flow-runs/", deployment_id=target["id"])["results"]) == 1
            assert runs[0]["tags"] == ["automation"]
            firings = server.get("automation-firings/")["results"]
            assert len(firings) == 1
            assert firings[0]["action_runs"][0]["status"] == "succeeded"
