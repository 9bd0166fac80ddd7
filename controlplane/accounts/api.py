"""`/api/v1/me/`: the signed-in user's profile and memberships."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.accounts.models import User
from controlplane.accounts.services import user_profile_update
from controlplane.orgs.api.account_base import UserAPIView
from controlplane.orgs.selectors import organizations_for_user


class MembershipSummarySerializer(serializers.Serializer[dict[str, Any]]):
    slug = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()


class ProfileSerializer(serializers.ModelSerializer[User]):
    organizations = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "email", "name", "date_joined", "organizations")
        read_only_fields = ("id", "email", "date_joined", "organizations")

    @extend_schema_field(MembershipSummarySerializer(many=True))
    def get_organizations(self, user: User) -> list[dict[str, Any]]:
        organizations, roles = organizations_for_user(user=user)
        return [{"slug": org.slug, "name": org.name, "role": roles[org.id]} for org in organizations]


class ProfileUpdateSerializer(serializers.Serializer[dict[str, str]]):
    name = serializers.CharField(max_length=150, allow_blank=True)


class MeView(UserAPIView):
    """Your profile: email, display name and the organisations you belong to."""

    @extend_schema(responses=ProfileSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(self.user).data)

    @extend_schema(request=ProfileUpdateSerializer, responses=ProfileSerializer, operation_id="me_update")
    def patch(self, request: Request) -> Response:
        data = ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_profile_update(user=self.user, name=data.validated_data["name"])
        return Response(ProfileSerializer(user).data)
