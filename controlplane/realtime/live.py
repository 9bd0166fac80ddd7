"""Live updates for the web UI: what changed in a workspace, pushed after commit.

The messages are hints, never the data of record: a browser that receives one refetches
(or patches) what it shows through the public API, and one that misses it (socket down,
Redis down) polls. So, as with agent pushes, a message that cannot be delivered is logged
and dropped, never raised into the request that caused it.

Everything for one workspace goes to one channel-layer group; each browser connection
forwards log notices only for the runs it subscribed to (see browsers.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import transaction

from controlplane.core.channel_delivery import deliver

T = TypeVar("T")


def workspace_live_group(workspace_id: uuid.UUID) -> str:
    return f"tether.live.{workspace_id.hex}"


def user_live_group(user_id: uuid.UUID) -> str:
    return f"tether.live-user.{user_id.hex}"


def _send(group: str, message: dict[str, Any]) -> None:
    deliver(group, message)  # never waits for, nor raises from, the channel layer


def flow_run_changed_on_commit(
    *, workspace_id: uuid.UUID, run_id: uuid.UUID, state_type: str, state_name: str, deployment_id: uuid.UUID | None
) -> None:
    """Tell the workspace's browsers, once the transaction commits, that a run changed state."""
    message = {
        "type": "live.flow_run",
        "flow_run_id": str(run_id),
        "state_type": state_type,
        "state_name": state_name,
        "deployment_id": str(deployment_id) if deployment_id else None,
    }
    transaction.on_commit(lambda: _send(workspace_live_group(workspace_id), message))


def logs_added_on_commit(*, workspace_id: uuid.UUID, flow_run_ids: Iterable[uuid.UUID]) -> None:
    """Tell the browsers watching these runs, once the transaction commits, that lines arrived."""
    message = {"type": "live.logs", "flow_run_ids": sorted(str(run_id) for run_id in flow_run_ids)}
    if message["flow_run_ids"]:
        transaction.on_commit(lambda: _send(workspace_live_group(workspace_id), message))


def user_access_changed_on_commit(*, user_id: uuid.UUID) -> None:
    """Make the user's open live sockets re-check their access now (e.g. after a removal):
    those the user may no longer read close at once, instead of at the next periodic check."""
    transaction.on_commit(lambda: _send(user_live_group(user_id), {"type": "live.access_changed"}))


# --- the event stream (browsers that sent `subscribe_events`) ----------------------------------

# A channel message carries at most this many events of a batch (the rest are only counted):
# no socket forwards more per second than this anyway (browsers.EVENTS_PER_SECOND), and a
# batch of 1,000 large events must not become one huge Redis message.
EVENTS_PER_MESSAGE = 100


def workspace_events_group(workspace_id: uuid.UUID) -> str:
    return f"tether.live-events.{workspace_id.hex}"


def events_recorded_on_commit(
    *, workspace_id: uuid.UUID, events: Sequence[T], represent: Callable[[Sequence[T]], list[dict[str, Any]]]
) -> None:
    """Send, once the transaction commits, one message with the workspace's new `events` (as
    `represent` renders them, then: a rolled-back transaction costs nothing) to its event stream."""
    if not events:
        return
    shown, omitted = events[:EVENTS_PER_MESSAGE], max(0, len(events) - EVENTS_PER_MESSAGE)

    def send() -> None:
        message = {"type": "live.events", "events": represent(shown), "omitted": omitted}
        _send(workspace_events_group(workspace_id), message)

    transaction.on_commit(send, robust=True)  # a hint that fails must not fail what committed
