"""RELIABILITY 33 and 34: Celery workers killed mid-task, and tasks that wait longer than the
broker's visibility timeout.

33. An automation calls a webhook; the worker is SIGKILLed while the receiver holds that
    request. The action run stays pending (its transaction died with the worker), and a new
    worker's periodic pass runs it again: the receiver sees the same `Idempotency-Key` both
    times (so it applies the effect once), the action run succeeds once, one "executed" event.
34. A task sent with a countdown longer than the broker's visibility timeout runs once. Redis
    does hand it out again (every visibility timeout, while the worker holds it waiting for
    its time), but every delivery after the first is skipped (controlplane/core/celery_once.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from tests.chaos.celery_support import celery_worker
from tests.chaos.plane import ChaosPlane, Template, chaos_plane
from tests.chaos.services import PrivateRedis
from tests.controlplane.automations.sink import http_sink
from tests.e2e.agent_support import wait_until
from tests.support.processes import REPO_ROOT, kill_group

# The first scenario of a test process also builds the template database: minutes on a busy machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def plane(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosPlane]:
    # Celery beat and the worker run the periodic services here, as in production.
    tmp = tmp_path_factory.mktemp("celery-kill")
    with chaos_plane(template, tmp, services=False, TETHER_OUTBOUND_ALLOW="127.0.0.1") as running:
        yield running


@pytest.fixture(autouse=True)
def _empty_broker(private_redis: PrivateRedis) -> None:
    """Wake-ups earlier scenarios' web processes queued (nobody consumed them) would only slow the worker."""
    redis.Redis(port=private_redis.port).flushall()


def test_worker_killed_mid_webhook_runs_it_again_with_the_same_idempotency_key(plane: ChaosPlane) -> None:
    server = plane.server
    with http_sink() as sink:
        sink.hold = threading.Event()  # the receiver sits on the first delivery until the worker is dead
        server.post(
            "automations/",
            {
                "name": "ping the receiver",
                "trigger": {"expect": ["chaos.ping"]},
                "actions": [{"type": "call-webhook", "url": f"{sink.url}/hook", "payload": {"ping": "{{ event }}"}}],
            },
        )
        with celery_worker(plane, "doomed") as doomed:
            sent = server.http.post("events/", json=[{"event": "chaos.ping", "resource": {"tether.resource.id": "x"}}])
            assert sent.status_code == 202, sent.text
            sink.wait_for(1, timeout=60)
            kill_group(doomed.process)  # SIGKILL to the worker and its beat, mid-delivery
            doomed.process.wait(10)
        sink.hold.set()  # the dead worker's request completes; nobody reads the answer
        firing = server.get("automation-firings/")["results"][0]
        assert firing["action_runs"][0]["status"] == "pending"  # not lost, not marked done

        with celery_worker(plane, "successor") as successor:
            wait_until(
                lambda: server.get("automation-firings/")["results"][0]["action_runs"][0]["status"] != "pending",
                60,
                successor.log(),
            )
            time.sleep(3)  # more passes of the periodic services: nothing more is delivered
            received = list(sink.received)

    (firing,) = server.get("automation-firings/")["results"]
    (action_run,) = firing["action_runs"]
    assert action_run["status"] == "succeeded", action_run
    assert len(received) == 2, [r.headers for r in received]  # once by the dead worker, once again
    keys = {r.headers["idempotency-key"] for r in received}
    assert keys == {action_run["id"]}  # the receiver can tell it is the same delivery: one effect
    executed = server.get("events/", event="tether.automation.action.executed")["results"]
    assert len(executed) == 1


COUNTDOWN_SECONDS = 15
VISIBILITY_TIMEOUT_SECONDS = 2


def _send_with_countdown(plane: ChaosPlane, task: str, *args: str) -> str:
    """Send `task` the way the server does (its settings, its broker); return the task id."""
    script = (
        "import sys; from controlplane.celery import app; "
        f"print(app.send_task({task!r}, args={args!r}, countdown={COUNTDOWN_SECONDS}).id)"
    )
    sent = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, **plane.env},
        check=True,
        capture_output=True,
        text=True,
    )
    return sent.stdout.strip().splitlines()[-1]


def test_a_countdown_longer_than_the_visibility_timeout_runs_once(plane: ChaosPlane) -> None:
    # No beat: its ticks would queue ahead of the task, and on a busy machine the worker might
    # only take it when its countdown is over (so the broker never needs to hand it out again).
    timeout = str(VISIBILITY_TIMEOUT_SECONDS)
    with celery_worker(plane, "patient", beat=False, TETHER_CELERY_VISIBILITY_TIMEOUT_SECONDS=timeout) as worker:
        task_id = _send_with_countdown(plane, "tether.services.run", "late-runs")
        done = re.compile(rf"Task tether\.services\.run\[{task_id}\] succeeded")
        wait_until(lambda: done.search(worker.log()) is not None, COUNTDOWN_SECONDS + 60, worker.log()[-3000:])
        time.sleep(VISIBILITY_TIMEOUT_SECONDS * 3)  # time for more deliveries to arrive and be refused
        log = worker.log()
    # The broker did hand the waiting task out again (the scenario happened)...
    assert log.count(f"Task tether.services.run[{task_id}] received") >= 2, log[-3000:]
    # ...and one delivery ran it; every other one was skipped.
    skipped = log.count(f"Task tether.services.run[{task_id}] delivered again after it ran or while it runs: skipped")
    assert len(done.findall(log)) - skipped == 1, log[-3000:]
