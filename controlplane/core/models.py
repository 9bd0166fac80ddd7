"""Base models: UUID ids and timestamps; workspace- and organisation-owned rows."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Self

from django.db import models

from controlplane.core.managers import OrganizationScopedManager, WorkspaceScopedManager
from controlplane.core.tenancy import TenantContextMissing, current_tenant


class TimestampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkspaceOwnedModel(TimestampedModel):
    """A row that belongs to exactly one workspace.

    `objects` sees only the workspace in scope and raises when none is; code that must
    cross workspaces (the lease reaper, retention) uses `dangerously_unscoped` and says why.
    """

    workspace = models.ForeignKey("orgs.Workspace", on_delete=models.CASCADE, related_name="+")

    objects: ClassVar[WorkspaceScopedManager[Self]] = WorkspaceScopedManager()
    dangerously_unscoped: ClassVar[models.Manager[Self]] = models.Manager()

    class Meta:
        abstract = True
        default_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_tenant()
        super().save(*args, **kwargs)

    def check_tenant(self) -> None:
        context = current_tenant()
        if context is not None and context.workspace_id not in (None, self.workspace_id):
            raise TenantContextMissing("refusing to save a row of another workspace than the one in scope")


class OrganizationOwnedModel(TimestampedModel):
    """A row that belongs to exactly one organisation (same rules as WorkspaceOwnedModel)."""

    organization = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")

    objects: ClassVar[OrganizationScopedManager[Self]] = OrganizationScopedManager()
    dangerously_unscoped: ClassVar[models.Manager[Self]] = models.Manager()

    class Meta:
        abstract = True
        default_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.check_tenant()
        super().save(*args, **kwargs)

    def check_tenant(self) -> None:
        context = current_tenant()
        if context is not None and context.organization_id != self.organization_id:
            raise TenantContextMissing("refusing to save a row of another organisation than the one in scope")
