"""Invitations by email. Only the invited address can accept; tokens are stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from controlplane.accounts.models import User
from controlplane.audit.services import audit_record
from controlplane.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from controlplane.orgs.models import (
    Invitation,
    InvitationStatus,
    Organization,
    OrgMembership,
    Workspace,
    WorkspaceMembership,
)
from controlplane.orgs.principals import Actor
from controlplane.orgs.roles import OrgRole, WorkspaceRole

INVITATION_LIFETIME = timedelta(days=7)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.PUBLIC_URL}/invitations/accept?token={token}"


@transaction.atomic
def invitation_create(
    *,
    actor: Actor,
    organization: Organization,
    email: str,
    org_role: str = OrgRole.MEMBER,
    workspace: Workspace | None = None,
    workspace_role: str = "",
) -> tuple[Invitation, str]:
    """Create an invitation and email its link; returns the invitation and its one-time token."""
    email = email.strip().lower()
    if org_role == OrgRole.OWNER:
        raise ValidationFailed("Invite as admin or member; ownership is transferred, not invited.")
    if (workspace is None) != (not workspace_role):
        raise ValidationFailed("Give a workspace and a workspace role together, or neither.")
    if workspace_role and workspace_role not in WorkspaceRole.values:
        raise ValidationFailed(f"Unknown workspace role {workspace_role!r}.")
    if workspace is not None and workspace.organization_id != organization.id:
        raise NotFound("Workspace not found.")
    if OrgMembership.dangerously_unscoped.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict("That person is already a member of this organisation.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.dangerously_unscoped.create(
        organization=organization,
        email=email,
        org_role=org_role,
        workspace=workspace,
        workspace_role=workspace_role,
        token_hash=_hash(token),
        expires_at=timezone.now() + INVITATION_LIFETIME,
        invited_by=actor.principal.user,
    )
    audit_record(
        actor=actor,
        action="org.invitation.created",
        organization=organization,
        target=invitation,
        target_label=email,
        changes={
            "org_role": org_role,
            "workspace": workspace.slug if workspace else None,
            "workspace_role": workspace_role,
        },
    )
    inviter = actor.principal.label
    url = invitation_url(token)
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {organization.name} on Tether",
            message=f"{inviter} invited you to join {organization.name} on Tether.\n\nAccept: {url}\n\n"
            f"The invitation expires in {INVITATION_LIFETIME.days} days.",
            from_email=None,
            recipient_list=[email],
        )
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"The invitation is already {invitation.status}.")
    invitation.status = InvitationStatus.REVOKED
    invitation.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="org.invitation.revoked",
        organization=invitation.organization,
        target=invitation,
        target_label=invitation.email,
    )
    return invitation


def _pending_for(token: str, user: User) -> Invitation:
    invitation = (
        Invitation.dangerously_unscoped.select_for_update(of=("self",))
        .select_related("organization", "workspace")
        .filter(token_hash=_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFound("Invitation not found.")
    if invitation.email.lower() != user.email.lower():
        raise Forbidden("This invitation was sent to a different email address.")
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"The invitation is already {invitation.status}.")
    if invitation.expires_at <= timezone.now():
        raise ValidationFailed("The invitation has expired; ask for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, actor: Actor, token: str) -> OrgMembership:
    user = actor.principal.user
    if user is None:
        raise Forbidden("Only a signed-in user can accept an invitation.")
    invitation = _pending_for(token, user)
    organization = invitation.organization
    membership, _ = OrgMembership.dangerously_unscoped.get_or_create(
        organization=organization, user=user, defaults={"role": invitation.org_role}
    )
    if invitation.workspace is not None:
        WorkspaceMembership.dangerously_unscoped.get_or_create(
            workspace=invitation.workspace, user=user, defaults={"role": invitation.workspace_role}
        )
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_by", "updated_at"])
    audit_record(
        actor=actor,
        action="org.invitation.accepted",
        organization=organization,
        target=invitation,
        target_label=invitation.email,
        changes={"org_role": invitation.org_role, "workspace_role": invitation.workspace_role},
    )
    return membership


@transaction.atomic
def invitation_decline(*, actor: Actor, token: str) -> Invitation:
    user = actor.principal.user
    if user is None:
        raise Forbidden("Only a signed-in user can decline an invitation.")
    invitation = _pending_for(token, user)
    invitation.status = InvitationStatus.DECLINED
    invitation.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="org.invitation.declined",
        organization=invitation.organization,
        target=invitation,
        target_label=invitation.email,
    )
    return invitation
