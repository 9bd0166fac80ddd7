"""Recording and ingesting events; inbound webhooks. Low level: other apps record into it and it
imports none of them. Consumers (automations) subscribe with `on_events_recorded`."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from controlplane.core.errors import NotFound, ValidationFailed, unique_or_conflict
from controlplane.events.api.serializers import event_representation
from controlplane.events.models import Event, InboundWebhook
from controlplane.events.templating import TemplateError, check_template, render
from controlplane.orgs.models import Workspace
from controlplane.realtime.live import events_recorded_on_commit

logger = logging.getLogger(__name__)

RESOURCE_ID = "tether.resource.id"

_listeners: list[Callable[[], None]] = []


def on_events_recorded(listener: Callable[[], None]) -> None:
    """Call `listener` after every commit that recorded events (once per transaction)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _notify_listeners() -> None:
    for listener in _listeners:
        # One call per transaction is enough: the listener handles every event not yet handled.
        pending = getattr(connection, "run_on_commit", [])
        if any(entry[1] is listener for entry in pending):
            continue
        transaction.on_commit(listener, robust=True)


def resource(kind: str, id_: object, name: str = "", **labels: str) -> dict[str, str]:
    entry = {RESOURCE_ID: f"tether.{kind}.{id_}", "tether.resource.role": kind}
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
    id: uuid.UUID | None = None,
) -> Event:
    return Event(
        id=id or uuid.uuid4(),
        workspace_id=workspace_id,
        event=event,
        occurred=occurred,
        resource=resource,
        resource_id=resource[RESOURCE_ID],
        related=list(related),
        payload=payload or {},
    )


def events_record(events: list[Event]) -> None:
    """Insert events in one statement; an id seen before in the workspace is skipped (re-sends are no-ops).

    After commit, automations are told, and each workspace's live event stream gets one message.
    """
    if events:
        Event.dangerously_unscoped.bulk_create(events, ignore_conflicts=True)
        events_announce(events)


def events_announce(events: list[Event]) -> None:
    """What follows the insert of `events` (done by events_record, or by a caller's combined INSERT)."""
    _notify_listeners()
    _stream_live(events)


def _stream_live(events: list[Event]) -> None:
    by_workspace: dict[uuid.UUID, list[Event]] = defaultdict(list)
    for event in events:
        by_workspace[event.workspace_id].append(event)
    for workspace_id, batch in by_workspace.items():
        events_recorded_on_commit(workspace_id=workspace_id, events=batch, represent=_represent)


def _represent(events: Sequence[Event]) -> list[dict[str, Any]]:
    """As the events API lists them."""
    return [event_representation(event) for event in events]


# --- ingestion from clients -------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    received: int
    recorded: int


def events_ingest(*, workspace: Workspace, events: list[dict[str, Any]]) -> IngestResult:
    """Record validated events sent by a client. Ids already recorded in this workspace are skipped."""
    now = timezone.now()
    built = [
        event_build(
            workspace_id=workspace.id,
            event=item["event"],
            occurred=item.get("occurred") or now,
            resource=item["resource"],
            related=item.get("related", []),
            payload=item.get("payload", {}),
            id=item.get("id"),
        )
        for item in events
    ]
    unique = list({event.id: event for event in built}.values())
    with transaction.atomic():
        seen = set(
            Event.dangerously_unscoped.filter(workspace=workspace, id__in=[e.id for e in unique]).values_list(
                "id", flat=True
            )
        )
        events_record([event for event in unique if event.id not in seen])
    return IngestResult(received=len(events), recorded=len(unique) - len(seen))


# --- inbound webhooks -------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_webhook_template(template: Any) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("event"), str) or not template["event"]:
        raise ValidationFailed(
            "A webhook template is an object with at least `event` (a name or a template).",
            details={"template": ["needs event"]},
        )
    try:
        check_template(template)
    except TemplateError as exc:
        raise ValidationFailed(str(exc), details={"template": [str(exc)]}) from None


@transaction.atomic
def inbound_webhook_create(
    *, workspace: Workspace, name: str, template: dict[str, Any], description: str = "", enabled: bool = True
) -> tuple[InboundWebhook, str]:
    """Create a webhook with a random slug and secret; the secret is returned once and stored hashed."""
    _check_webhook_template(template)
    secret = secrets.token_urlsafe(32)
    with unique_or_conflict(f"A webhook named {name!r} already exists.", field="name"):
        webhook: InboundWebhook = InboundWebhook.objects.create(
            workspace=workspace,
            name=name,
            description=description,
            template=template,
            enabled=enabled,
            slug=secrets.token_urlsafe(16).lower().replace("_", "-"),
            secret_hash=_hash_secret(secret),
        )
    return webhook, secret


@transaction.atomic
def inbound_webhook_update(*, webhook: InboundWebhook, **changes: Any) -> InboundWebhook:
    if "template" in changes:
        _check_webhook_template(changes["template"])
    for field, value in changes.items():
        setattr(webhook, field, value)
    with unique_or_conflict(f"A webhook named {webhook.name!r} already exists.", field="name"):
        webhook.save(update_fields=[*changes, "updated_at"])
    return webhook


@transaction.atomic
def inbound_webhook_rotate_secret(*, webhook: InboundWebhook) -> str:
    secret = secrets.token_urlsafe(32)
    webhook.secret_hash = _hash_secret(secret)
    webhook.save(update_fields=["secret_hash", "updated_at"])
    return secret


@transaction.atomic
def inbound_webhook_delete(*, webhook: InboundWebhook) -> None:
    webhook.delete()


def inbound_webhook_authenticate(*, slug: str, secret: str) -> InboundWebhook:
    """The enabled webhook `slug` if `secret` is its secret; NotFound otherwise, whichever part is wrong."""
    # No tenant is in scope: the slug (random, global) names the workspace.
    webhook = InboundWebhook.dangerously_unscoped.filter(slug=slug, enabled=True).first()
    expected = webhook.secret_hash if webhook is not None else _hash_secret(secrets.token_urlsafe(32))
    if not hmac.compare_digest(_hash_secret(secret), expected) or webhook is None:
        raise NotFound()
    return webhook


def inbound_webhook_event(*, webhook: InboundWebhook, context: dict[str, Any]) -> dict[str, Any]:
    """The event `webhook`'s template makes of a request (`context`: body, headers, query), unvalidated."""
    rendered = render(webhook.template, context)
    if not isinstance(rendered, dict):
        raise ValidationFailed("The webhook's template did not render to an object.")
    rendered.setdefault("resource", {RESOURCE_ID: f"tether.webhook.{webhook.id}"})
    related = rendered.setdefault("related", [])
    if isinstance(related, list):
        related.append(resource("webhook", webhook.id, webhook.name))
        rendered["related"] = [_label_strings(item) for item in related]
    rendered["resource"] = _label_strings(rendered["resource"])
    return rendered


def _label_strings(labels: Any) -> Any:
    """Labels are strings: a placeholder that rendered a number becomes its text; a missing one, no label."""
    if not isinstance(labels, dict):
        return labels
    cleaned = {}
    for key, value in labels.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, int | float):
            value = str(value)
        cleaned[key] = value
    return cleaned
