"""Organisation members, invitations and workspace members."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.accounts.models import User
from controlplane.core.errors import NotFound, ValidationFailed
from controlplane.orgs.api.account_base import UserAPIView
from controlplane.orgs.api.base import OrgAPIView, OrgViewSet, WorkspaceViewSet
from controlplane.orgs.api.serializers import (
    InvitationCreateSerializer,
    InvitationSerializer,
    InvitationTokenSerializer,
    OrgMemberSerializer,
    RoleSerializer,
    TransferOwnershipSerializer,
    WorkspaceMemberCreateSerializer,
    WorkspaceMemberSerializer,
    WorkspaceRoleSerializer,
)
from controlplane.orgs.models import Invitation, OrgMembership, ServiceAccount, WorkspaceMembership
from controlplane.orgs.roles import Scope
from controlplane.orgs.selectors import workspace_in_organization
from controlplane.orgs.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_revoke,
)
from controlplane.orgs.services.members import (
    org_leave,
    org_member_remove,
    org_member_set_role,
    org_ownership_transfer,
    workspace_member_add,
    workspace_member_remove,
    workspace_member_set_role,
)


class OrgMemberViewSet(mixins.ListModelMixin, OrgViewSet):
    """Members of the organisation and their roles."""

    serializer_class = OrgMemberSerializer
    scope_map = {"GET": Scope.ORG_READ, "PATCH": Scope.ORG_MEMBERS_WRITE, "DELETE": Scope.ORG_MEMBERS_WRITE}
    action_scopes = {"leave": Scope.ORG_READ}

    def safely_get_queryset(self) -> QuerySet[OrgMembership]:
        return OrgMembership.objects.select_related("user")

    @extend_schema(request=RoleSerializer, responses=OrgMemberSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = RoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = org_member_set_role(
            actor=self.actor, membership=self.get_object(), role=data.validated_data["role"]
        )
        return Response(OrgMemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org_member_remove(actor=self.actor, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"])
    def leave(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Leave the organisation (the last owner cannot)."""
        org_leave(actor=self.actor, organization=self.access.organization)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TransferOwnershipView(OrgAPIView):
    """Hand ownership to another member; you become an admin."""

    scope_map = {"POST": Scope.ORG_OWNERSHIP}

    @extend_schema(request=TransferOwnershipSerializer, responses=OrgMemberSerializer)
    def post(self, request: Request, org_slug: str) -> Response:
        data = TransferOwnershipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = OrgMembership.objects.select_related("user").filter(user_id=data.validated_data["user_id"]).first()
        if member is None:
            raise ValidationFailed("The new owner must already be a member of the organisation.")
        membership = org_ownership_transfer(
            actor=self.actor, organization=self.access.organization, to_user=member.user
        )
        return Response(OrgMemberSerializer(membership).data)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrgViewSet):
    """Invitations by email: create, list, revoke."""

    serializer_class = InvitationSerializer
    scope_map = {"GET": Scope.ORG_MEMBERS_WRITE, "POST": Scope.ORG_MEMBERS_WRITE, "DELETE": Scope.ORG_MEMBERS_WRITE}

    def safely_get_queryset(self) -> QuerySet[Invitation]:
        return Invitation.objects.select_related("workspace", "invited_by")

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        workspace = None
        if values.get("workspace"):
            workspace = workspace_in_organization(organization=self.access.organization, slug=values["workspace"])
        invitation, _ = invitation_create(
            actor=self.actor,
            organization=self.access.organization,
            email=values["email"],
            org_role=values["org_role"],
            workspace=workspace,
            workspace_role=values.get("workspace_role") or "",
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invitation_revoke(actor=self.actor, invitation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(UserAPIView):
    """Accept an invitation sent to your (verified) email address."""

    @extend_schema(request=InvitationTokenSerializer, responses={200: OrgMemberSerializer})
    def post(self, request: Request) -> Response:
        data = InvitationTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = invitation_accept(actor=self.actor, token=data.validated_data["token"])
        return Response(OrgMemberSerializer(membership).data)


class InvitationDeclineView(UserAPIView):
    """Decline an invitation sent to your email address."""

    @extend_schema(request=InvitationTokenSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = InvitationTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation_decline(actor=self.actor, token=data.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceMemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Users and service accounts with a role in this workspace."""

    serializer_class = WorkspaceMemberSerializer
    scope_map = {
        "GET": Scope.WORKSPACE_MEMBERS_READ,
        "POST": Scope.WORKSPACE_MEMBERS_WRITE,
        "PATCH": Scope.WORKSPACE_MEMBERS_WRITE,
        "DELETE": Scope.WORKSPACE_MEMBERS_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[WorkspaceMembership]:
        return WorkspaceMembership.objects.select_related("user", "service_account")

    @extend_schema(request=WorkspaceMemberCreateSerializer, responses={201: WorkspaceMemberSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WorkspaceMemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organization = self.access.organization
        user = service_account = None
        if "user_id" in values:
            user = User.objects.filter(id=values["user_id"], org_memberships__organization=organization).first()
            if user is None:
                raise NotFound("No such member in this organisation.")
        else:
            service_account = ServiceAccount.objects.filter(id=values["service_account_id"]).first()
            if service_account is None:
                raise NotFound("No such service account in this organisation.")
        membership = workspace_member_add(
            actor=self.actor,
            workspace=self.access.workspace,
            role=values["role"],
            user=user,
            service_account=service_account,
        )
        return Response(WorkspaceMemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkspaceRoleSerializer, responses=WorkspaceMemberSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WorkspaceRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = workspace_member_set_role(
            actor=self.actor, membership=self.get_object(), role=data.validated_data["role"]
        )
        return Response(WorkspaceMemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        workspace_member_remove(actor=self.actor, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
