"""Dispatch writes: hello, claim (exactly once, under a lease), heartbeat, and run tokens."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from controlplane.apikeys.models import RunToken
from controlplane.apikeys.tokens import KeyKind, generate_key, hash_key, parse_key
from controlplane.core.errors import NotFound
from controlplane.core.long_polls import LONG_POLLS, refused_retry_after_seconds
from controlplane.core.metrics import CLAIM_SECONDS
from controlplane.flows.models import Deployment
from controlplane.orgs.models import Workspace
from controlplane.runs.models import FlowRun
from controlplane.runs.orchestration.context import ResultStatus, StateSpec
from controlplane.runs.services.flow_runs import flow_run_set_state
from controlplane.runs.states import StateType
from controlplane.workpools.dispatch import push
from controlplane.workpools.dispatch.leases import LEASED_TYPES
from controlplane.workpools.dispatch.presence import agent_seen
from controlplane.workpools.dispatch.selectors import (
    ServedQueues,
    active_count_in_pool,
    active_counts_by_queue,
    any_due,
    deployment_slots,
    deployments_at_limit,
    due_runs,
    served_queues,
)
from controlplane.workpools.dispatch.timings import Timings, dispatch_timings
from controlplane.workpools.models import Agent, WorkPool, WorkQueue
from controlplane.workpools.selectors import DEFAULT_QUEUE_NAME, work_pool_by_name, work_queue_by_name

# How often a long-poll claim looks again when no in-process wake came (runs created on
# another replica, or falling due). A wake from this process ends the wait at once.
LONG_POLL_RECHECK_SECONDS = 1.0
# A claim locks a few more rows than it may take when limits can make it skip some.
_OVERFETCH = 10


@dataclass(frozen=True)
class ClaimedRun:
    run: FlowRun
    lease_expires_at: datetime
    run_token: str


@dataclass(frozen=True)
class WaitingClaim:
    """A claim's answer: the runs, and how long to stay away when a long-poll was refused its wait."""

    runs: list[ClaimedRun]
    retry_after_seconds: float = 0.0


@dataclass(frozen=True)
class HeartbeatResult:
    renewed: list[uuid.UUID]
    lost: list[uuid.UUID]
    cancel: list[uuid.UUID]


def agent_hello(
    *, workspace: Workspace, name: str, pool_name: str, queues: list[str], capacity: int, version: str
) -> Agent:
    """Register an agent, or refresh the one with this name in this pool (a restart keeps its id)."""
    pool = work_pool_by_name(name=pool_name)
    for queue_name in queues:
        work_queue_by_name(pool=pool, name=queue_name)
    values = {"queues": sorted(set(queues)), "capacity": capacity, "version": version}
    try:
        with transaction.atomic():
            agent, _ = Agent.objects.update_or_create(pool=pool, name=name, defaults={**values, "workspace": workspace})
    except IntegrityError:
        # Two hellos with one name raced; the other created the row: update it.
        Agent.objects.filter(pool=pool, name=name).update(**values)
        agent = Agent.objects.get(pool=pool, name=name)
    agent_seen(agent=agent)
    return agent


def agent_for_update(agent_id: uuid.UUID) -> Agent:
    agent: Agent | None = Agent.objects.select_related("pool").filter(pk=agent_id).first()
    if agent is None:
        raise NotFound("Agent not found.")
    return agent


def _mint_run_tokens(agent: Agent, runs: list[FlowRun]) -> dict[uuid.UUID, str]:
    secrets: dict[uuid.UUID, str] = {}
    tokens = []
    for run in runs:
        secret = generate_key(KeyKind.RUN)
        parsed = parse_key(secret)
        assert parsed is not None
        secrets[run.id] = secret
        tokens.append(
            RunToken(
                workspace_id=run.workspace_id,
                prefix=parsed.lookup_prefix,
                secret_hash=hash_key(secret),
                flow_run_id=run.id,
                epoch=run.epoch,
                agent=agent,
            )
        )
    RunToken.objects.bulk_create(tokens)
    return secrets


