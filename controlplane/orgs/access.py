"""Resolve what a principal may do in an organisation or a workspace named in a URL.

The answer for anything the principal cannot see is NotFound, exactly as for something
that does not exist: a foreign tenant's slugs and ids reveal nothing. Each resolution is a
single query (the tenant row with the caller's roles as subqueries): it runs on every request.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value

from controlplane.core.errors import NotFound
from controlplane.core.queries import unique_row
from controlplane.orgs import access_cache
from controlplane.orgs.access_cache import access_generation
from controlplane.orgs.models import Organization, OrgMembership, Workspace, WorkspaceMembership
from controlplane.orgs.principals import Principal
from controlplane.orgs.roles import (
    ORG_ROLE_SCOPES,
    ORG_ROLES_WITH_WORKSPACE_OWNERSHIP,
    WORKSPACE_ROLE_SCOPES,
    Scope,
    WorkspaceRole,
)

_Tenant = TypeVar("_Tenant", Organization, Workspace)

# Not a membership role: what a run token acts as (its scopes are fixed, see apikeys.run_tokens).
RUN_TOKEN_ROLE = "run"  # noqa: S105 - a role name, not a secret


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


def _org_role(principal: Principal, organization_ref: Any) -> Subquery | Value:
    if principal.user is None:
        return Value(None, output_field=CharField())
    roles = OrgMembership.dangerously_unscoped.filter(organization_id=organization_ref, user=principal.user)
    return Subquery(roles.values("role")[:1])


def _workspace_role(principal: Principal) -> Subquery:
    memberships = WorkspaceMembership.dangerously_unscoped.filter(workspace_id=OuterRef("pk"))
    if principal.service_account is not None:
        memberships = memberships.filter(service_account=principal.service_account)
    else:
        memberships = memberships.filter(user=principal.user)
    return Subquery(memberships.values("role")[:1])


def _within_credential(principal: Principal, organizations: QuerySet[Any], field: str) -> QuerySet[Any]:
    """A key works only in its own organisation; a service account only in its own."""
    key = principal.api_key
    if key is not None:
        organizations = organizations.filter(**{field: key.organization_id})
    if principal.service_account is not None:
        organizations = organizations.filter(**{field: principal.service_account.organization_id})
    return organizations


def resolve_org_access(principal: Principal, org_slug: str) -> OrgAccess:
    if principal.run_token is not None:
        raise NotFound()  # a run token knows its workspace only
    organizations = Organization.objects.filter(slug=org_slug).annotate(org_role=_org_role(principal, OuterRef("pk")))
    organization = unique_row(_within_credential(principal, organizations, "pk"))
    if organization is None:
        raise NotFound()
    if principal.service_account is not None:
        return OrgAccess(organization=organization, role=None, scopes=frozenset())
    role = organization.org_role
    if role is None:
        raise NotFound()
    return OrgAccess(organization=organization, role=role, scopes=_key_scopes(principal, ORG_ROLE_SCOPES[role]))


def _run_token_access(principal: Principal, org_slug: str, ws_slug: str) -> WorkspaceAccess:
    from controlplane.apikeys.run_tokens import RUN_TOKEN_SCOPES

    assert principal.run_token is not None
    workspace = (
        Workspace.objects.select_related("organization")
        .filter(pk=principal.run_token.workspace_id, slug=ws_slug, organization__slug=org_slug)
        .first()
    )
    if workspace is None:
        raise NotFound()
    return WorkspaceAccess(
        organization=workspace.organization, workspace=workspace, role=RUN_TOKEN_ROLE, scopes=RUN_TOKEN_SCOPES
    )


def resolve_workspace_access(principal: Principal, org_slug: str, ws_slug: str) -> WorkspaceAccess:
    if principal.run_token is not None:
        return _run_token_access(principal, org_slug, ws_slug)
    workspaces = (
        Workspace.objects.select_related("organization")
        .filter(slug=ws_slug, organization__slug=org_slug)
        .annotate(org_role=_org_role(principal, OuterRef("organization_id")), ws_role=_workspace_role(principal))
    )
    workspace = unique_row(_within_credential(principal, workspaces, "organization_id"))
    key = principal.api_key
    if workspace is None or (key is not None and key.workspace_id not in (None, workspace.id)):
        raise NotFound()
    role = workspace.ws_role
    if principal.user is not None:
        if workspace.org_role is None:
            raise NotFound()  # a user who left the organisation keeps no workspace role in it
        if workspace.org_role in ORG_ROLES_WITH_WORKSPACE_OWNERSHIP:
            role = WorkspaceRole.OWNER
    if role is None:
        raise NotFound()
    scopes = _key_scopes(principal, WORKSPACE_ROLE_SCOPES[role])
    return WorkspaceAccess(organization=workspace.organization, workspace=workspace, role=role, scopes=scopes)


def cached_workspace_access(request: Any, principal: Principal, org_slug: str, ws_slug: str) -> WorkspaceAccess:
    """resolve_workspace_access, remembered per API key (sessions and run tokens always ask the database)."""
    key = principal.api_key
    if key is None:
        return resolve_workspace_access(principal, org_slug, ws_slug)
    generation = access_generation(request)
    cache_key = ("workspace", key.pk, org_slug, ws_slug)
    found: WorkspaceAccess | None = access_cache.accesses.get(cache_key, generation)
    if found is None:
        found = resolve_workspace_access(principal, org_slug, ws_slug)
        access_cache.accesses.put(cache_key, generation, found)
    organization = _own_copy(found.organization)
    workspace = _own_copy(found.workspace)
    workspace.organization = organization
    return replace(found, organization=organization, workspace=workspace)


def cached_org_access(request: Any, principal: Principal, org_slug: str) -> OrgAccess:
    """resolve_org_access, remembered per API key."""
    key = principal.api_key
    if key is None:
        return resolve_org_access(principal, org_slug)
    generation = access_generation(request)
    cache_key = ("organization", key.pk, org_slug)
    found: OrgAccess | None = access_cache.accesses.get(cache_key, generation)
    if found is None:
        found = resolve_org_access(principal, org_slug)
        access_cache.accesses.put(cache_key, generation, found)
    return replace(found, organization=_own_copy(found.organization))


def _own_copy(instance: _Tenant) -> _Tenant:
    # Services change the instances they are given (a rename saves the workspace it got); a
    # cached one must never carry one request's unsaved change into another.
    return copy.copy(instance)
