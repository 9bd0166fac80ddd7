"""Resuming a paused flow run with typed input, and reading a run's inputs back (its process does)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.fields import StorableCharField
from controlplane.runs.api.flow_runs import orchestration_response
from controlplane.runs.api.serializers import OrchestrationResultSerializer
from controlplane.runs.models import FlowRunInput
from controlplane.runs.selectors.logs import flow_run_in_workspace
from controlplane.runs.services.pauses import flow_run_resume


class ResumeInputSerializer(serializers.Serializer[dict[str, Any]]):
    input = serializers.DictField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The values the run waits for; checked against `run_input_schema` of its paused state.",
    )


class InputFilterSerializer(serializers.Serializer[dict[str, Any]]):
    key = StorableCharField(required=False, max_length=255)


class FlowRunInputSerializer(serializers.ModelSerializer[FlowRunInput]):
    class Meta:
        model = FlowRunInput
        fields = ("id", "flow_run_id", "key", "value", "created_at")
        read_only_fields = fields


class FlowRunResumeViewSet(WorkspaceViewSet):
    """Resume a paused or suspended flow run."""

    serializer_class = FlowRunInputSerializer
    scope_map = {"POST": Scope.RUNS_WRITE}

    def safely_get_queryset(self) -> QuerySet[FlowRunInput]:
        return FlowRunInput.objects.none()

    @extend_schema(request=ResumeInputSerializer, responses=OrchestrationResultSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Resume the run: a paused one goes back to RUNNING, a suspended one to SCHEDULED (due now).

        When the run paused for input (`run_input_schema` in its state's details), `input` is
        required and must match that schema (422 listing each mismatch). A run that is not
        paused, or whose pause timed out, answers 409.
        """
        run = flow_run_in_workspace(workspace=self.access.workspace, flow_run_id=self.kwargs["flow_run_id"])
        data = ResumeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = flow_run_resume(run_id=run.pk, run_input=data.validated_data["input"], actor=self.actor)
        return orchestration_response(result)


class FlowRunInputViewSet(mixins.ListModelMixin, WorkspaceViewSet):
    """Values given to a flow run while it ran (e.g. the input it was resumed with), by key."""

    serializer_class = FlowRunInputSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ}

    def safely_get_queryset(self) -> QuerySet[FlowRunInput]:
        run = flow_run_in_workspace(workspace=self.access.workspace, flow_run_id=self.kwargs["flow_run_id"])
        filters = InputFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        inputs = FlowRunInput.objects.filter(flow_run=run)
        key = filters.validated_data.get("key")
        return inputs.filter(key=key) if key else inputs

    @extend_schema(parameters=[OpenApiParameter("key", str, description="Only the input stored under this key.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
