"""Wake-ups for task workers: a background run was queued (or handed back) for a task key.

As for agents (workpools/dispatch/push.py), a wake is a signal, never state: a worker that
misses one finds the run on its next claim. Two channels, both after commit: an in-process
condition that ends this process's long-polling claims at once, and a channel-layer group per
(workspace, task key) that reaches the WebSockets of workers connected to any replica
(realtime/task_workers.py).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterable

from django.db import transaction

from controlplane.core.channel_delivery import deliver

_created = threading.Condition()
_generation = 0


def task_key_group(workspace_id: uuid.UUID, task_key: str) -> str:
    # Group names allow only a few characters and < 100 of them; task keys are free text.
    digest = hashlib.sha256(task_key.encode()).hexdigest()[:24]
    return f"tether.tasks.{workspace_id.hex}.{digest}"


def generation() -> int:
    return _generation


def wake_local_claims() -> None:
    global _generation
    with _created:
        _generation += 1
        _created.notify_all()


def wait_for_wake(seen: int, timeout: float) -> int:
    """Block until a wake happens in this process after `seen` (or `timeout` passes)."""
    with _created:
        _created.wait_for(lambda: _generation != seen, timeout=timeout)
        return _generation


def wake_task_workers_now(workspace_id: uuid.UUID, task_keys: Iterable[str]) -> None:
    wake_local_claims()
    for task_key in sorted(set(task_keys)):
        deliver(task_key_group(workspace_id, task_key), {"type": "tasks.wake", "task_key": task_key})


def wake_task_workers_on_commit(workspace_id: uuid.UUID, task_keys: Iterable[str]) -> None:
    keys = sorted(set(task_keys))
    transaction.on_commit(lambda: wake_task_workers_now(workspace_id, keys))
