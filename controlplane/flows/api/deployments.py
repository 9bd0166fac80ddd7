"""Deployments: how and where to run a flow."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.core.pagination import TetherCursorPagination
from controlplane.flows.api.deployment_serializers import (
    SORTS,
    DeploymentCreateSerializer,
    DeploymentFilterSerializer,
    DeploymentSerializer,
    DeploymentWriteSerializer,
)
from controlplane.flows.models import Deployment
from controlplane.flows.selectors import deployments_list, deployments_with_relations
from controlplane.flows.services import deployment_delete, deployment_set_paused, deployment_update, deployment_upsert
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope

DEFAULT_SORT = "-created"


class _SortablePagination(TetherCursorPagination):
    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: APIView | None) -> tuple[str, ...]:
        return SORTS.get(request.query_params.get("sort", DEFAULT_SORT), SORTS[DEFAULT_SORT])


_LIST_PARAMETERS = [
    OpenApiParameter("flow_id", str, description="Deployments of this flow."),
    OpenApiParameter("flow_name", str, description="Deployments of the flow with this exact name."),
    OpenApiParameter("name", str, description="Exact deployment name."),
    OpenApiParameter("work_pool_name", str),
    OpenApiParameter("work_queue_name", str),
    OpenApiParameter("tag", str, many=True, description="Repeat to require several tags (all must match)."),
    OpenApiParameter("paused", bool),
    OpenApiParameter("sort", str, enum=list(SORTS), description=f"Order of the list (default {DEFAULT_SORT})."),
]


class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Deployments: a flow's entrypoint, code source, default parameters and their schema, and
    the work pool and queue its runs go to.

    Pools and queues are named (`work_pool_name`, `work_queue_name`) and looked up in this
    workspace only; a name that is not found here answers 404.
    """

    serializer_class = DeploymentSerializer
    pagination_class = _SortablePagination
    scope_map = {
        "GET": Scope.WORKSPACE_READ,
        "POST": Scope.DEPLOYMENTS_WRITE,
        "PATCH": Scope.DEPLOYMENTS_WRITE,
        "DELETE": Scope.DEPLOYMENTS_WRITE,
    }

    def safely_get_queryset(self) -> QuerySet[Deployment]:
        return deployments_with_relations()

    @extend_schema(parameters=_LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = DeploymentFilterSerializer(data=request.query_params, partial=True)
        filters.is_valid(raise_exception=True)
        values = dict(filters.validated_data)
        values.pop("sort", None)
        values["tags"] = values.pop("tag", ())
        page = self.paginate_queryset(deployments_list(**values))
        return self.get_paginated_response(DeploymentSerializer(page, many=True).data)

    @extend_schema(request=DeploymentCreateSerializer, responses={200: DeploymentSerializer, 201: DeploymentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create or update the deployment `flow/name` (an upsert, so deploying again is safe).

        Answers **201** when the deployment was created and **200** when one with this flow
        and name already existed and was updated. On update only the fields sent change;
        the others keep their values. The flow is named by `flow_name` (created if new) or
        `flow_id`. Without `work_queue_name` runs go to the pool's `default` queue.

        `entrypoint` and `source` of the wrong shape are a 400; an invalid
        `parameter_schema`, parameters that do not match it (when
        `enforce_parameter_schema`), or parameters over 512 KiB are a 422.
        """
        data = DeploymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deployment, created = deployment_upsert(
            actor=self.actor, workspace=self.access.workspace, **data.validated_data
        )
        return Response(
            DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(request=DeploymentWriteSerializer, responses=DeploymentSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change some fields. `work_queue_name` alone picks a queue of the current pool;
        `work_pool_name: null` detaches the deployment from its pool."""
        deployment = self.get_object()
        data = DeploymentWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        deployment = deployment_update(actor=self.actor, deployment=deployment, **data.validated_data)
        return Response(DeploymentSerializer(deployment).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a deployment. Its past runs stay, without a deployment."""
        deployment_delete(actor=self.actor, deployment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop scheduling and starting new runs of this deployment. Pausing twice is harmless."""
        deployment = deployment_set_paused(actor=self.actor, deployment=self.get_object(), paused=True)
        return Response(DeploymentSerializer(deployment).data)

    @extend_schema(request=None, responses=DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        deployment = deployment_set_paused(actor=self.actor, deployment=self.get_object(), paused=False)
        return Response(DeploymentSerializer(deployment).data)
