from __future__ import annotations

from django.db import transaction

from controlplane.audit.services import audit_record
from controlplane.core.errors import ValidationFailed, unique_or_conflict
from controlplane.orgs.models import RESERVED_SLUGS, Organization, OrgMembership, Workspace
from controlplane.orgs.principals import Actor
from controlplane.orgs.roles import OrgRole


def _check_slug(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(f"The slug {slug!r} is reserved.", details={"slug": ["reserved"]})


@transaction.atomic
def organization_create(*, actor: Actor, slug: str, name: str) -> Organization:
    """Create an organisation; the calling user becomes its owner."""
    user = actor.principal.user
    if user is None:
        raise ValidationFailed("Only a signed-in user can create an organisation.")
    _check_slug(slug)
    with unique_or_conflict(f"The organisation slug {slug!r} is taken.", field="slug"):
        organization = Organization.objects.create(slug=slug, name=name)
    OrgMembership.dangerously_unscoped.create(organization=organization, user=user, role=OrgRole.OWNER)
    audit_record(actor=actor, action="org.created", organization=organization, target=organization)
    return organization


@transaction.atomic
def organization_update(*, actor: Actor, organization: Organization, name: str) -> Organization:
    before = organization.name
    organization.name = name
    organization.save(update_fields=["name", "updated_at"])
    audit_record(
        actor=actor,
        action="org.updated",
        organization=organization,
        target=organization,
        changes={"name": [before, name]},
    )
    return organization


@transaction.atomic
def workspace_create(*, actor: Actor, organization: Organization, slug: str, name: str) -> Workspace:
    _check_slug(slug)
    with unique_or_conflict(f"A workspace with the slug {slug!r} already exists in this organisation.", field="slug"):
        workspace = Workspace.objects.create(organization=organization, slug=slug, name=name)
    audit_record(
        actor=actor, action="workspace.created", organization=organization, workspace=workspace, target=workspace
    )
    return workspace


@transaction.atomic
def workspace_update(*, actor: Actor, workspace: Workspace, name: str) -> Workspace:
    before = workspace.name
    workspace.name = name
    workspace.save(update_fields=["name", "updated_at"])
    audit_record(
        actor=actor,
        action="workspace.updated",
        organization=workspace.organization,
        workspace=workspace,
        target=workspace,
        changes={"name": [before, name]},
    )
    return workspace


@transaction.atomic
def workspace_delete(*, actor: Actor, workspace: Workspace) -> None:
    audit_record(actor=actor, action="workspace.deleted", organization=workspace.organization, target=workspace)
    workspace.delete()
