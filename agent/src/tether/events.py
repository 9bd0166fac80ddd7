"""Events from flows (like `prefect.events.emit_event`): recorded in the workspace's event log.

An event names what happened (`event`), to what (`resource`, with a `tether.resource.id`
label), and may carry `related` resources and a small JSON `payload`. Inside a run, the
flow run (and task run) are added to `related`, so automations can match on them.
Emitting never fails a run: an event the server refuses or cannot receive is logged.
"""

from __future__ import annotations

import datetime as _dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from tether.context import flow_run_context, task_run_context
from tether.exceptions import APIError

_logger = logging.getLogger("tether.events")


@dataclass
class Event:
    event: str
    resource: dict[str, str]
    occurred: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.UTC))
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "occurred": self.occurred.isoformat(),
            "event": self.event,
            "resource": self.resource,
            "related": self.related,
            "payload": self.payload,
        }


def _run_resources() -> list[dict[str, str]]:
    related: list[dict[str, str]] = []
    flow_ctx = flow_run_context.get()
    if flow_ctx is not None:
        related.append(
            {
                "tether.resource.id": f"tether.flow-run.{flow_ctx.flow_run.id}",
                "tether.resource.role": "flow-run",
                "tether.resource.name": flow_ctx.flow_run.name,
            }
        )
    task_ctx = task_run_context.get()
    if task_ctx is not None:
        related.append(
            {
                "tether.resource.id": f"tether.task-run.{task_ctx.task_run.id}",
                "tether.resource.role": "task-run",
                "tether.resource.name": task_ctx.task_run.name,
            }
        )
    return related


def emit_event(
    event: str,
    resource: dict[str, str],
    occurred: _dt.datetime | None = None,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
    id: uuid.UUID | None = None,
    **_ignored: Any,
) -> Event | None:
    """Record an event in the workspace's event log; returns it, or None when it was not sent.

    Not sent when untracked (no `TETHER_API_URL`) or when the server refuses it (logged).
    """
    from tether._api import Client

    if "tether.resource.id" not in resource:
        raise ValueError("An event's resource needs a 'tether.resource.id' label.")
    built = Event(
        event=event,
        resource=dict(resource),
        occurred=occurred or _dt.datetime.now(_dt.UTC),
        related=[*(related or []), *_run_resources()],
        payload=dict(payload or {}),
        id=id or uuid.uuid4(),
    )
    flow_ctx = flow_run_context.get()
    client = flow_ctx.client if flow_ctx is not None else None
    owned = None
    if client is None:
        client = owned = Client.from_env()
    if client is None:
        return None
    try:
        # The event carries its id: a batch re-sent after a lost answer is recorded once.
        client.request("POST", "events/", json=[built.to_api()], retry_for=10.0)
    except APIError as exc:
        _logger.warning("The event %r could not be recorded: %s", event, exc)
        return None
    finally:
        if owned is not None:
            owned.close()
    return built


__all__ = ["Event", "emit_event"]
