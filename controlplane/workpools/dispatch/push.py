"""Wake-ups for agents: `wake` a pool when it has a due run, `cancel` the agent holding a run.

Pushes are signals, never state: an agent that misses one finds the same work on its next
long-poll claim or heartbeat. So a push that cannot be delivered (Redis down) is logged and
dropped, never raised into the request that caused it (RELIABILITY 36), and the request
does not wait for it (core/channel_delivery.py). Every push is sent
after the transaction commits, so an agent woken by it can already see the run.

Two channels: the channel layer (Redis in production, so any replica reaches every agent's
WebSocket; in-memory in the embedded mode), and an in-process condition that wakes the
long-polling claims of this process at once.
"""

from __future__ import annotations

import threading
import uuid

from django.db import transaction

from controlplane.core.channel_delivery import deliver

_changed = threading.Condition()
_generation = 0


def pool_group(pool_id: uuid.UUID) -> str:
    return f"tether.pool.{pool_id.hex}"


def agent_group(agent_id: uuid.UUID) -> str:
    return f"tether.agent.{agent_id.hex}"


def _notify_local_waiters() -> None:
    global _generation
    with _changed:
        _generation += 1
        _changed.notify_all()


def generation() -> int:
    return _generation


def wait_for_change(seen: int, timeout: float) -> int:
    """Block until a wake happens in this process after `seen` (or `timeout` passes)."""
    with _changed:
        _changed.wait_for(lambda: _generation != seen, timeout=timeout)
        return _generation


def wake_pool_now(pool_id: uuid.UUID) -> None:
    _notify_local_waiters()
    deliver(pool_group(pool_id), {"type": "dispatch.wake", "pool_id": str(pool_id)})


def cancel_run_now(agent_id: uuid.UUID, run_id: uuid.UUID) -> None:
    deliver(agent_group(agent_id), {"type": "dispatch.cancel", "run_id": str(run_id)})


def wake_pool_on_commit(pool_id: uuid.UUID) -> None:
    transaction.on_commit(lambda: wake_pool_now(pool_id))


def cancel_run_on_commit(agent_id: uuid.UUID, run_id: uuid.UUID) -> None:
    transaction.on_commit(lambda: cancel_run_now(agent_id, run_id))
