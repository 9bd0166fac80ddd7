from __future__ import annotations

from typing import Any

from rest_framework import serializers

from controlplane.orgs.models import (
    Invitation,
    Organization,
    OrgMembership,
    ServiceAccount,
    Workspace,
    WorkspaceMembership,
    slug_validator,
)
from controlplane.orgs.roles import OrgRole, Scope, WorkspaceRole


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ("id", "slug", "name", "role", "created_at")
        read_only_fields = fields

    def get_role(self, organization: Organization) -> str | None:
        roles: dict[Any, str] = self.context.get("roles", {})
        return roles.get(organization.id)


class OrganizationCreateSerializer(serializers.Serializer[dict[str, str]]):
    slug = serializers.CharField(max_length=50, validators=[slug_validator])
    name = serializers.CharField(max_length=100)


class NameSerializer(serializers.Serializer[dict[str, str]]):
    name = serializers.CharField(max_length=100)


class WorkspaceSerializer(serializers.ModelSerializer[Workspace]):
    class Meta:
        model = Workspace
        fields = ("id", "slug", "name", "created_at")
        read_only_fields = fields


class WorkspaceCreateSerializer(serializers.Serializer[dict[str, str]]):
    slug = serializers.CharField(max_length=50, validators=[slug_validator])
    name = serializers.CharField(max_length=100)


class WorkspaceAccessSerializer(serializers.Serializer[dict[str, Any]]):
    organization = serializers.CharField()
    workspace = serializers.CharField()
    role = serializers.ChoiceField(choices=WorkspaceRole.choices)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=[s.value for s in Scope]))
    principal = serializers.CharField()


class OrgMemberSerializer(serializers.ModelSerializer[OrgMembership]):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    user_id = serializers.UUIDField(source="user.id", read_only=True)

    class Meta:
        model = OrgMembership
        fields = ("id", "user_id", "email", "name", "role", "created_at")
        read_only_fields = fields


class RoleSerializer(serializers.Serializer[dict[str, str]]):
    role = serializers.ChoiceField(choices=OrgRole.choices)


class WorkspaceRoleSerializer(serializers.Serializer[dict[str, str]]):
    role = serializers.ChoiceField(choices=WorkspaceRole.choices)


class TransferOwnershipSerializer(serializers.Serializer[dict[str, Any]]):
    user_id = serializers.UUIDField()


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    workspace: serializers.SlugRelatedField[Workspace] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    workspace_role = serializers.ChoiceField(choices=WorkspaceRole.choices, read_only=True, allow_blank=True)
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = (
            "id",
            "email",
            "org_role",
            "workspace",
            "workspace_role",
            "status",
            "expires_at",
            "invited_by",
            "created_at",
        )
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField()
    org_role = serializers.ChoiceField(choices=OrgRole.choices, default=OrgRole.MEMBER)
    workspace = serializers.CharField(required=False, allow_blank=True, max_length=50)
    workspace_role = serializers.ChoiceField(choices=WorkspaceRole.choices, required=False, allow_blank=True)


class InvitationTokenSerializer(serializers.Serializer[dict[str, str]]):
    token = serializers.CharField(max_length=200)


class ServiceAccountSerializer(serializers.ModelSerializer[ServiceAccount]):
    class Meta:
        model = ServiceAccount
        fields = ("id", "name", "description", "is_active", "created_at")
        read_only_fields = fields


class ServiceAccountCreateSerializer(serializers.Serializer[dict[str, str]]):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ServiceAccountUpdateSerializer(serializers.Serializer[dict[str, str]]):
    description = serializers.CharField(max_length=500, allow_blank=True)


class WorkspaceMemberSerializer(serializers.ModelSerializer[WorkspaceMembership]):
    kind = serializers.SerializerMethodField()
    principal_id = serializers.SerializerMethodField()
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = WorkspaceMembership
        fields = ("id", "kind", "principal_id", "display_name", "role", "created_at")
        read_only_fields = fields

    def get_kind(self, membership: WorkspaceMembership) -> str:
        return "user" if membership.user_id else "service_account"

    def get_principal_id(self, membership: WorkspaceMembership) -> str:
        return str(membership.user_id or membership.service_account_id)

    def get_display_name(self, membership: WorkspaceMembership) -> str:
        if membership.user is not None:
            return membership.user.email
        assert membership.service_account is not None
        return membership.service_account.name


class WorkspaceMemberCreateSerializer(serializers.Serializer[dict[str, Any]]):
    user_id = serializers.UUIDField(required=False)
    service_account_id = serializers.UUIDField(required=False)
    role = serializers.ChoiceField(choices=WorkspaceRole.choices)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user_id" in attrs) == ("service_account_id" in attrs):
            raise serializers.ValidationError("Give exactly one of user_id or service_account_id.")
        return attrs
