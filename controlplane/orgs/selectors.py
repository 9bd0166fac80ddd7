"""Reads for organisations, workspaces and members."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from controlplane.accounts.models import User
from controlplane.core.errors import NotFound
from controlplane.orgs.models import Organization, OrgMembership, Workspace, WorkspaceMembership
from controlplane.orgs.roles import ORG_ROLES_WITH_WORKSPACE_OWNERSHIP


def organizations_for_user(*, user: User) -> tuple[QuerySet[Organization], dict[uuid.UUID, str]]:
    """The user's organisations and their role in each."""
    roles = dict(OrgMembership.dangerously_unscoped.filter(user=user).values_list("organization_id", "role"))
    return Organization.objects.filter(id__in=roles).order_by("slug"), roles


def workspace_in_organization(*, organization: Organization, slug: str) -> Workspace:
    """A workspace named in a request body, looked up inside the caller's organisation only."""
    workspace = Workspace.objects.filter(organization=organization, slug=slug).first()
    if workspace is None:
        raise NotFound("Workspace not found.")
    return workspace


def workspaces_visible_to(
    *, organization: Organization, user: User | None, org_role: str | None
) -> QuerySet[Workspace]:
    workspaces = Workspace.objects.filter(organization=organization).order_by("slug")
    if org_role in ORG_ROLES_WITH_WORKSPACE_OWNERSHIP:
        return workspaces
    member_of = WorkspaceMembership.dangerously_unscoped.filter(workspace__organization=organization, user=user)
    return workspaces.filter(id__in=member_of.values("workspace_id"))
