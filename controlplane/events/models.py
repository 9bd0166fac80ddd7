"""The event log, and the inbound webhooks that turn outside HTTP calls into events."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models

from controlplane.core.managers import WorkspaceScopedManager
from controlplane.core.models import WorkspaceOwnedModel


class Event(models.Model):
    """`{id, occurred, event, resource, related, payload}`.

    The id is the sender's and is unique per workspace: re-sending an event is a no-op, and
    one tenant reusing another's id records an independent event. `seq` only orders rows.
    `handled_at` is set once the event's consumers (automations) have seen it; rows where
    it is still null are the work queue of the reactive evaluator.
    """

    seq = models.BigAutoField(primary_key=True)
    id = models.UUIDField(default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("orgs.Workspace", on_delete=models.CASCADE, related_name="+")
    occurred = models.DateTimeField(db_index=True)
    received = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=255)
    resource = models.JSONField()
    resource_id = models.CharField(max_length=255)
    related = models.JSONField(default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[WorkspaceScopedManager[Any]] = WorkspaceScopedManager()
    dangerously_unscoped: ClassVar[models.Manager[Any]] = models.Manager()

    class Meta:
        default_manager_name = "objects"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "id"], name="event_id_unique_per_workspace"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["workspace", "-occurred"], name="event_recent"),
            models.Index(fields=["workspace", "event", "-occurred"], name="event_by_name"),
            models.Index(fields=["workspace", "resource_id", "-occurred"], name="event_by_resource"),
            models.Index(fields=["seq"], name="event_unhandled", condition=models.Q(handled_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.event


class InboundWebhook(WorkspaceOwnedModel):
    """`POST /hooks/{slug}` with the secret turns the request into an event through `template`.

    Only a hash of the secret is stored; it is shown once, when the webhook is created.
    """

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    slug = models.SlugField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=128)
    template = models.JSONField()
    enabled = models.BooleanField(default=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="inbound_webhook_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
