"""`/healthz` and `/readyz` through the real ASGI server: proves the harness end to end."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench.harness import fresh_database, measure_gets, server_workers
from tests.support.processes import free_port, running, uvicorn_args


def run() -> None:
    env = fresh_database()
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(
            uvicorn_args(port, workers=server_workers()), env=env, log_path=Path(tmp) / "server.log", port=port
        ) as server,
    ):
        for path, name in (("/healthz", "healthz"), ("/readyz", "readyz")):
            measure_gets("health", name, server.url + path, requests=4000)
