"""Shared pieces of the benchmarks: reporting, a migrated PostgreSQL database, latency stats."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
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


def measure_gets(
    group: str, name: str, url: str, *, headers: dict[str, str] | None = None, requests: int, concurrency: int = 16
) -> None:
    measure(group, name, lambda client: client.get(url), headers=headers, requests=requests, concurrency=concurrency)
