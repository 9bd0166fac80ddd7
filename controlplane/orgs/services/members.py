"""Organisation and workspace memberships. An organisation always keeps an owner."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from controlplane.accounts.models import User
from controlplane.apikeys.models import ApiKey
from controlplane.audit.services import audit_record
from controlplane.core.errors import Conflict, ValidationFailed, unique_or_conflict
from controlplane.orgs.models import Organization, OrgMembership, ServiceAccount, Workspace, WorkspaceMembership
from controlplane.orgs.principals import Actor
from controlplane.orgs.roles import OrgRole
from controlplane.realtime.live import user_access_changed_on_commit


def _owner_count(organization: Organization) -> int:
    return (
        OrgMembership.dangerously_unscoped.select_for_update()
        .filter(organization=organization, role=OrgRole.OWNER)
        .count()
    )


def _ensure_owner_remains(membership: OrgMembership) -> None:
    if membership.role == OrgRole.OWNER and _owner_count(membership.organization) <= 1:
        raise Conflict(
            "An organisation must keep at least one owner: transfer ownership or promote another owner first."
        )


@transaction.atomic
def org_member_set_role(*, actor: Actor, membership: OrgMembership, role: str) -> OrgMembership:
    if role not in OrgRole.values:
        raise ValidationFailed(f"Unknown organisation role {role!r}.", details={"role": OrgRole.values})
    if role == membership.role:
        return membership
    if role == OrgRole.OWNER and actor.principal.user is not None:
        # Granting ownership is a transfer of power only an owner may make.
        acting = OrgMembership.dangerously_unscoped.filter(
            organization=membership.organization, user=actor.principal.user
        ).first()
        if acting is None or acting.role != OrgRole.OWNER:
            raise ValidationFailed("Only an owner can make someone an owner.")
    if membership.role == OrgRole.OWNER:
        _ensure_owner_remains(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        action="org.member.role_changed",
        organization=membership.organization,
        target=membership.user,
        changes={"role": [before, role]},
    )
    return membership


@transaction.atomic
def org_member_remove(*, actor: Actor, membership: OrgMembership) -> None:
    """Remove a member: their workspace roles go and their keys in this organisation are revoked at once."""
    _ensure_owner_remains(membership)
    organization, user = membership.organization, membership.user
    WorkspaceMembership.dangerously_unscoped.filter(workspace__organization=organization, user=user).delete()
    revoked = ApiKey.dangerously_unscoped.filter(organization=organization, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    membership.delete()
    user_access_changed_on_commit(user_id=user.id)  # their open live sockets close now
    audit_record(
        actor=actor,
        action="org.member.removed",
        organization=organization,
        target=user,
        changes={"keys_revoked": revoked},
    )


@transaction.atomic
def org_leave(*, actor: Actor, organization: Organization) -> None:
    user = actor.principal.user
    membership = OrgMembership.dangerously_unscoped.filter(organization=organization, user=user).first()
    if membership is None:
        raise ValidationFailed("You are not a member of this organisation.")
    org_member_remove(actor=actor, membership=membership)


@transaction.atomic
def org_ownership_transfer(*, actor: Actor, organization: Organization, to_user: User) -> OrgMembership:
    """Make `to_user` (already a member) an owner and the acting owner an admin."""
    current = OrgMembership.dangerously_unscoped.select_for_update().get(
        organization=organization, user=actor.principal.user
    )
    target = (
        OrgMembership.dangerously_unscoped.select_for_update().filter(organization=organization, user=to_user).first()
    )
    if target is None:
        raise ValidationFailed("The new owner must already be a member of the organisation.")
    if target.pk == current.pk:
        raise ValidationFailed("You already own this organisation.")
    target.role = OrgRole.OWNER
    target.save(update_fields=["role", "updated_at"])
    current.role = OrgRole.ADMIN
    current.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        action="org.ownership_transferred",
        organization=organization,
        target=to_user,
        changes={"from": str(actor.principal.user), "to": to_user.email},
    )
    return target


@transaction.atomic
def workspace_member_add(
    *,
    actor: Actor,
    workspace: Workspace,
    role: str,
    user: User | None = None,
    service_account: ServiceAccount | None = None,
) -> WorkspaceMembership:
    organization = workspace.organization
    if (user is None) == (service_account is None):
        raise ValidationFailed("Give exactly one of a user or a service account.")
    if (
        user is not None
        and not OrgMembership.dangerously_unscoped.filter(organization=organization, user=user).exists()
    ):
        raise ValidationFailed("The user must be a member of the organisation first (send an invitation).")
    if service_account is not None and service_account.organization_id != organization.id:
        raise ValidationFailed("The service account belongs to another organisation.")
    with unique_or_conflict("That principal already has a role in this workspace; change it instead."):
        membership: WorkspaceMembership = WorkspaceMembership.dangerously_unscoped.create(
            workspace=workspace, user=user, service_account=service_account, role=role
        )
    audit_record(
        actor=actor,
        action="workspace.member.added",
        organization=organization,
        workspace=workspace,
        target=user or service_account,  # type: ignore[arg-type]
        changes={"role": role},
    )
    return membership


@transaction.atomic
def workspace_member_set_role(*, actor: Actor, membership: WorkspaceMembership, role: str) -> WorkspaceMembership:
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        actor=actor,
        action="workspace.member.role_changed",
        organization=membership.workspace.organization,
        workspace=membership.workspace,
        target=membership.user or membership.service_account,  # type: ignore[arg-type]
        changes={"role": [before, role]},
    )
    return membership


@transaction.atomic
def workspace_member_remove(*, actor: Actor, membership: WorkspaceMembership) -> None:
    workspace = membership.workspace
    principal = membership.user or membership.service_account
    membership.delete()
    if membership.user is not None:
        user_access_changed_on_commit(user_id=membership.user.id)  # their open live sockets close now
    audit_record(
        actor=actor,
        action="workspace.member.removed",
        organization=workspace.organization,
        workspace=workspace,
        target=principal,  # type: ignore[arg-type]
    )
