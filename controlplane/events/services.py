"""Recording events. Low level: other apps record into it; it imports none of them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from controlplane.events.models import Event


def resource(kind: str, id_: object, name: str = "", **labels: str) -> dict[str, str]:
    entry = {"tether.resource.id": f"tether.{kind}.{id_}", "tether.resource.role": kind}
    if name:
        entry["tether.resource.name"] = name
    entry.update(labels)
    return entry


def event_build(
    *,
    workspace_id: uuid.UUID,
    event: str,
    occurred: datetime,
    resource: dict[str, str],
    related: Iterable[dict[str, str]] = (),
    payload: dict[str, Any] | None = None,
) -> Event:
    return Event(
        workspace_id=workspace_id,
        event=event,
        occurred=occurred,
        resource=resource,
        resource_id=resource["tether.resource.id"],
        related=list(related),
        payload=payload or {},
    )


def events_record(events: list[Event]) -> None:
    """Insert events in one statement; an id seen before is skipped (re-sends are no-ops)."""
    if events:
        Event.dangerously_unscoped.bulk_create(events, ignore_conflicts=True)
