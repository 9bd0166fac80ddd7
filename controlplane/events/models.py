"""The event log. Rows are recorded by services (and, later, ingested from clients)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.db import models

from controlplane.core.managers import WorkspaceScopedManager


class Event(models.Model):
    """`{id, occurred, event, resource, related, payload}`. The id is the sender's: re-sending is a no-op."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("orgs.Workspace", on_delete=models.CASCADE, related_name="+")
    occurred = models.DateTimeField(db_index=True)
    received = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=255)
    resource = models.JSONField()
    resource_id = models.CharField(max_length=255)
    related = models.JSONField(default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    objects: ClassVar[WorkspaceScopedManager[Any]] = WorkspaceScopedManager()
    dangerously_unscoped: ClassVar[models.Manager[Any]] = models.Manager()

    class Meta:
        default_manager_name = "objects"
        indexes: ClassVar = [
            models.Index(fields=["workspace", "-occurred"], name="event_recent"),
            models.Index(fields=["workspace", "event", "-occurred"], name="event_by_name"),
            models.Index(fields=["workspace", "resource_id", "-occurred"], name="event_by_resource"),
        ]

    def __str__(self) -> str:
        return self.event
