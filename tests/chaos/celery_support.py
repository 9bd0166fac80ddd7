"""A Celery worker (with beat embedded) on a chaos plane, which a test may SIGKILL with its whole group."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.chaos.plane import ChaosPlane
from tests.e2e.agent_support import wait_until
from tests.support.processes import REPO_ROOT, stop


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def celery_worker(plane: ChaosPlane, name: str, *, beat: bool = True, **settings: str) -> Iterator[Worker]:
    """`celery worker -B --pool threads` in its own process group: beat runs in a child process, so
    `kill_group` takes the worker and beat together, as when the host or container dies."""
    log_path = plane.tmp / f"celery-{name}.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "controlplane.celery:app", "worker", *(["-B"] if beat else [])),
        *("--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "-n", f"{name}@%h"),
        *("--without-gossip", "--without-mingle", "--schedule", str(plane.tmp / f"beat-{name}-{time.time_ns()}")),
    ]
    env = {**os.environ, **plane.env, "PYTHONUNBUFFERED": "1", **settings}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(process, log_path)
    try:
        wait_until(lambda: process.poll() is not None or " ready." in worker.log(), 90, worker.log())
        assert process.poll() is None, worker.log()
        yield worker
    finally:
        stop(process, timeout=30)
