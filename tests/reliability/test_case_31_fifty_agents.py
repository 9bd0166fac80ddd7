"""RELIABILITY 31: 50 agents claiming 10,000 runs → each run claimed exactly once.

50 registered agents of one pool claim through the dispatch service from 10 threads, each with
its own PostgreSQL connection (5 agents a thread, taking turns), until nothing is left. Every
run must be claimed by exactly one claim: once in the claimers' tally, PENDING at epoch 1 in
the database, with exactly one PENDING entry in its history, and leased to the agent that
claimed it.

The runs belong to the pool but to no deployment: a claim locks the deployments of the runs it
takes (for their concurrency limits), which would queue the claimers one behind the other and
prove nothing about `SKIP LOCKED`. Without them the claimers really race for the same rows.

Each claimed run costs the orchestration engine a transition, an event and a run token, about
10 ms of CPU here, so `make test` claims 2,000 runs (200 claims of 10);
`TETHER_RELIABILITY_CLAIM_RUNS=10000` runs the case's full count (docs/reliability.md).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q

from controlplane.flows.models import Flow
from controlplane.runs.models import FlowRun
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch.services import agent_claim, agent_hello
from tests.controlplane.workpools.test_dispatch_support import Fleet, make_fleet
from tests.support.runs import in_prod
from tests.support.tenants import build_world

RUNS = int(os.environ.get("TETHER_RELIABILITY_CLAIM_RUNS", "2000"))
AGENTS = 50
THREADS = 10
CAPACITY = 10
DEADLINE_SECONDS = 1800


def _due_runs(fleet: Fleet, count: int) -> None:
    flow = Flow.dangerously_unscoped.get(workspace=fleet.world.prod, name="etl")
    due = fleet.deployment.created_at
    FlowRun.dangerously_unscoped.bulk_create(
        [
            FlowRun(
                workspace=fleet.world.prod,
                flow=flow,
                name=f"r{i}",
                work_pool=fleet.pool,
                work_queue=fleet.default,
                state_type=StateType.SCHEDULED,
                state_name="Scheduled",
                state_timestamp=due,
                next_scheduled_start_time=due,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


@pytest.mark.timeout(DEADLINE_SECONDS + 120)  # the full count outlasts the suite's 300 s default on a busy machine
@pytest.mark.django_db(transaction=True)
def test_fifty_agents_claim_every_run_exactly_once() -> None:
    world = build_world()
    fleet = make_fleet(world)
    _due_runs(fleet, RUNS)
    with in_prod(world):
        agents = [
            agent_hello(
                workspace=world.prod, name=f"agent-{i}", pool_name="main", queues=[], capacity=CAPACITY, version=""
            )
            for i in range(AGENTS)
        ]
    claimed: list[tuple[str, Any]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)
    deadline = time.monotonic() + DEADLINE_SECONDS

    def claimer(mine: list[Any]) -> None:
        try:
            start.wait()
            with in_prod(world):
                turn = 0
                while time.monotonic() < deadline:
                    agent = mine[turn % len(mine)]
                    turn += 1
                    got = agent_claim(agent=agent, capacity=CAPACITY)
                    if got:
                        with lock:
                            claimed.extend((str(c.run.pk), agent.pk) for c in got)
                    elif not FlowRun.objects.filter(state_type=StateType.SCHEDULED).exists():
                        return
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(agents[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 60)
    assert failures == []

    counts = Counter(run_id for run_id, _ in claimed)
    assert len(counts) == RUNS
    assert max(counts.values()) == 1
    assert len({agent for _, agent in claimed}) > THREADS  # many agents, racing from every thread
    runs = FlowRun.dangerously_unscoped.filter(workspace=world.prod)
    assert runs.filter(state_type=StateType.PENDING, epoch=1).count() == RUNS
    histories = runs.annotate(pending=Count("states", filter=Q(states__type=StateType.PENDING)))
    assert set(histories.values_list("pending", flat=True)) == {1}
    holder = {run_id: str(agent) for run_id, agent in claimed}
    leased = {str(pk): str(owner) for pk, owner in runs.values_list("pk", "lease_owner")}
    assert leased == holder
