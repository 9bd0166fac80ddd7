"""The append-only audit log. Rows are written by services and never changed."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from controlplane.core.models import OrganizationOwnedModel


class AuditEntryImmutable(RuntimeError):
    pass


class AuditEntry(OrganizationOwnedModel):
    workspace = models.ForeignKey("orgs.Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_type = models.CharField(max_length=20)
    actor_id = models.UUIDField(null=True, blank=True)
    actor_label = models.CharField(max_length=255)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta(OrganizationOwnedModel.Meta):
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [models.Index(fields=["organization", "-created_at"], name="audit_org_recent")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditEntryImmutable("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEntryImmutable("audit entries are append-only")
