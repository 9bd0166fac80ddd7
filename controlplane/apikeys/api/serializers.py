from __future__ import annotations

from typing import Any

from rest_framework import serializers

from controlplane.apikeys.models import ApiKey
from controlplane.orgs.models import Workspace
from controlplane.orgs.roles import Scope


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    """A key as listed: its prefix identifies it; the secret and its hash never leave the server."""

    workspace: serializers.SlugRelatedField[Workspace] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields: tuple[str, ...] = (
            "id",
            "name",
            "prefix",
            "workspace",
            "scopes",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "status",
            "created_at",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_status(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        return "active" if key.is_usable() else "expired"


class ApiKeyCreatedSerializer(ApiKeySerializer):
    secret = serializers.SerializerMethodField()

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "secret")
        read_only_fields = fields

    def get_secret(self, key: ApiKey) -> str:
        secret: str = self.context["secret"]
        return secret


class ApiKeyCreateSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    workspace = serializers.CharField(max_length=50, required=False, allow_blank=True)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=[scope.value for scope in Scope]),
        required=False,
        allow_null=True,
        max_length=64,
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
