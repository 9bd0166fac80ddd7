"""Resolve what a principal may do in an organisation or a workspace named in a URL.

The answer for anything the principal cannot see is NotFound, exactly as for something
that does not exist: a foreign tenant's slugs and ids reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from controlplane.core.errors import NotFound
from controlplane.orgs.models import Organization, OrgMembership, Workspace, WorkspaceMembership
from controlplane.orgs.principals import Principal
from controlplane.orgs.roles import (
    ORG_ROLE_SCOPES,
    ORG_ROLES_WITH_WORKSPACE_OWNERSHIP,
    WORKSPACE_ROLE_SCOPES,
    Scope,
    WorkspaceRole,
)


@dataclass(frozen=True)
class OrgAccess:
    organization: Organization
    role: str | None  # None for service accounts: they hold workspace roles only
    scopes: frozenset[Scope]


@dataclass(frozen=True)
class WorkspaceAccess:
    organization: Organization
    workspace: Workspace
    role: str
    scopes: frozenset[Scope]


def _key_scopes(principal: Principal, granted: frozenset[Scope]) -> frozenset[Scope]:
    key = principal.api_key
    if key is None or key.scopes is None:
        return granted
    return granted & frozenset(Scope(value) for value in key.scopes if value in Scope._value2member_map_)


def _organization(principal: Principal, org_slug: str) -> Organization:
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None:
        raise NotFound()
    key = principal.api_key
    if key is not None and key.organization_id != organization.id:
        raise NotFound()
    if principal.service_account is not None and principal.service_account.organization_id != organization.id:
        raise NotFound()
    return organization


def _org_role(principal: Principal, organization: Organization) -> str | None:
    if principal.user is None:
        return None
    membership = OrgMembership.dangerously_unscoped.filter(organization=organization, user=principal.user).first()
    return membership.role if membership else None


def resolve_org_access(principal: Principal, org_slug: str) -> OrgAccess:
    organization = _organization(principal, org_slug)
    if principal.service_account is not None:
        return OrgAccess(organization=organization, role=None, scopes=frozenset())
    role = _org_role(principal, organization)
    if role is None:
        raise NotFound()
    return OrgAccess(organization=organization, role=role, scopes=_key_scopes(principal, ORG_ROLE_SCOPES[role]))


def resolve_workspace_access(principal: Principal, org_slug: str, ws_slug: str) -> WorkspaceAccess:
    organization = _organization(principal, org_slug)
    workspace = Workspace.objects.filter(organization=organization, slug=ws_slug).first()
    if workspace is None:
        raise NotFound()
    key = principal.api_key
    if key is not None and key.workspace_id is not None and key.workspace_id != workspace.id:
        raise NotFound()
    role = _workspace_role(principal, organization, workspace)
    if role is None:
        raise NotFound()
    scopes = _key_scopes(principal, WORKSPACE_ROLE_SCOPES[role])
    return WorkspaceAccess(organization=organization, workspace=workspace, role=role, scopes=scopes)


def _workspace_role(principal: Principal, organization: Organization, workspace: Workspace) -> str | None:
    memberships = WorkspaceMembership.dangerously_unscoped.filter(workspace=workspace)
    if principal.service_account is not None:
        membership = memberships.filter(service_account=principal.service_account).first()
        return membership.role if membership else None
    org_role = _org_role(principal, organization)
    if org_role is None:
        return None
    if org_role in ORG_ROLES_WITH_WORKSPACE_OWNERSHIP:
        return WorkspaceRole.OWNER
    membership = memberships.filter(user=principal.user).first()
    return membership.role if membership else None
