"""`/healthz` and `/readyz` through the real ASGI server: proves the harness end to end."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.harness import fresh_database, median, percentile, report
from tests.support.processes import free_port, running, uvicorn_args

CONCURRENCY = 16
REQUESTS = 4000


async def _hammer(url: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = REQUESTS
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)

    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(url)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies


def run() -> None:
    env = fresh_database()
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(uvicorn_args(port), env=env, log_path=Path(tmp) / "server.log", port=port) as server,
    ):
        for path, name in (("/healthz", "healthz"), ("/readyz", "readyz")):
            asyncio.run(_hammer(server.url + path))  # warm-up
            elapsed, latencies = asyncio.run(_hammer(server.url + path))
            report("health", f"{name}_rps_c{CONCURRENCY}", REQUESTS / elapsed, "req/s")
            report("health", f"{name}_p50_ms", median(latencies) * 1000, "ms")
            report("health", f"{name}_p99_ms", percentile(latencies, 0.99) * 1000, "ms")
