"""Concurrency limits through the SDK against the real server on PostgreSQL: one acquire +
release of `concurrency()`, and what tag limits add to a task (none when no tag is limited)."""

from __future__ import annotations

import json
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.bench.bench_sdk import environment, timed
from tests.bench.harness import fresh_database, manage, report
from tests.support.processes import free_port, running, uvicorn_args

TASKS = 300
CYCLES = 100


def tagged_flows(limited_tag: str) -> tuple[Callable[[], int], Callable[[], int], Callable[[], int]]:
    from tether import flow, task

    @task
    def plain(i: int) -> int:
        return i

    @task(tags=["unlimited"])
    def tagged(i: int) -> int:
        return i

    @task(tags=[limited_tag])
    def limited(i: int) -> int:
        return i

    @flow
    def untagged_tasks() -> int:
        return sum(plain(i) for i in range(TASKS))

    @flow
    def tagged_tasks() -> int:
        return sum(tagged(i) for i in range(TASKS))

    @flow
    def limited_tasks() -> int:
        return sum(limited(i) for i in range(TASKS))

    return untagged_tasks, tagged_tasks, limited_tasks


def acquire_release_ms() -> float:
    from tether.concurrency import concurrency

    samples = []
    for _ in range(CYCLES):
        started = time.perf_counter()
        with concurrency("bench"):
            pass
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def run() -> None:
    env = fresh_database()
    keys = json.loads(
        manage(
            "bootstrap",
            *(
                "--org",
                "acme",
                "--workspace",
                "prod",
                "--email",
                "bench@acme.test",
                "--password",
                "bench-password-0123",
            ),
            "--json",
            env=env,
        )
    )
    os.environ.setdefault("TETHER_LOGGING_LEVEL", "WARNING")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    untagged, tagged, limited = tagged_flows("limited")
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(uvicorn_args(port), env=env, log_path=Path(tmp) / "server.log", port=port) as server,
    ):
        api_url = f"{server.url}/api/v1/orgs/acme/workspaces/prod"
        headers = {"Authorization": f"Bearer {keys['api_key']}"}
        for name, limit in (("bench", 1), ("tag:limited", 1000)):
            httpx.post(f"{api_url}/concurrency-limits/", json={"name": name, "limit": limit}, headers=headers)
        with environment(TETHER_API_URL=api_url, TETHER_API_KEY=keys["api_key"], TETHER_RESULTS_DIR=tmp):
            cycle_ms = acquire_release_ms()
            base = timed(untagged)
            with_tags = timed(tagged)
            with_limits = timed(limited)

    report("concurrency", "acquire_release_ms_median", cycle_ms, "ms")
    # Per task, against the same flow with untagged tasks.
    report("concurrency", "tagged_task_extra_ms_no_limits", (with_tags - base) * 1000 / TASKS, "ms")
    report("concurrency", "tagged_task_extra_ms_with_limit", (with_limits - base) * 1000 / TASKS, "ms")
