"""Authenticated GET requests per second: API key vs session, through the real ASGI server."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.harness import fresh_database, manage, median, percentile, report
from tests.support.processes import free_port, running, uvicorn_args

CONCURRENCY = 16
REQUESTS = 3000
URL_PATH = "/api/v1/orgs/acme/workspaces/prod/access/"

SESSION_CODE = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from controlplane.accounts.models import User
user = User.objects.get(email="bench@acme.test")
store = SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print(store.session_key)
"""


async def _hammer(url: str, headers: dict[str, str]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = REQUESTS
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

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
    provisioned = json.loads(
        manage(
            "bootstrap",
            "--org",
            "acme",
            "--workspace",
            "prod",
            "--email",
            "bench@acme.test",
            "--password",
            "bench-password-0123",
            "--json",
            env=env,
        )
    )
    session_key = manage("shell", "-c", SESSION_CODE, env=env).strip().splitlines()[-1]
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(uvicorn_args(port), env=env, log_path=Path(tmp) / "server.log", port=port) as server,
    ):
        url = server.url + URL_PATH
        for name, headers in (
            ("apikey", {"Authorization": f"Bearer {provisioned['api_key']}"}),
            ("session", {"Cookie": f"sessionid={session_key}"}),
        ):
            asyncio.run(_hammer(url, headers))  # warm-up: pool connections, code paths
            elapsed, latencies = asyncio.run(_hammer(url, headers))
            report("auth", f"{name}_get_rps", REQUESTS / elapsed, "req/s")
            report("auth", f"{name}_get_p50_ms", median(latencies) * 1000, "ms")
            report("auth", f"{name}_get_p99_ms", percentile(latencies, 0.99) * 1000, "ms")
