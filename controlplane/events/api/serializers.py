from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from rest_framework import serializers

from controlplane.core.errors import PayloadTooLarge
from controlplane.events.models import Event, InboundWebhook

RESOURCE_ID = "tether.resource.id"
RESERVED_PREFIX = "tether."


def _check_labels(value: Any, *, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise serializers.ValidationError(f"{what} is an object of string labels.")
    if len(value) > 50:
        raise serializers.ValidationError(f"{what} has more than 50 labels.")
    for key, label in value.items():
        if not isinstance(label, str) or len(key) > 255 or len(label) > 1000:
            raise serializers.ValidationError(f"{what} labels are strings (names up to 255, values up to 1000 chars).")
    if not value.get(RESOURCE_ID):
        raise serializers.ValidationError(f"{what} needs a {RESOURCE_ID!r} label.")
    if len(value[RESOURCE_ID]) > 255:
        raise serializers.ValidationError(f"{RESOURCE_ID!r} is at most 255 characters.")
    return value


class EventInSerializer(serializers.Serializer[dict[str, Any]]):
    """An event from a client. Send your own `id` (a UUID) so that re-sending it is a no-op."""

    id = serializers.UUIDField(required=False)
    occurred = serializers.DateTimeField(required=False)
    event = serializers.CharField(max_length=255)
    resource = serializers.JSONField()
    related = serializers.JSONField(required=False, default=list)  # type: ignore[arg-type]
    payload = serializers.JSONField(required=False, default=dict)

    def validate_event(self, value: str) -> str:
        if value.startswith(RESERVED_PREFIX):
            raise serializers.ValidationError(
                f"Event names starting with {RESERVED_PREFIX!r} are reserved for the control plane."
            )
        return value

    def validate_resource(self, value: Any) -> dict[str, str]:
        return _check_labels(value, what="resource")

    def validate_related(self, value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list) or len(value) > 100:
            raise serializers.ValidationError("related is a list of at most 100 resources.")
        return [_check_labels(item, what="each related resource") for item in value]

    def validate_payload(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("payload is an object.")
        return value


def check_batch_limits(data: Any) -> list[Any]:
    """The events of a batch body (a list, or `{"events": [...]}`), within the count and size limits."""
    items = data.get("events") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise serializers.ValidationError({"events": ['Send a JSON list of events, or {"events": [...]}.']})
    limit: int = settings.TETHER_EVENTS_MAX_BATCH
    if len(items) > limit:
        raise PayloadTooLarge(
            f"A batch holds at most {limit} events; this one has {len(items)}. Split it.",
            details={"limit_events": limit, "events": len(items)},
        )
    size_limit: int = settings.TETHER_EVENT_MAX_BYTES
    for index, item in enumerate(items):
        size = len(json.dumps(item, default=str))
        if size > size_limit:
            raise PayloadTooLarge(
                f"Event {index} is {size} bytes; one event is at most {size_limit} bytes.",
                details={"limit_bytes": size_limit, "index": index},
            )
    return items


class IngestResultSerializer(serializers.Serializer[Any]):
    received = serializers.IntegerField()
    recorded = serializers.IntegerField(help_text="new events; the others had ids already recorded")


class EventSerializer(serializers.ModelSerializer[Event]):
    class Meta:
        model = Event
        fields = ("id", "occurred", "received", "event", "resource", "related", "payload")
        read_only_fields = fields


def _instant(value: datetime | None) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in UTC, with a Z."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def event_representation(event: Event) -> dict[str, Any]:
    """What EventSerializer makes of `event`, an order of magnitude faster (the live stream
    renders every recorded batch); tests hold the two equal."""
    return {
        "id": str(event.id),
        "occurred": _instant(event.occurred),
        "received": _instant(event.received),
        "event": event.event,
        "resource": event.resource,
        "related": event.related,
        "payload": event.payload,
    }


class EventCountSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    event = serializers.CharField(required=False)
    count = serializers.IntegerField()


class InboundWebhookSerializer(serializers.ModelSerializer[InboundWebhook]):
    url_path = serializers.SerializerMethodField()

    class Meta:
        model = InboundWebhook
        fields = ("id", "name", "description", "slug", "url_path", "template", "enabled", "created_at", "updated_at")
        read_only_fields = ("id", "slug", "url_path", "created_at", "updated_at")

    def get_url_path(self, webhook: InboundWebhook) -> str:
        return f"/hooks/{webhook.slug}"


class InboundWebhookCreatedSerializer(InboundWebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="shown once: send it as X-Tether-Secret")

    class Meta(InboundWebhookSerializer.Meta):
        fields = (*InboundWebhookSerializer.Meta.fields, "secret")  # type: ignore[assignment]


class InboundWebhookWriteSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    template = serializers.JSONField()
    enabled = serializers.BooleanField(required=False)
