"""Real `tether task-worker serve` processes for the background-task e2e tests and benchmark."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.agent_support import Server


@contextlib.contextmanager
def task_worker(
    server: Server, paths: dict[str, Path], name: str, *specs: str, limit: int = 8
) -> Iterator[subprocess.Popen[bytes]]:
    """`tether task-worker serve SPECS` in `paths["code"]`, sharing `paths["storage"]` with the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update(
        {
            "TETHER_API_URL": server.api_url,
            "TETHER_API_KEY": server.agent_key,  # a worker-role key
            "TETHER_RESULTS_DIR": str(paths["storage"]),
            "BG_OUT": str(paths["out"]),
        }
    )
    log_path = paths["tmp"] / f"{name}.log"
    with log_path.open("wb") as log:
        command = [
            sys.executable,
            "-m",
            "tether",
            "task-worker",
            "serve",
            *specs,
            "--limit",
            str(limit),
            "--name",
            name,
        ]
        process = subprocess.Popen(command, cwd=paths["code"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
