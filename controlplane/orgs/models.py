"""Organisations, workspaces, memberships, service accounts and invitations."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from controlplane.core.models import OrganizationOwnedModel, TimestampedModel, WorkspaceOwnedModel
from controlplane.orgs.roles import OrgRole, WorkspaceRole

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)

RESERVED_SLUGS = frozenset({"api", "admin", "static", "new", "settings", "me", "invitations"})


class Organization(TimestampedModel):
    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.slug


class Workspace(TimestampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="workspaces")
    slug = models.CharField(max_length=50, validators=[slug_validator])
    name = models.CharField(max_length=100)
    # Finished runs (with their logs), and events, older than this are deleted by the retention service.
    retention_days = models.PositiveIntegerField(default=90)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "slug"], name="workspace_slug_unique_in_org")
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"


class OrgMembership(OrganizationOwnedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships")
    role = models.CharField(max_length=16, choices=OrgRole.choices, default=OrgRole.MEMBER)

    class Meta(OrganizationOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "user"], name="org_membership_unique_user")
        ]


class ServiceAccount(OrganizationOwnedModel):
    """A non-human principal (agents, CI) with workspace roles; it authenticates with keys."""

    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta(OrganizationOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["organization", "name"], name="service_account_name_unique_in_org")
        ]

    @property
    def is_authenticated(self) -> bool:
        # DRF's IsAuthenticated reads request.user.is_authenticated; a service account is one.
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.name


class WorkspaceMembership(WorkspaceOwnedModel):
    """A user's or a service account's role in one workspace (exactly one of the two)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="workspace_memberships"
    )
    service_account = models.ForeignKey(
        ServiceAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="workspace_memberships"
    )
    role = models.CharField(max_length=16, choices=WorkspaceRole.choices)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, service_account__isnull=True)
                | Q(user__isnull=True, service_account__isnull=False),
                name="workspace_membership_one_principal",
            ),
            models.UniqueConstraint(
                fields=["workspace", "user"], condition=Q(user__isnull=False), name="workspace_membership_unique_user"
            ),
            models.UniqueConstraint(
                fields=["workspace", "service_account"],
                condition=Q(service_account__isnull=False),
                name="workspace_membership_unique_service_account",
            ),
        ]


class InvitationStatus(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class Invitation(OrganizationOwnedModel):
    email = models.EmailField()
    org_role = models.CharField(max_length=16, choices=OrgRole.choices, default=OrgRole.MEMBER)
    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    workspace_role = models.CharField(max_length=16, choices=WorkspaceRole.choices, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(OrganizationOwnedModel.Meta):
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(workspace__isnull=True, workspace_role="")
                | Q(workspace__isnull=False) & ~Q(workspace_role=""),
                name="invitation_workspace_role_together",
            )
        ]


class AccessGeneration(models.Model):
    """One row whose value the database bumps whenever anything that decides access changes.

    Triggers (migration 0003, PostgreSQL) keep it exact: keys, users, service accounts,
    organisations, workspaces and memberships, whatever code path writes them. The access
    cache (orgs/access_cache.py) trusts an entry only while this value is the one it was filled at.
    """

    id = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"access generation {self.value}"
