"""Recording a firing: at most once per key, with one action run per action, executed after commit."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controlplane.automations.models import ActionRun, Automation, Firing
from controlplane.events.models import Event
from controlplane.events.services import event_build, events_record, resource


def event_snapshot(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "event": event.event,
        "occurred": event.occurred.isoformat(),
        "resource": event.resource,
        "related": event.related,
        "payload": event.payload,
    }


def _dispatch_on_commit(action_run_ids: list[Any]) -> None:
    def dispatch() -> None:
        from controlplane.automations.tasks import DISPATCH_EXPIRES_SECONDS, execute_action_runs

        execute_action_runs.apply_async(([str(pk) for pk in action_run_ids],), expires=DISPATCH_EXPIRES_SECONDS)

    # A lost dispatch is not a lost action: the periodic pass runs every due action run.
    transaction.on_commit(dispatch, robust=True)


def firing_create(*, automation: Automation, key: str, reason: str, event: Event | None) -> Firing | None:
    """Record that `automation` fired for `key` (None when it already did) and queue its actions."""
    try:
        with transaction.atomic():
            firing = Firing.dangerously_unscoped.create(
                workspace_id=automation.workspace_id,
                automation=automation,
                key=key[:512],
                reason=reason[:1000],
                triggering_event=event_snapshot(event) if event is not None else None,
            )
    except IntegrityError:
        return None
    now = timezone.now()
    runs = ActionRun.dangerously_unscoped.bulk_create(
        [
            ActionRun(
                workspace_id=automation.workspace_id, firing=firing, index=index, action=action, next_attempt_at=now
            )
            for index, action in enumerate(automation.actions or [])
        ]
    )
    related = [resource("event", event.id, event.event)] if event is not None else []
    events_record(
        [
            event_build(
                workspace_id=automation.workspace_id,
                event="tether.automation.triggered",
                occurred=now,
                resource=resource("automation", automation.pk, automation.name),
                related=related,
                payload={"firing_id": str(firing.pk), "reason": firing.reason, "actions": len(runs)},
            )
        ]
    )
    if runs:
        _dispatch_on_commit([run.pk for run in runs])
    return firing
