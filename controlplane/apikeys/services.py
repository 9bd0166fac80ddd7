"""Issuing and revoking API keys. The secret exists only in the return value of api_key_create."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from controlplane.accounts.models import User
from controlplane.apikeys.models import ApiKey
from controlplane.apikeys.tokens import KeyKind, generate_key, hash_key, parse_key
from controlplane.audit.services import audit_record
from controlplane.core.errors import Conflict, ValidationFailed
from controlplane.orgs.models import Organization, OrgMembership, ServiceAccount, Workspace, WorkspaceMembership
from controlplane.orgs.principals import Actor
from controlplane.orgs.roles import (
    ORG_ROLE_SCOPES,
    ORG_ROLES_WITH_WORKSPACE_OWNERSHIP,
    WORKSPACE_ROLE_SCOPES,
    Scope,
    WorkspaceRole,
)


def grantable_scopes(
    *, organization: Organization, user: User | None = None, service_account: ServiceAccount | None = None
) -> frozenset[Scope]:
    """Every scope the principal holds somewhere in the organisation: a key may carry no more."""
    granted: set[Scope] = set()
    memberships = WorkspaceMembership.dangerously_unscoped.filter(workspace__organization=organization)
    if user is not None:
        org_membership = OrgMembership.dangerously_unscoped.filter(organization=organization, user=user).first()
        if org_membership is None:
            return frozenset()
        granted |= ORG_ROLE_SCOPES[org_membership.role]
        if org_membership.role in ORG_ROLES_WITH_WORKSPACE_OWNERSHIP:
            granted |= WORKSPACE_ROLE_SCOPES[WorkspaceRole.OWNER]
        memberships = memberships.filter(user=user)
    else:
        memberships = memberships.filter(service_account=service_account)
    for role in memberships.values_list("role", flat=True):
        granted |= WORKSPACE_ROLE_SCOPES[role]
    return frozenset(granted)


def _validated_scopes(requested: list[str] | None, grantable: frozenset[Scope]) -> list[str] | None:
    if requested is None:
        return None
    unknown = sorted(set(requested) - {scope.value for scope in Scope})
    if unknown:
        raise ValidationFailed("Unknown scopes.", details={"scopes": unknown})
    beyond = sorted(set(requested) - {scope.value for scope in grantable})
    if beyond:
        raise ValidationFailed("A key cannot carry scopes its owner does not hold.", details={"scopes": beyond})
    return sorted(set(requested))


@transaction.atomic
def api_key_create(
    *,
    actor: Actor,
    organization: Organization,
    name: str,
    user: User | None = None,
    service_account: ServiceAccount | None = None,
    workspace: Workspace | None = None,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key; the second value is the secret, shown to the caller once and never stored."""
    if (user is None) == (service_account is None):
        raise ValidationFailed("A key belongs to exactly one user or service account.")
    if service_account is not None and service_account.organization_id != organization.id:
        raise ValidationFailed("The service account belongs to another organisation.")
    if workspace is not None and workspace.organization_id != organization.id:
        raise ValidationFailed("The workspace belongs to another organisation.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.", details={"expires_at": ["in the past"]})
    grantable = grantable_scopes(organization=organization, user=user, service_account=service_account)
    kind = KeyKind.PERSONAL if user is not None else KeyKind.SERVICE_ACCOUNT
    secret = generate_key(kind)
    parsed = parse_key(secret)
    assert parsed is not None  # generate_key always yields a well-formed key
    key = ApiKey.dangerously_unscoped.create(
        organization=organization,
        name=name,
        prefix=parsed.lookup_prefix,
        secret_hash=hash_key(secret),
        user=user,
        service_account=service_account,
        workspace=workspace,
        scopes=_validated_scopes(scopes, grantable),
        expires_at=expires_at,
        created_by=actor.principal.user,
    )
    changes: dict[str, Any] = {
        "prefix": key.prefix,
        "principal": (user.email if user else service_account.name if service_account else ""),
        "workspace": workspace.slug if workspace else None,
        "scopes": key.scopes,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }
    audit_record(
        actor=actor, action="api_key.created", organization=organization, target=key, target_label=name, changes=changes
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    if key.revoked_at is not None:
        raise Conflict("The key is already revoked.")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor,
        action="api_key.revoked",
        organization=key.organization,
        target=key,
        target_label=key.name,
        changes={"prefix": key.prefix},
    )
    return key
