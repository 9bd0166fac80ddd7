"""Exactly-once claims under concurrent claimers, and long-polls that end when work appears.

These run against real PostgreSQL with committed data: each claimer is a thread with its own
database connection.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from controlplane.flows.models import Flow
from controlplane.runs.models import FlowRun, FlowRunState
from controlplane.runs.services.flow_runs import FlowRunRequest, flow_run_create
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch.services import agent_claim, agent_hello
from tests.controlplane.workpools.test_dispatch_support import Fleet, claim, hello, make_fleet
from tests.support.runs import in_prod
from tests.support.tenants import World, actor_for, build_world

RUNS = 600
CLAIMERS = 12


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    return build_world()


def _in_thread(target: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    return run


def _bulk_due_runs(fleet: Fleet, count: int) -> None:
    flow = Flow.dangerously_unscoped.get(workspace=fleet.world.prod, name="etl")
    runs = [
        FlowRun(
            workspace=fleet.world.prod,
            flow=flow,
            deployment=fleet.deployment,
            name=f"r{i}",
            work_pool=fleet.pool,
            work_queue=fleet.default,
            state_type=StateType.SCHEDULED,
            state_name="Scheduled",
            state_timestamp=fleet.deployment.created_at,
            next_scheduled_start_time=fleet.deployment.created_at,
        )
        for i in range(count)
    ]
    FlowRun.dangerously_unscoped.bulk_create(runs)


def test_concurrent_claimers_take_every_run_exactly_once(committed_world: World) -> None:
    fleet = make_fleet(committed_world)
    _bulk_due_runs(fleet, RUNS)
    with in_prod(committed_world):
        agents = [
            agent_hello(
                workspace=committed_world.prod, name=f"a{i}", pool_name="main", queues=[], capacity=7, version=""
            )
            for i in range(CLAIMERS)
        ]
    claimed: list[tuple[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(CLAIMERS)

    def claimer(agent: Any) -> None:
        start.wait()
        with in_prod(committed_world):
            while True:
                got = agent_claim(agent=agent, capacity=7)
                if not got:
                    if not FlowRun.objects.filter(state_type=StateType.SCHEDULED).exists():
                        return
                    continue
                with lock:
                    claimed.extend((str(c.run.pk), agent.pk) for c in got)

    threads = [threading.Thread(target=_in_thread(functools.partial(claimer, agent))) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    counts = Counter(run_id for run_id, _ in claimed)
    assert len(counts) == RUNS
    assert max(counts.values()) == 1
    assert FlowRun.dangerously_unscoped.filter(state_type=StateType.PENDING, epoch=1).count() == RUNS
    assert FlowRunState.objects.filter(type=StateType.PENDING).count() == RUNS
    assert len({agent for _, agent in claimed}) > 1  # they really raced


def test_long_poll_returns_as_soon_as_a_run_is_created(committed_world: World) -> None:
    fleet = make_fleet(committed_world)
    agent_id = hello(fleet)

    def create_later() -> None:
        time.sleep(0.5)
        with in_prod(committed_world):
            flow_run_create(
                workspace=committed_world.prod,
                actor=actor_for(committed_world.alice),
                request=FlowRunRequest(deployment=fleet.deployment),
            )

    creator = threading.Thread(target=_in_thread(create_later))
    started = time.monotonic()
    creator.start()
    runs = claim(fleet, agent_id, wait_seconds=10)
    elapsed = time.monotonic() - started
    creator.join()
    assert len(runs) == 1
    assert 0.4 < elapsed < 2.0, elapsed


def test_long_poll_with_nothing_due_waits_then_answers_empty(committed_world: World) -> None:
    fleet = make_fleet(committed_world)
    started = time.monotonic()
    assert claim(fleet, hello(fleet), wait_seconds=1.2) == []
    assert 1.1 < time.monotonic() - started < 3.0
