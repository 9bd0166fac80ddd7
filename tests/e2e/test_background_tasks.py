"""Background tasks end to end: a real server, the real periodic services, real `tether task-worker` processes.

1. 1,000 `.delay()` calls from this process (a web app's shape), two workers: every task runs
   exactly once (each writes a marker with "x", so a second execution fails loudly), both
   workers take a share, retries happen on the worker, every future resolves.
2. `kill -9` of a worker mid-task: after its lease (4 s here) expires the reaper retries the
   run, the other worker runs it, once.
3. An argument passed by reference appears nowhere in a `pg_dump` of the server's database
   (one passed as metadata, on purpose, does: the dump is a real witness).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agent_support import Server, control_plane, wait_until
from tests.e2e.background_support import task_worker
from tests.support.processes import REPO_ROOT

DATABASE_URL = os.environ.get("TETHER_BG_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_bg_e2e")
TASKS = 1_000

TASKS_MODULE = """
import os
import time
from pathlib import Path

from tether import task

OUT = Path(os.environ["BG_OUT"])


@task
def mark(key: str) -> str:
    with open(OUT / key, "x") as handle:  # "x": a second execution fails loudly
        handle.write(str(os.getpid()))
    return key.upper()


@task(retries=2)
def flaky(key: str) -> str:
    attempt = len(list(OUT.glob(f"{key}.attempt-*")))
    with open(OUT / f"{key}.attempt-{attempt}", "x") as handle:
        handle.write(str(os.getpid()))
    if attempt < 2:
        raise RuntimeError(f"attempt {attempt} fails")
    return f"{key} ok after {attempt + 1} attempts"


@task(retries=1)
def slow(key: str, seconds: float) -> str:
    with open(OUT / f"{key}.{os.getpid()}", "x") as handle:
        handle.write("started")
    time.sleep(seconds)
    return key
"""

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("bg-server")
    settings = {"TETHER_AGENT_LEASE_SECONDS": "4", "TETHER_AGENT_HEARTBEAT_SECONDS": "1"}
    with control_plane(tmp, DATABASE_URL, **settings) as running:
        services_log = (tmp / "services.log").open("wb")
        # What Celery beat does in production: the periodic services, the lease reaper among them.
        services = subprocess.Popen(
            [sys.executable, "manage.py", "run_services"],
            cwd=REPO_ROOT,
            env={**os.environ, **running.env},
            stdout=services_log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield running
        finally:
            services.send_signal(signal.SIGINT)
            try:
                services.wait(15)
            except subprocess.TimeoutExpired:
                services.kill()
                services.wait()
            services_log.close()


@pytest.fixture
def workspace(tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """The tasks' module, a shared result store and a marker directory; this process as the caller."""
    code, storage, out = tmp_path / "code", tmp_path / "storage", tmp_path / "out"
    for directory in (code, storage, out):
        directory.mkdir()
    (code / "bgtasks.py").write_text(TASKS_MODULE)
    monkeypatch.syspath_prepend(str(code))
    monkeypatch.setenv("TETHER_API_URL", server.api_url)
    monkeypatch.setenv("TETHER_API_KEY", server.api_key)
    monkeypatch.setenv("TETHER_RESULTS_DIR", str(storage))
    monkeypatch.setenv("BG_OUT", str(out))
    sys.modules.pop("bgtasks", None)
    yield {"code": code, "storage": storage, "out": out, "tmp": tmp_path}
    sys.modules.pop("bgtasks", None)


def _names(server: Server, run_id: str) -> list[str]:
    return [state["name"] for state in server.get(f"task-runs/{run_id}/states/")]


