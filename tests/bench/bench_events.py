"""Event ingestion throughput and reactive automation latency, on the production stack: the
ASGI server, a Celery worker (with beat) evaluating automations, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

from tests.bench.harness import (
    BENCH_DATABASE_URL,
    _wrk_round,
    _wrk_script,
    fresh_database,
    hammer,
    manage,
    median,
    percentile,
    report,
    server_workers,
)
from tests.controlplane.automations.sink import http_sink
from tests.support.processes import REPO_ROOT, free_port, running, uvicorn_args

BATCH = 100
INGEST_SECONDS = 8
INGEST_ROUNDS = 3
REACTIVE_EVENTS = 20
# A Redis database of its own: the Celery queue must hold only this stack's tasks.
REDIS_URL = os.environ.get("TETHER_BENCH_EVENTS_REDIS_URL", "redis://127.0.0.1:6379/11")


def _batch() -> list[dict[str, object]]:
    # No ids: the server gives each event a new one, so every request inserts BATCH rows.
    return [
        {"event": "sensor.reading", "resource": {"tether.resource.id": f"sensor.{index}"}, "payload": {"value": index}}
        for index in range(BATCH)
    ]


@contextlib.contextmanager
def celery_worker(env: dict[str, str], tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "controlplane.celery:app", "worker", "-B",
        "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO", "-n", "bench-events@%h",
        "--schedule", str(tmp / "beat"),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while b"ready." not in log_path.read_bytes() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is not None or b"ready." not in log_path.read_bytes():
            raise RuntimeError(f"the Celery worker did not start:\n{log_path.read_text()}")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _unhandled(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM events_event WHERE handled_at IS NULL").fetchone()
    return int(row[0]) if row else 0


def _ingest(events_url: str, headers: dict[str, str]) -> list[float]:
    """Events recorded per second, one figure per round."""
    body = _batch()
    if shutil.which("wrk") is None:
        print("# wrk not found: load from httpx in-process (slower figures)", flush=True)
        rates = []
        for _ in range(INGEST_ROUNDS):
            elapsed, latencies = asyncio.run(
                hammer(lambda client: client.post(events_url, json=body), headers=headers, requests=300, concurrency=8)
            )
            rates.append(len(latencies) * BATCH / elapsed)
        return rates
    script = _wrk_script("POST", body, headers)
    _wrk_round(events_url, script, seconds=2, concurrency=8)  # warm-up
    print(f"# load: wrk -t1 -c8, {INGEST_ROUNDS} rounds of {INGEST_SECONDS}s, {BATCH} events a request", flush=True)
    return [
        _wrk_round(events_url, script, seconds=INGEST_SECONDS, concurrency=8)[0] * BATCH for _ in range(INGEST_ROUNDS)
    ]


def _reactive(base: str, headers: dict[str, str], sink_url: str, sink_received: list[object]) -> list[float]:
    """Seconds from sending an event to the automation's webhook reaching the sink, per event."""
    latencies = []
    with httpx.Client(headers=headers, timeout=30) as client:
        automation = {
            "name": "ping to sink",
            "trigger": {"expect": ["bench.ping"]},
            "actions": [{"type": "call-webhook", "url": f"{sink_url}/ping", "payload": "{{ event.resource.id }}"}],
        }
        client.post(f"{base}/automations/", json=automation).raise_for_status()
        for index in range(REACTIVE_EVENTS + 2):
            before = len(sink_received)
            ping = [{"id": str(uuid.uuid4()), "event": "bench.ping", "resource": {"tether.resource.id": f"p.{index}"}}]
            sent = time.time()
            client.post(f"{base}/events/", json=ping).raise_for_status()
            deadline = time.monotonic() + 30
            while len(sink_received) == before:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"event {index} reached no action within 30s")
                time.sleep(0.005)
            if index >= 2:  # the first two warm the worker's connections
                latencies.append(sink_received[before].at - sent)  # type: ignore[attr-defined]
            time.sleep(0.2)
    return latencies


def run() -> None:
    database_url = os.environ.get("TETHER_BENCH_DATABASE_URL", BENCH_DATABASE_URL)
    env = {**fresh_database(database_url), "REDIS_URL": REDIS_URL, "TETHER_OUTBOUND_ALLOW": "127.0.0.1"}
    subprocess.run(["redis-cli", "-u", REDIS_URL, "FLUSHDB"], check=False, capture_output=True)
    keys = json.loads(
        manage(
            "bootstrap", "--org", "acme", "--workspace", "prod", "--email", "bench@acme.test",
            "--password", "bench-password-0123", "--json", env=env,
        )
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {keys['api_key']}"}
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(
            uvicorn_args(port, workers=server_workers()), env=env, log_path=Path(tmp) / "server.log", port=port
        ) as server,
        celery_worker(env, Path(tmp)),
        http_sink() as sink,
    ):
        base = f"{server.url}/api/v1/orgs/acme/workspaces/prod"
        print(f"# server: uvicorn --workers {server_workers()}, Celery worker (threads, 4) with beat", flush=True)
        rates = _ingest(f"{base}/events/", headers)
        report("events", "ingest_per_s", median(rates), "events/s")

        # The worker marks every ingested event evaluated; latency is measured once it has caught up.
        started, backlog = time.monotonic(), _unhandled(database_url)
        while _unhandled(database_url):
            if time.monotonic() - started > 600:
                raise RuntimeError("the worker did not catch up with the ingested events in 10 minutes")
            time.sleep(0.5)
        drained = time.monotonic() - started
        print(f"# evaluation backlog after ingest: {backlog} events, evaluated in {drained:.1f}s", flush=True)

        latencies = _reactive(base, headers, sink.url, sink.received)  # type: ignore[arg-type]
        report("events", "reactive_latency_p50_s", median(latencies), "s")
        report("events", "reactive_latency_p95_s", percentile(latencies, 0.95), "s")
