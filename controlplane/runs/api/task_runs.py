"""Task runs: reported in batches by the SDK's background reporter, read by the UI."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.serializers import (
    OrchestrationResultSerializer,
    TaskRunBatchSerializer,
    TaskRunSerializer,
    TaskRunStateHistorySerializer,
    state_spec,
)
from controlplane.runs.models import TaskRun
from controlplane.runs.selectors.runs import task_runs_for
from controlplane.runs.services.task_runs import TaskRunReport, task_runs_report
from controlplane.runs.states import StateType


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("flow_run_id", OpenApiTypes.UUID, many=True, description="Only these flow runs' tasks."),
            OpenApiParameter("state_type", str, enum=StateType.values, many=True),
            OpenApiParameter("background", bool, description="Only background task runs (`task.delay()`), or none."),
            OpenApiParameter("task_key", str, description="Only runs of the task with exactly this key."),
            OpenApiParameter("task_name", str, description="Only runs whose name contains this text (any case)."),
        ]
    )
)
class TaskRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    serializer_class = TaskRunSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.RUNS_REPORT}

    def safely_get_queryset(self) -> QuerySet[TaskRun]:
        return task_runs_for(self.request.query_params)

    @extend_schema(request=TaskRunBatchSerializer, responses=OrchestrationResultSerializer(many=True))
    @action(detail=False, methods=["post"], pagination_class=None)
    def batch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Report up to 1,000 task-run states in one request, applied in order.

        A task run is created the first time its (client-chosen) id is reported. The answer
        lists one orchestration result per entry, in the same order.
        """
        data = TaskRunBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reports = [
            TaskRunReport(
                id=entry["id"],
                state=state_spec(entry["state"]),
                flow_run_id=entry.get("flow_run_id"),
                name=entry.get("name", ""),
                task_key=entry.get("task_key", ""),
                dynamic_key=entry.get("dynamic_key", ""),
                cache_key=entry.get("cache_key", ""),
                tags=entry.get("tags", []),
                max_retries=entry.get("max_retries", 0),
                task_inputs=entry.get("task_inputs", {}),
            )
            for entry in data.validated_data["task_runs"]
        ]
        outcomes = task_runs_report(workspace=self.access.workspace, reports=reports)
        body = [{"id": str(o.id), **OrchestrationResultSerializer(o.result).data} for o in outcomes]
        return Response(body)

    @extend_schema(responses=TaskRunStateHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def states(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(TaskRunStateHistorySerializer(self.get_object().states.order_by("id"), many=True).data)