@dataclass
class _Slots:
    """What the limits still allow in this claim: the pool, each limited queue and deployment."""

    budget: int
    queues: dict[uuid.UUID, int]
    deployments: dict[uuid.UUID, int]

    def allows(self, queue_id: uuid.UUID | None, deployment_id: uuid.UUID | None) -> bool:
        queue_free = self.queues.get(queue_id, 1) if queue_id is not None else 1
        deployment_free = self.deployments.get(deployment_id, 1) if deployment_id is not None else 1
        return queue_free > 0 and deployment_free > 0

    def take(self, queue_id: uuid.UUID | None, deployment_id: uuid.UUID | None) -> None:
        self.budget -= 1
        if queue_id is not None and queue_id in self.queues:
            self.queues[queue_id] -= 1
        if deployment_id is not None and deployment_id in self.deployments:
            self.deployments[deployment_id] -= 1


def _queue_slots(pool: WorkPool, queues: dict[uuid.UUID, WorkQueue], capacity: int) -> _Slots:
    budget = capacity
    if pool.concurrency_limit is not None:
        budget = min(budget, pool.concurrency_limit - active_count_in_pool(pool))
    limited = [pk for pk, queue in queues.items() if queue.concurrency_limit is not None]
    counts = active_counts_by_queue(limited) if limited else {}
    free = {pk: max(0, (queues[pk].concurrency_limit or 0) - counts.get(pk, 0)) for pk in limited}
    return _Slots(budget=budget, queues=free, deployments={})


def _candidates(
    agent: Agent, queues: dict[uuid.UUID, WorkQueue], slots: _Slots, pool: WorkPool, timings: Timings
) -> list[FlowRun]:
    default = next((q for q in queues.values() if q.name == DEFAULT_QUEUE_NAME), None)
    open_ids = [pk for pk in queues if slots.queues.get(pk, 1) > 0]
    served = ServedQueues(ids=open_ids, includes_default=default is not None and default.pk in open_ids)
    limits_may_skip = (
        bool(slots.queues) or Deployment.objects.filter(work_pool=pool, concurrency_limit__isnull=False).exists()
    )
    take = slots.budget + _OVERFETCH if limits_may_skip else slots.budget
    rows = (
        due_runs(agent, served, horizon=timezone.now() + timings.prefetch)
        .exclude(deployment_id__in=deployments_at_limit(pool))
        .annotate(queue_priority=Coalesce(F("work_queue__priority"), Value(default.priority if default else 1)))
        .order_by("queue_priority", "next_scheduled_start_time", "id")
        .select_for_update(skip_locked=True, of=("self",))
    )
    return list(rows[:take])


@CLAIM_SECONDS.time()
@transaction.atomic
def agent_claim(*, agent: Agent, capacity: int) -> list[ClaimedRun]:
    """Take up to `capacity` due runs of the agent's pool and queues, each exactly once.

    Rows are taken with `FOR UPDATE SKIP LOCKED` (concurrent claimers never wait on, nor
    share, a run), in queue-priority then scheduled-time order, within the pool's, queues'
    and deployments' concurrency limits. Each run goes to PENDING through the orchestration
    engine (its rules and events apply), gets a lease held by the agent, a new epoch and a
    run token.
    """
    timings = dispatch_timings()
    now = timezone.now()
    agent_seen(agent=agent, now=now)
    pool = WorkPool.objects.filter(pk=agent.pool_id, paused=False).first()
    served = served_queues(agent)
    if pool is None or capacity <= 0 or not served.ids:
        return []
    queues = {queue.pk: queue for queue in WorkQueue.objects.filter(pk__in=served.ids)}
    if pool.concurrency_limit is not None or any(q.concurrency_limit is not None for q in queues.values()):
        # Counting a limited pool's active runs and taking new ones must be one step: one claim at a time.
        WorkPool.objects.select_for_update().filter(pk=pool.pk).first()
    slots = _queue_slots(pool, queues, capacity)
    if slots.budget <= 0:
        return []
    candidates = _candidates(agent, queues, slots, pool, timings)
    deployment_ids = sorted({run.deployment_id for run in candidates if run.deployment_id is not None})
    # The concurrency rule locks each run's deployment; locking them all first, in id order,
    # keeps two claims whose batches share deployments from deadlocking.
    list(Deployment.objects.select_for_update().filter(pk__in=deployment_ids).order_by("pk").values_list("pk"))
    slots.deployments = deployment_slots(set(deployment_ids))
    default_id = next((pk for pk, q in queues.items() if q.name == DEFAULT_QUEUE_NAME), None)
    lease_expires_at = now + timings.lease
    taken: list[FlowRun] = []
    for run in candidates:
        if slots.budget <= 0:
            break
        queue_id = run.work_queue_id or default_id
        if not slots.allows(queue_id, run.deployment_id):
            continue
        result = flow_run_set_state(
            run_id=run.pk, proposed=StateSpec(type=StateType.PENDING, message=f"Claimed by agent {agent.name}.")
        )
        if result.status != ResultStatus.ACCEPT or result.state.type != StateType.PENDING:
            continue
        slots.take(queue_id, run.deployment_id)
        taken.append(run)
    if not taken:
        return []
    FlowRun.objects.filter(pk__in=[run.pk for run in taken]).update(
        lease_owner=agent.pk, lease_expires_at=lease_expires_at, epoch=F("epoch") + 1
    )
    claimed = list(FlowRun.objects.select_related("flow", "deployment").filter(pk__in=[run.pk for run in taken]))
    order = {run.pk: index for index, run in enumerate(taken)}
    claimed.sort(key=lambda run: order[run.pk])
    secrets = _mint_run_tokens(agent, claimed)
    return [ClaimedRun(run=run, lease_expires_at=lease_expires_at, run_token=secrets[run.pk]) for run in claimed]


