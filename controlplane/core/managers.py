"""Managers that fail closed: no tenant in scope raises instead of returning every row."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from controlplane.core.tenancy import current_organization_id, current_workspace_id

M = TypeVar("M", bound=models.Model)


class WorkspaceScopedManager(models.Manager[M]):
    """`Model.objects` for workspace-owned rows: only the current workspace's."""

    def get_queryset(self) -> models.QuerySet[M]:
        return super().get_queryset().filter(workspace_id=current_workspace_id())


class OrganizationScopedManager(models.Manager[M]):
    """`Model.objects` for organisation-owned rows: only the current organisation's."""

    def get_queryset(self) -> models.QuerySet[M]:
        return super().get_queryset().filter(organization_id=current_organization_id())
