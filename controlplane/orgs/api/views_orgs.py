"""Organisations and workspaces."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.orgs.api.account_base import UserAPIView
from controlplane.orgs.api.base import OrgAPIView, WorkspaceAPIView
from controlplane.orgs.api.serializers import (
    NameSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
    WorkspaceAccessSerializer,
    WorkspaceCreateSerializer,
    WorkspaceSerializer,
)
from controlplane.orgs.roles import Scope
from controlplane.orgs.selectors import organizations_for_user, workspaces_visible_to
from controlplane.orgs.services.organizations import (
    organization_create,
    organization_update,
    workspace_create,
    workspace_delete,
    workspace_update,
)


class OrganizationListView(UserAPIView):
    """The organisations you belong to, and creating a new one (you become its owner)."""

    @extend_schema(responses=OrganizationSerializer(many=True), operation_id="orgs_list")
    def get(self, request: Request) -> Response:
        organizations, roles = organizations_for_user(user=self.user)
        return Response(OrganizationSerializer(organizations, many=True, context={"roles": roles}).data)

    @extend_schema(request=OrganizationCreateSerializer, responses={201: OrganizationSerializer})
    def post(self, request: Request) -> Response:
        data = OrganizationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization = organization_create(actor=self.actor, **data.validated_data)
        body = OrganizationSerializer(organization, context={"roles": {organization.id: "owner"}}).data
        return Response(body, status=status.HTTP_201_CREATED)


class OrganizationDetailView(OrgAPIView):
    """One organisation: read it (any member) or rename it (owners and admins)."""

    scope_map = {"GET": Scope.ORG_READ, "PATCH": Scope.ORG_WRITE}

    def _body(self) -> dict[str, Any]:
        organization = self.access.organization
        return OrganizationSerializer(organization, context={"roles": {organization.id: self.access.role}}).data

    @extend_schema(responses=OrganizationSerializer, operation_id="org_retrieve")
    def get(self, request: Request, org_slug: str) -> Response:
        return Response(self._body())

    @extend_schema(request=NameSerializer, responses=OrganizationSerializer, operation_id="org_update")
    def patch(self, request: Request, org_slug: str) -> Response:
        data = NameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organization_update(actor=self.actor, organization=self.access.organization, name=data.validated_data["name"])
        return Response(self._body())


class WorkspaceListView(OrgAPIView):
    """Workspaces of the organisation you can enter; owners and admins create new ones."""

    scope_map = {"GET": Scope.ORG_READ, "POST": Scope.WORKSPACES_WRITE}

    @extend_schema(responses=WorkspaceSerializer(many=True), operation_id="workspaces_list")
    def get(self, request: Request, org_slug: str) -> Response:
        workspaces = workspaces_visible_to(
            organization=self.access.organization, user=self.principal.user, org_role=self.access.role
        )
        return Response(WorkspaceSerializer(workspaces, many=True).data)

    @extend_schema(
        request=WorkspaceCreateSerializer, responses={201: WorkspaceSerializer}, operation_id="workspaces_create"
    )
    def post(self, request: Request, org_slug: str) -> Response:
        data = WorkspaceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = workspace_create(actor=self.actor, organization=self.access.organization, **data.validated_data)
        return Response(WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)


class WorkspaceDetailView(WorkspaceAPIView):
    """One workspace: read it, rename it or delete it (with everything in it)."""

    scope_map = {"GET": Scope.WORKSPACE_READ, "PATCH": Scope.WORKSPACE_ADMIN, "DELETE": Scope.WORKSPACE_ADMIN}

    @extend_schema(responses=WorkspaceSerializer, operation_id="workspace_retrieve")
    def get(self, request: Request, org_slug: str, ws_slug: str) -> Response:
        return Response(WorkspaceSerializer(self.access.workspace).data)

    @extend_schema(request=NameSerializer, responses=WorkspaceSerializer, operation_id="workspace_update")
    def patch(self, request: Request, org_slug: str, ws_slug: str) -> Response:
        data = NameSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = workspace_update(
            actor=self.actor, workspace=self.access.workspace, name=data.validated_data["name"]
        )
        return Response(WorkspaceSerializer(workspace).data)

    @extend_schema(responses={204: None}, operation_id="workspace_delete")
    def delete(self, request: Request, org_slug: str, ws_slug: str) -> Response:
        workspace_delete(actor=self.actor, workspace=self.access.workspace)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceAccessView(WorkspaceAPIView):
    """Who you are in this workspace: your role and effective scopes (key scopes ∩ role)."""

    scope_map = {"GET": Scope.WORKSPACE_READ}

    @extend_schema(responses=WorkspaceAccessSerializer, operation_id="workspace_access")
    def get(self, request: Request, org_slug: str, ws_slug: str) -> Response:
        body = {
            "organization": self.access.organization.slug,
            "workspace": self.access.workspace.slug,
            "role": self.access.role,
            "scopes": sorted(self.access.scopes),
            "principal": self.principal.label,
        }
        return Response(WorkspaceAccessSerializer(body).data)