def agent_claim_waiting(*, agent: Agent, capacity: int, wait_seconds: float) -> WaitingClaim:
    """Claim; when nothing is due, wait up to `wait_seconds` for something to fall due (a long-poll).

    The wait holds no transaction and no locks: it sleeps on this process's wake signal
    (runs created or becoming due here end it at once) and looks again every second for
    work that appeared through another replica. It also holds one of this process's HTTP
    threads, so only `TETHER_LONG_POLLS_PER_PROCESS` claims wait at once (core/long_polls.py):
    beyond that the claim answers at once, with `retry_after_seconds` when it got nothing.
    """
    deadline = time.monotonic() + max(0.0, wait_seconds)
    seen = push.generation()
    claimed = agent_claim(agent=agent, capacity=capacity)
    if claimed or wait_seconds <= 0:
        return WaitingClaim(runs=claimed)
    with LONG_POLLS.try_enter() as admitted:
        if not admitted:
            return WaitingClaim(runs=[], retry_after_seconds=refused_retry_after_seconds())
        return WaitingClaim(runs=_claim_when_due(agent=agent, capacity=capacity, deadline=deadline, seen=seen))


def _claim_when_due(*, agent: Agent, capacity: int, deadline: float, seen: int) -> list[ClaimedRun]:
    timings = dispatch_timings()
    while True:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            push.wait_for_change(seen, min(LONG_POLL_RECHECK_SECONDS, remaining))
            seen = push.generation()
            if any_due(agent, horizon=timezone.now() + timings.prefetch):
                break
        seen = push.generation()
        claimed = agent_claim(agent=agent, capacity=capacity)
        if claimed:
            return claimed


@transaction.atomic
def agent_heartbeat(*, agent: Agent, runs: list[tuple[uuid.UUID, int]]) -> HeartbeatResult:
    """Renew, in one UPDATE, every lease the agent still holds at the epoch it reports."""
    timings = dispatch_timings()
    now = timezone.now()
    agent_seen(agent=agent, now=now)
    reported = [run_id for run_id, _ in runs]
    if not runs:
        return HeartbeatResult(renewed=[], lost=[], cancel=[])
    held = Q()
    for run_id, epoch in runs:
        held |= Q(pk=run_id, epoch=epoch)
    rows = list(
        FlowRun.objects.select_for_update()
        .filter(held, lease_owner=agent.pk, state_type__in=LEASED_TYPES)
        .values_list("id", "state_type")
    )
    renewed = {row[0] for row in rows}
    if renewed:
        FlowRun.objects.filter(pk__in=renewed).update(lease_expires_at=now + timings.lease)
    return HeartbeatResult(
        renewed=[run_id for run_id in reported if run_id in renewed],
        lost=[run_id for run_id in reported if run_id not in renewed],
        cancel=[row[0] for row in rows if row[1] == StateType.CANCELLING],
    )


def run_token_revoke_for(run_ids: list[uuid.UUID]) -> None:
    RunToken.objects.filter(flow_run_id__in=run_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
