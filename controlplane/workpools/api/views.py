"""Work pools and their queues, under /api/v1/orgs/{org}/workspaces/{ws}/work-pools/."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.errors import NotFound
from controlplane.core.pagination import TetherCursorPagination
from controlplane.flows.api.fields import NameFilterSerializer
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.workpools.api.serializers import (
    WorkPoolCreateSerializer,
    WorkPoolSerializer,
    WorkPoolUpdateSerializer,
    WorkQueueSerializer,
    WorkQueueWriteSerializer,
)
from controlplane.workpools.models import WorkPool, WorkQueue
from controlplane.workpools.selectors import work_pools_list, work_queues_for_pool
from controlplane.workpools.services import (
    work_pool_create,
    work_pool_delete,
    work_pool_set_paused,
    work_pool_update,
    work_queue_create,
    work_queue_delete,
    work_queue_set_paused,
    work_queue_update,
)

_SCOPES = {
    "GET": Scope.WORKSPACE_READ,
    "POST": Scope.POOLS_WRITE,
    "PATCH": Scope.POOLS_WRITE,
    "DELETE": Scope.POOLS_WRITE,
}


class _ByName(TetherCursorPagination):
    ordering = ("name", "id")


class _ByPriority(TetherCursorPagination):
    ordering = ("priority", "name")


class WorkPoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Work pools: where runs execute (process, docker or kubernetes), served by agents.

    Creating a pool also creates its `default` queue (priority 1). A paused pool hands out
    no runs. Filter a list by exact name with `?name=`.
    """

    serializer_class = WorkPoolSerializer
    pagination_class = _ByName
    scope_map = _SCOPES

    def safely_get_queryset(self) -> QuerySet[WorkPool]:
        return WorkPool.objects.all()

    @extend_schema(parameters=[OpenApiParameter("name", str, description="Exact pool name.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = NameFilterSerializer(data=request.query_params, partial=True)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(work_pools_list(**filters.validated_data))
        return self.get_paginated_response(WorkPoolSerializer(page, many=True).data)

    @extend_schema(request=WorkPoolCreateSerializer, responses={201: WorkPoolSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = WorkPoolCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pool = work_pool_create(actor=self.actor, workspace=self.access.workspace, **data.validated_data)
        return Response(WorkPoolSerializer(pool).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkPoolUpdateSerializer, responses=WorkPoolSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pool = self.get_object()
        data = WorkPoolUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        pool = work_pool_update(actor=self.actor, pool=pool, **data.validated_data)
        return Response(WorkPoolSerializer(pool).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a pool and its queues; deployments that used it keep existing, with no pool."""
        work_pool_delete(actor=self.actor, pool=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WorkPoolSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop handing out this pool's runs (they wait, scheduled). Pausing twice is harmless."""
        pool = work_pool_set_paused(actor=self.actor, pool=self.get_object(), paused=True)
        return Response(WorkPoolSerializer(pool).data)

    @extend_schema(request=None, responses=WorkPoolSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pool = work_pool_set_paused(actor=self.actor, pool=self.get_object(), paused=False)
        return Response(WorkPoolSerializer(pool).data)


class WorkQueueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """A pool's queues, listed in claim order (priority 1 first).

    The `default` queue cannot be deleted or renamed (409). Deleting another queue moves
    its deployments to the default queue.
    """

    serializer_class = WorkQueueSerializer
    pagination_class = _ByPriority
    scope_map = _SCOPES

    def _pool(self) -> WorkPool:
        pool: WorkPool | None = WorkPool.objects.filter(id=self.kwargs["pool_id"]).first()
        if pool is None:
            raise NotFound()
        return pool

    def safely_get_queryset(self) -> QuerySet[WorkQueue]:
        return work_queues_for_pool(pool=self._pool())

    @extend_schema(request=WorkQueueWriteSerializer, responses={201: WorkQueueSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pool = self._pool()
        data = WorkQueueWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queue = work_queue_create(actor=self.actor, pool=pool, **data.validated_data)
        return Response(WorkQueueSerializer(queue).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkQueueWriteSerializer, responses=WorkQueueSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queue = self.get_object()
        data = WorkQueueWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        queue = work_queue_update(actor=self.actor, queue=queue, **data.validated_data)
        return Response(WorkQueueSerializer(queue).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        work_queue_delete(actor=self.actor, queue=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WorkQueueSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queue = work_queue_set_paused(actor=self.actor, queue=self.get_object(), paused=True)
        return Response(WorkQueueSerializer(queue).data)

    @extend_schema(request=None, responses=WorkQueueSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queue = work_queue_set_paused(actor=self.actor, queue=self.get_object(), paused=False)
        return Response(WorkQueueSerializer(queue).data)
