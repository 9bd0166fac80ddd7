"""Reads for work pools and queues. Names in request bodies are looked up in the current workspace only."""

from __future__ import annotations

from django.db.models import QuerySet

from controlplane.core.errors import NotFound
from controlplane.workpools.models import WorkPool, WorkQueue

DEFAULT_QUEUE_NAME = "default"


def work_pools_list(*, name: str | None = None) -> QuerySet[WorkPool]:
    pools = WorkPool.objects.all()
    if name is not None:
        pools = pools.filter(name=name)
    return pools


def work_pool_by_name(*, name: str) -> WorkPool:
    """The pool called `name` in the workspace in scope; 404 (as for a missing one) otherwise."""
    pool: WorkPool | None = WorkPool.objects.filter(name=name).first()
    if pool is None:
        raise NotFound(f"No work pool named {name!r} in this workspace.", details={"work_pool_name": ["not found"]})
    return pool


def work_queues_for_pool(*, pool: WorkPool) -> QuerySet[WorkQueue]:
    return WorkQueue.objects.filter(pool=pool).select_related("pool")


def work_queue_by_name(*, pool: WorkPool, name: str) -> WorkQueue:
    """The queue called `name` in `pool`; a queue of another pool is not found."""
    queue: WorkQueue | None = WorkQueue.objects.filter(pool=pool, name=name).select_related("pool").first()
    if queue is None:
        raise NotFound(
            f"No queue named {name!r} in work pool {pool.name!r}.", details={"work_queue_name": ["not found"]}
        )
    return queue


def default_queue(*, pool: WorkPool) -> WorkQueue:
    """The queue every pool is created with; runs without a queue of their own go there."""
    return work_queue_by_name(pool=pool, name=DEFAULT_QUEUE_NAME)


def is_default_queue(queue: WorkQueue) -> bool:
    return queue.name == DEFAULT_QUEUE_NAME
