"""Task workers' long-polls share the per-process cap on waiting claims with the agents'.

Real PostgreSQL with committed data: each waiting claim is a thread with its own connection.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from controlplane.core.long_polls import LONG_POLLS, REFUSED_RETRY_SECONDS
from tests.controlplane.workpools.test_dispatch_support import AGENTS, hello, make_fleet
from tests.support.clients import bearer
from tests.support.runs import PROD
from tests.support.tenants import World, build_world, service_account_key

PROMPT_SECONDS = 1.5


@pytest.fixture
def committed_world(transactional_db: None, settings: Settings) -> World:
    settings.TETHER_LONG_POLLS_PER_PROCESS = 1
    return build_world()


def worker_secret(world: World) -> str:
    _, secret = service_account_key(world.alice, world.prod, "worker", name="task-worker")
    return secret


def task_claim(secret: str, wait_seconds: float, task_keys: list[str] | None = None) -> tuple[dict[str, Any], float]:
    """A task worker's claim: its JSON answer and how long it took."""
    worker_id = uuid.uuid4()
    body = {
        "worker_id": str(worker_id),
        "worker_name": f"w-{worker_id.hex[:4]}",
        "task_keys": task_keys or ["add-1"],
        "capacity": 1,
        "wait_seconds": wait_seconds,
    }
    started = time.monotonic()
    response = bearer(secret).post(f"{PROD}/task-workers/claim/", body, format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer, elapsed


def in_thread(claim: Callable[[], tuple[dict[str, Any], float]]) -> tuple[threading.Thread, list[Any]]:
    """Start `claim` on its own thread (and database connection); the list gets its (answer, elapsed)."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.extend(claim())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def until_waiting(count: int) -> None:
    deadline = time.monotonic() + 10
    while LONG_POLLS.waiting != count:
        assert time.monotonic() < deadline, f"{LONG_POLLS.waiting} claims waiting, not {count}"
        time.sleep(0.01)


def test_a_task_worker_long_poll_beyond_the_cap_answers_at_once(committed_world: World) -> None:
    secret = worker_secret(committed_world)
    holder, held = in_thread(lambda: task_claim(secret, wait_seconds=3.0))
    until_waiting(1)

    refused, refused_in = task_claim(secret, wait_seconds=20)
    holder.join(30)

    assert refused["task_runs"] == []
    low, high = REFUSED_RETRY_SECONDS
    assert low <= refused["retry_after_seconds"] <= high
    assert refused_in < PROMPT_SECONDS
    answer, elapsed = held
    assert (answer["task_runs"], answer["retry_after_seconds"]) == ([], 0)
    assert elapsed >= 2.9
    # The place is free again: the next long-poll waits out its time.
    waited, waited_in = task_claim(secret, wait_seconds=1.2)
    assert (waited["task_runs"], waited["retry_after_seconds"]) == ([], 0)
    assert waited_in >= 1.1


def test_a_task_worker_refused_its_wait_still_claims_a_due_run(committed_world: World) -> None:
    secret = worker_secret(committed_world)
    holder, _ = in_thread(lambda: task_claim(secret, wait_seconds=3.0, task_keys=["other"]))
    until_waiting(1)
    developer = bearer(service_account_key(committed_world.alice, committed_world.prod, "developer", name="dev")[1])
    queued = developer.post(f"{PROD}/background-tasks/", {"task_key": "add-1"}, format="json").json()

    answer, elapsed = task_claim(secret, wait_seconds=20)
    holder.join(30)

    assert [run["id"] for run in answer["task_runs"]] == [queued["id"]]
    assert answer["retry_after_seconds"] == 0
    assert elapsed < PROMPT_SECONDS


def test_agents_and_task_workers_share_one_cap(committed_world: World) -> None:
    fleet = make_fleet(committed_world)
    agent_id = hello(fleet)
    agent = bearer(fleet.worker_secret)

    def agent_long_poll() -> tuple[dict[str, Any], float]:
        response = agent.post(f"{AGENTS}/{agent_id}/claim/", {"wait_seconds": 3.0}, format="json")
        assert response.status_code == 200, response.content
        return response.json(), 0.0

    holder, _ = in_thread(agent_long_poll)
    until_waiting(1)

    refused, refused_in = task_claim(worker_secret(committed_world), wait_seconds=20)
    holder.join(30)

    assert refused["retry_after_seconds"] > 0
    assert refused_in < PROMPT_SECONDS
