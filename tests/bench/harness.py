"""Shared pieces of the benchmarks: reporting, a migrated PostgreSQL database, latency stats."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import httpx
import psycopg

from tests.support.processes import REPO_ROOT

ROUNDS = 3
BENCH_DATABASE_URL = os.environ.get("TETHER_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_bench")


def report(group: str, name: str, value: float, unit: str) -> None:
    print(f"BENCH {group}.{name} {value:.3f} {unit}", flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def fresh_database(url: str = BENCH_DATABASE_URL) -> dict[str, str]:
    """Drop and recreate the bench database, migrate it, and return the env that points at it."""
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = production_env(url)
    manage("migrate", "-v", "0", env=env)
    return env


def production_env(database_url: str) -> dict[str, str]:
    """The production settings (pooled connections), made to run over plain HTTP on loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "controlplane.settings.prod",
        "DATABASE_URL": database_url,
        # Its own var/ per database: bootstrap caches the keys it issued there.
        "TETHER_VAR_DIR": f"/tmp/tether-bench/{database_url.rsplit('/', 1)[1]}",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "TETHER_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnop",
        "TETHER_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TETHER_PUBLIC_URL": "http://127.0.0.1",
        "TETHER_SSL_REDIRECT": "false",
        "TETHER_LOG_LEVEL": "WARNING",
        # The benches measure the server's capacity, not the limiter's refusals (which still run).
        "TETHER_RATE_LIMIT_PER_CREDENTIAL": "100000",
        "TETHER_RATE_LIMIT_PER_ORGANIZATION": "100000",
        # A fixed key for benchmarks only; real deployments generate theirs (`manage.py generate_master_key`).
        "TETHER_MASTER_KEYS": "bench:YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI",
    }


def manage(*args: str, env: dict[str, str]) -> str:
    """Run a management command against the bench database; return its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def hammer(send: Send, *, headers: dict[str, str], requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Run `send` `requests` times from `concurrency` concurrent clients; (elapsed seconds, latencies)."""
    latencies: list[float] = []
    remaining = requests
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await send(client)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def measure(
    group: str,
    name: str,
    send: Send,
    *,
    headers: dict[str, str] | None = None,
    requests: int,
    concurrency: int = 16,
    suffix: str = "",
) -> None:
    """Report throughput and latency of `send` after a warm-up (`suffix` ends each figure's name)."""
    asyncio.run(hammer(send, headers=headers or {}, requests=max(100, requests // 10), concurrency=concurrency))
    # This machine's speed wanders; three rounds and their median rate steady the figure.
    rates: list[float] = []
    latencies: list[float] = []
    for _ in range(ROUNDS):
        elapsed, round_latencies = asyncio.run(
            hammer(send, headers=headers or {}, requests=requests // ROUNDS, concurrency=concurrency)
        )
        rates.append((requests // ROUNDS) / elapsed)
        latencies.extend(round_latencies)
    report(group, f"{name}_rps{suffix}", median(rates), "req/s")
    report(group, f"{name}_p50_ms{suffix}", median(latencies) * 1000, "ms")
    report(group, f"{name}_p99_ms{suffix}", percentile(latencies, 0.99) * 1000, "ms")


def server_workers() -> int:
    """Web worker processes for the benchmarked server: one per core, as production runs it."""
    return int(os.environ.get("TETHER_BENCH_WORKERS", os.cpu_count() or 1))


WRK_SECONDS = 8
_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _wrk_script(method: str, body: object | None, headers: dict[str, str]) -> str:
    lines = [f"wrk.method = {json.dumps(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    lines.extend(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items())
    lines.append('response = function(status) if status >= 400 then error("HTTP " .. status) end end')
    return "\n".join(lines) + "\n"


def _wrk_round(url: str, script: str, *, seconds: int, concurrency: int) -> tuple[float, float, float]:
    """One wrk run: (requests per second, p50 ms, p99 ms). Any error response aborts the run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s", lua.name, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()  # type: ignore[union-attr]
        return float(value) * _WRK_UNITS[unit]

    rate = float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return rate, latency("50%"), latency("99%")


def measure_http(
    group: str,
    name: str,
    url: str,
    *,
    method: str = "GET",
    body: object | None = None,
    headers: dict[str, str] | None = None,
    requests: int,
    concurrency: int = 16,
    suffix: str = "",
) -> None:
    """Throughput and latency of one request at `concurrency` clients.

    With wrk installed (`make bench` installs it) the load comes from wrk: a C client that
    leaves the two cores to the server and PostgreSQL. Without it, from httpx in this process,
    which takes a good share of a core itself and so understates the server.
    """
    headers = headers or {}
    if shutil.which("wrk") is None:
        print("# wrk not found: load from httpx in-process (slower figures)", flush=True)
        payload = body

        def send(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.request(method, url, json=payload) if payload is not None else client.request(method, url)

        measure(group, name, send, headers=headers, requests=requests, concurrency=concurrency, suffix=suffix)
        return
    script = _wrk_script(method, body, headers)
    _wrk_round(url, script, seconds=2, concurrency=concurrency)  # warm-up
    rounds = [_wrk_round(url, script, seconds=WRK_SECONDS, concurrency=concurrency) for _ in range(ROUNDS)]
    rate, p50, p99 = sorted(rounds)[len(rounds) // 2]
    print(f"# load: wrk -t1 -c{concurrency}, {ROUNDS} rounds of {WRK_SECONDS}s, median round", flush=True)
    report(group, f"{name}_rps{suffix}", rate, "req/s")
    report(group, f"{name}_p50_ms{suffix}", p50, "ms")
    report(group, f"{name}_p99_ms{suffix}", p99, "ms")


def measure_gets(
    group: str, name: str, url: str, *, headers: dict[str, str] | None = None, requests: int, concurrency: int = 16
) -> None:
    measure_http(group, name, url, headers=headers, requests=requests, concurrency=concurrency)
