"""Roles and the scopes they grant: the one table every permission check reads."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Scope(StrEnum):
    # Workspace scopes.
    WORKSPACE_READ = "workspace:read"
    WORKSPACE_ADMIN = "workspace:admin"
    WORKSPACE_MEMBERS_READ = "workspace_members:read"
    WORKSPACE_MEMBERS_WRITE = "workspace_members:write"
    FLOWS_WRITE = "flows:write"
    DEPLOYMENTS_WRITE = "deployments:write"
    RUNS_WRITE = "runs:write"
    RUNS_CLAIM = "runs:claim"
    RUNS_REPORT = "runs:report"
    BLOCKS_WRITE = "blocks:write"
    BLOCKS_REVEAL = "blocks:reveal"
    POOLS_WRITE = "pools:write"
    VARIABLES_WRITE = "variables:write"
    AUTOMATIONS_WRITE = "automations:write"
    EVENTS_WRITE = "events:write"
    CONCURRENCY_WRITE = "concurrency:write"
    # Organisation scopes.
    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    ORG_OWNERSHIP = "org:ownership"
    ORG_MEMBERS_WRITE = "org_members:write"
    WORKSPACES_WRITE = "workspaces:write"
    SERVICE_ACCOUNTS_WRITE = "service_accounts:write"
    AUDIT_READ = "audit:read"


class OrgRole(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class WorkspaceRole(models.TextChoices):
    OWNER = "owner"
    DEVELOPER = "developer"
    RUNNER = "runner"
    VIEWER = "viewer"
    WORKER = "worker"


S = Scope
_READ = frozenset({S.WORKSPACE_READ})
_VIEWER = _READ | {S.WORKSPACE_MEMBERS_READ}
_RUNNER = _VIEWER | {S.RUNS_WRITE}
# Developers also report runs: a flow run on a laptop with a developer key is tracked.
_DEVELOPER = _RUNNER | {
    S.RUNS_REPORT,
    S.FLOWS_WRITE,
    S.DEPLOYMENTS_WRITE,
    S.BLOCKS_WRITE,
    S.POOLS_WRITE,
    S.VARIABLES_WRITE,
    S.AUTOMATIONS_WRITE,
    S.EVENTS_WRITE,
    S.CONCURRENCY_WRITE,
}
_WORKSPACE_OWNER = _DEVELOPER | {S.WORKSPACE_ADMIN, S.WORKSPACE_MEMBERS_WRITE, S.BLOCKS_REVEAL}
# Agents: read deployments, claim and report runs, emit events. They reveal the blocks a run
# needs with that run's token (confined to what its deployment references), never with their key.
_WORKER = _READ | {S.RUNS_CLAIM, S.RUNS_REPORT, S.EVENTS_WRITE}

WORKSPACE_ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    WorkspaceRole.OWNER: frozenset(_WORKSPACE_OWNER),
    WorkspaceRole.DEVELOPER: frozenset(_DEVELOPER),
    WorkspaceRole.RUNNER: frozenset(_RUNNER),
    WorkspaceRole.VIEWER: frozenset(_VIEWER),
    WorkspaceRole.WORKER: frozenset(_WORKER),
}

_ORG_MEMBER = frozenset({S.ORG_READ})
_ORG_ADMIN = _ORG_MEMBER | {
    S.ORG_WRITE,
    S.ORG_MEMBERS_WRITE,
    S.WORKSPACES_WRITE,
    S.SERVICE_ACCOUNTS_WRITE,
    S.AUDIT_READ,
}
ORG_ROLE_SCOPES: dict[str, frozenset[Scope]] = {
    OrgRole.OWNER: frozenset(_ORG_ADMIN | {S.ORG_OWNERSHIP}),
    OrgRole.ADMIN: frozenset(_ORG_ADMIN),
    OrgRole.MEMBER: _ORG_MEMBER,
}

# Org owners and admins act as owners of every workspace in their organisation.
ORG_ROLES_WITH_WORKSPACE_OWNERSHIP = frozenset({OrgRole.OWNER, OrgRole.ADMIN})

ALL_SCOPES = frozenset(Scope)
