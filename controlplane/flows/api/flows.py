"""Flows: named Python functions whose runs the control plane tracks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.pagination import TetherCursorPagination
from controlplane.flows.api.fields import NameFilterSerializer, TagsField, name_validator
from controlplane.flows.models import Flow
from controlplane.flows.selectors import flows_list
from controlplane.flows.services import flow_delete, flow_get_or_create
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope


class FlowSerializer(serializers.ModelSerializer[Flow]):
    class Meta:
        model = Flow
        fields = ("id", "name", "tags", "created_at", "updated_at")
        read_only_fields = fields


class FlowCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=255, validators=[name_validator])
    tags = TagsField(required=False)


class _ByName(TetherCursorPagination):
    ordering = ("name", "id")


class FlowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Flows of this workspace, sorted by name. Filter by exact name with `?name=`."""

    serializer_class = FlowSerializer
    pagination_class = _ByName
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.FLOWS_WRITE, "DELETE": Scope.FLOWS_WRITE}

    def safely_get_queryset(self) -> QuerySet[Flow]:
        return Flow.objects.all()

    @extend_schema(parameters=[OpenApiParameter("name", str, description="Exact flow name.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = NameFilterSerializer(data=request.query_params, partial=True)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(flows_list(**filters.validated_data))
        return self.get_paginated_response(FlowSerializer(page, many=True).data)

    @extend_schema(request=FlowCreateSerializer, responses={200: FlowSerializer, 201: FlowSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Get or create a flow by name: 201 when it was created, 200 when it already existed.

        `tags` apply only when the flow is created.
        """
        data = FlowCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flow, created = flow_get_or_create(workspace=self.access.workspace, **data.validated_data)
        return Response(FlowSerializer(flow).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a flow together with its deployments and runs."""
        flow_delete(actor=self.actor, flow=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