@pytest.mark.timeout(900)
def test_a_thousand_delays_run_once_each_on_two_workers_and_their_futures_resolve(
    server: Server, workspace: dict[str, Path]
) -> None:
    import bgtasks  # type: ignore[import-not-found]

    out = workspace["out"]
    canary = f"canary-{uuid.uuid4().hex}"
    visible = f"visible-{uuid.uuid4().hex}"
    started = time.monotonic()
    with (
        task_worker(server, workspace, "worker-a", "bgtasks:mark", "bgtasks:flaky"),
        task_worker(server, workspace, "worker-b", "bgtasks:mark", "bgtasks:flaky"),
    ):
        futures = [bgtasks.mark.delay(f"k{n:04d}") for n in range(TASKS)]
        queued = time.monotonic() - started
        canary_future = bgtasks.mark.delay(canary)
        visible_future = bgtasks.mark.apply_async([visible], parameters_as_metadata=True)
        flaky = [bgtasks.flaky.delay(f"flaky{n}") for n in range(3)]
        results = [future.result(timeout=600) for future in futures]
        assert results == [f"K{n:04d}" for n in range(TASKS)]
        assert canary_future.result(timeout=60) == canary.upper()
        assert visible_future.result(timeout=60) == visible.upper()
        assert [f.result(timeout=120) for f in flaky] == [f"flaky{n} ok after 3 attempts" for n in range(3)]
        elapsed = time.monotonic() - started
    markers = sorted(path.name for path in out.iterdir() if path.name.startswith("k"))
    assert markers == [f"k{n:04d}" for n in range(TASKS)]  # each exactly once ("x" refuses a second)
    pids = {(out / name).read_text() for name in markers}
    assert len(pids) == 2, "both workers took a share"
    for n in range(3):
        history = _names(server, flaky[n].task_run_id)
        assert history.count("AwaitingRetry") == 2, history
        assert history[-1] == "Completed", history
        attempt_pids = {(out / f"flaky{n}.attempt-{a}").read_text() for a in range(3)}
        assert len(attempt_pids) == 1, "an in-process retry stays on the worker that holds the run"
    listed = server.get("task-runs/", background="true", page_size=1)["results"][0]
    assert listed["background"] is True
    assert listed["worker_name"] in {"worker-a", "worker-b"}
    print(f"\n{TASKS} delays queued in {queued:.1f}s; all {TASKS + 5} runs done in {elapsed:.1f}s")

    # Acceptance 3: the reference crossed the wire, the value did not.
    dump = subprocess.run(
        ["pg_dump", "--no-owner", server.env["DATABASE_URL"]], check=True, capture_output=True, timeout=300
    ).stdout.decode("utf-8", errors="replace")
    assert canary not in dump
    assert canary_future.task_run_id in dump
    assert visible in dump


def test_a_killed_worker_s_task_is_retried_once_on_the_other(server: Server, workspace: dict[str, Path]) -> None:
    import bgtasks

    out = workspace["out"]
    with task_worker(server, workspace, "victim", "bgtasks:slow") as victim:
        future = bgtasks.slow.delay("job", 8.0)
        wait_until(lambda: any(out.glob("job.*")), 60, "the task never started")
        (started,) = list(out.glob("job.*"))
        assert started.name == f"job.{victim.pid}"
        with task_worker(server, workspace, "survivor", "bgtasks:slow") as survivor:
            time.sleep(1.0)  # the survivor is long-polling
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(10)
            assert future.result(timeout=90) == "job"
            time.sleep(6)  # a lease and a reaper tick later, nothing runs it again
            executions = sorted(path.name for path in out.glob("job.*"))
            assert executions == sorted([f"job.{victim.pid}", f"job.{survivor.pid}"])
    history = _names(server, future.task_run_id)
    assert history.count("Crashed") == 1, history
    assert history.count("AwaitingRetry") == 1, history
    assert history[-1] == "Completed"
    run: dict[str, Any] = server.get(f"background-tasks/{future.task_run_id}/")
    # Two executions (a claim handed back before it started, on a loaded machine, is not one).
    assert (run["worker_name"], run["run_count"]) == ("survivor", 2)
    assert history.count("Running") == 2, history


def test_wakes_are_pushed_and_a_run_queued_for_later_starts_when_due(
    server: Server, workspace: dict[str, Path]
) -> None:
    import statistics
    from datetime import timedelta

    import bgtasks

    out = workspace["out"]
    with task_worker(server, workspace, "pushed", "bgtasks:mark") as worker:
        log = workspace["tmp"] / "pushed.log"
        wait_until(lambda: "Wake channel open" in log.read_text(), 60, "the wake channel never opened")
        # Pushed, the worker does not long-poll: it claims when woken, else every 10 s at most.
        latencies = []
        for n in range(5):
            queued = time.monotonic()
            bgtasks.mark.delay(f"pushed{n}").result(timeout=60)
            latencies.append(time.monotonic() - queued)
        # The server said when the next queued run falls due: the worker wakes for it by itself.
        queued = time.monotonic()
        later = bgtasks.mark.apply_async(["later"], scheduled_time=timedelta(seconds=3))
        assert later.result(timeout=60) == "LATER"
        waited = time.monotonic() - queued
        assert worker.poll() is None
    assert sorted(p.name for p in out.glob("pushed*")) == [f"pushed{n}" for n in range(5)]
    assert statistics.median(latencies) < 2.5, latencies  # a missed push would wait up to 10 s
    assert 3.0 <= waited < 9.0, waited
    median = statistics.median(latencies)
    print(f"\npushed .delay() → result: median {median:.2f}s; a run due in 3 s done after {waited:.1f}s")
