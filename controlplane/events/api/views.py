"""The event log API: batch ingestion, filtered lists, counts by time bucket; inbound webhooks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.pagination import TetherCursorPagination
from controlplane.events.api.serializers import (
    EventCountSerializer,
    EventInSerializer,
    EventSerializer,
    InboundWebhookCreatedSerializer,
    InboundWebhookSerializer,
    InboundWebhookWriteSerializer,
    IngestResultSerializer,
    check_batch_limits,
)
from controlplane.events.models import Event, InboundWebhook
from controlplane.events.selectors import COUNT_INTERVALS, event_counts, events_filtered, inbound_webhooks_list
from controlplane.events.services import (
    events_ingest,
    inbound_webhook_create,
    inbound_webhook_delete,
    inbound_webhook_rotate_secret,
    inbound_webhook_update,
)
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope

FILTERS = [
    OpenApiParameter("since", str, description="occurred at or after (ISO 8601 with a time zone)"),
    OpenApiParameter("until", str, description="occurred before"),
    OpenApiParameter("event", str, many=True, description="names or patterns: tether.flow-run.* (comma-separate)"),
    OpenApiParameter("resource_id", str, many=True, description="resource ids or patterns"),
    OpenApiParameter("related_resource_id", str, many=True, description="events naming this related resource"),
    OpenApiParameter("id", str, many=True, description="event ids"),
]


class EventPagination(TetherCursorPagination):
    ordering = ("-occurred", "-seq")


class EventViewSet(mixins.ListModelMixin, WorkspaceViewSet):
    """The workspace's events, newest first; clients send events here in batches."""

    serializer_class = EventSerializer
    pagination_class = EventPagination
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.EVENTS_WRITE}

    def safely_get_queryset(self) -> QuerySet[Event]:
        return events_filtered(self.request.query_params)

    @extend_schema(parameters=FILTERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=EventInSerializer(many=True), responses={202: IngestResultSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a batch of events (a list, or `{"events": [...]}`).

        Limits: `TETHER_EVENTS_MAX_BATCH` events per batch and `TETHER_EVENT_MAX_BYTES` per event
        (413 naming the limit). An `id` already recorded in this workspace is skipped, so a
        client may re-send a batch after a time-out. Names starting with `tether.` are reserved.
        """
        items = check_batch_limits(request.data)
        data = EventInSerializer(data=items, many=True)
        data.is_valid(raise_exception=True)
        result = events_ingest(workspace=self.access.workspace, events=list(data.validated_data))
        return Response(IngestResultSerializer(result).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            *FILTERS,
            OpenApiParameter("interval", str, enum=[*COUNT_INTERVALS]),
            OpenApiParameter("by", str, enum=["event"], description="count per event name too"),
        ],
        responses=EventCountSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def counts(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """How many events (matching the filters) occurred per minute, hour or day."""
        return Response(EventCountSerializer(event_counts(request.query_params), many=True).data)


class SecretSerializer(serializers.Serializer[Any]):
    secret = serializers.CharField()


class InboundWebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Inbound webhooks: `POST /hooks/{slug}` with the secret turns a request into an event.

    The template maps the request to an event with `{{ body.x }}`, `{{ headers['x-name'] }}`
    and `{{ query.x }}` placeholders, e.g.
    `{"event": "file.arrived", "resource": {"tether.resource.id": "s3://{{ body.bucket }}/{{ body.key }}"}}`.
    """

    serializer_class = InboundWebhookSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.AUTOMATIONS_WRITE,
        "PATCH": Scope.AUTOMATIONS_WRITE,
        "DELETE": Scope.AUTOMATIONS_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[InboundWebhook]:
        return inbound_webhooks_list()

    @extend_schema(request=InboundWebhookWriteSerializer, responses={201: InboundWebhookCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a webhook. The answer holds its secret, shown this once."""
        data = InboundWebhookWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = inbound_webhook_create(workspace=self.access.workspace, **data.validated_data)
        body = InboundWebhookCreatedSerializer(webhook).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=InboundWebhookWriteSerializer, responses=InboundWebhookSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        webhook = self.get_object()
        data = InboundWebhookWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        webhook = inbound_webhook_update(webhook=webhook, **data.validated_data)
        return Response(InboundWebhookSerializer(webhook).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        inbound_webhook_delete(webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=SecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace the secret; the old one stops working at once. The new one is shown this once."""
        secret = inbound_webhook_rotate_secret(webhook=self.get_object())
        return Response({"secret": secret})
