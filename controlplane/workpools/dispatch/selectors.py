"""Reads for dispatch: agents and their status, the queues an agent serves, due runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet

from controlplane.flows.models import Deployment
from controlplane.runs.models import FlowRun
from controlplane.runs.states import ACTIVE_TYPES, StateType
from controlplane.workpools.dispatch.timings import Timings
from controlplane.workpools.models import Agent, WorkPool, WorkQueue
from controlplane.workpools.selectors import DEFAULT_QUEUE_NAME


def agent_status(agent: Agent, *, now: datetime, timings: Timings) -> str:
    if agent.last_seen_at is None or now - agent.last_seen_at > timings.offline_after:
        return "offline"
    return "online"


def agents_list() -> QuerySet[Agent]:
    return Agent.objects.select_related("pool")


@dataclass(frozen=True)
class ServedQueues:
    """The unpaused queues an agent takes runs from, and whether runs with no queue count as `default`."""

    ids: list[uuid.UUID]
    includes_default: bool


def served_queues(agent: Agent) -> ServedQueues:
    queues = WorkQueue.objects.filter(pool_id=agent.pool_id, paused=False)
    if agent.queues:
        queues = queues.filter(name__in=agent.queues)
    rows = list(queues.values_list("id", "name"))
    return ServedQueues(
        ids=[row[0] for row in rows], includes_default=any(row[1] == DEFAULT_QUEUE_NAME for row in rows)
    )


def due_runs(agent: Agent, served: ServedQueues, *, horizon: datetime) -> QuerySet[FlowRun]:
    """SCHEDULED runs of the agent's pool and queues that are due by `horizon` (no ordering, no locks)."""
    in_queues = Q(work_queue_id__in=served.ids)
    if served.includes_default:
        in_queues |= Q(work_queue__isnull=True)
    return FlowRun.objects.filter(
        in_queues,
        work_pool_id=agent.pool_id,
        state_type=StateType.SCHEDULED,
        next_scheduled_start_time__lte=horizon,
    ).exclude(deployment__paused=True)


def any_due(agent: Agent, *, horizon: datetime) -> bool:
    pool = WorkPool.objects.filter(pk=agent.pool_id, paused=False).first()
    if pool is None:
        return False
    served = served_queues(agent)
    return bool(served.ids) and due_runs(agent, served, horizon=horizon).exists()


def active_counts_by_queue(queue_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = (
        FlowRun.objects.filter(work_queue_id__in=queue_ids, state_type__in=ACTIVE_TYPES)
        .values("work_queue_id")
        .annotate(n=Count("id"))
    )
    return {row["work_queue_id"]: row["n"] for row in rows}


def active_count_in_pool(pool: WorkPool) -> int:
    return FlowRun.objects.filter(work_pool=pool, state_type__in=ACTIVE_TYPES).count()


def deployments_at_limit(pool: WorkPool) -> list[uuid.UUID]:
    """Deployments of the pool that cannot start another run now (their limit is reached)."""
    return list(
        Deployment.objects.filter(work_pool=pool, concurrency_limit__isnull=False)
        .annotate(active=Count("runs", filter=Q(runs__state_type__in=ACTIVE_TYPES)))
        .filter(active__gte=F("concurrency_limit"))
        .values_list("id", flat=True)
    )


def deployment_slots(deployment_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Free slots of each limited deployment among `deployment_ids` (unlimited ones are absent)."""
    rows = (
        Deployment.objects.filter(pk__in=deployment_ids, concurrency_limit__isnull=False)
        .annotate(active=Count("runs", filter=Q(runs__state_type__in=ACTIVE_TYPES)))
        .values_list("id", "concurrency_limit", "active")
    )
    return {pk: max(0, limit - active) for pk, limit, active in rows}
