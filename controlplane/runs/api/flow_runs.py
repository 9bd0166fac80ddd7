"""Flow runs: create (idempotently), list and filter, propose states, cancel, retry, delete in bulk."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.errors import Forbidden, NotFound, TetherError
from controlplane.core.pagination import TetherCursorPagination
from controlplane.core.queries import workspace_row_with_parent
from controlplane.flows.models import Deployment
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.serializers import (
    BatchOutcomeSerializer,
    FlowRunCreateSerializer,
    FlowRunSerializer,
    IdsSerializer,
    OrchestrationResultSerializer,
    SetStateSerializer,
    StateHistorySerializer,
    flow_run_row_representation,
    state_spec,
)
from controlplane.runs.models import FlowRun
from controlplane.runs.orchestration.context import OrchestrationResult, ResultStatus
from controlplane.runs.selectors.runs import (
    FLOW_RUN_ORDERINGS,
    flow_run_counts_by_state,
    flow_run_rows,
    flow_runs_filtered,
)
from controlplane.runs.services.flow_runs import (
    FlowRunRequest,
    flow_run_cancel,
    flow_run_create,
    flow_run_retry,
    flow_run_set_state,
    flow_runs_cancel,
    flow_runs_delete,
)

FILTERS = [
    OpenApiParameter("state_type", str, many=True, description="SCHEDULED, RUNNING, … (repeat or comma-separate)"),
    OpenApiParameter("state_name", str, many=True),
    OpenApiParameter("deployment_id", str, many=True),
    OpenApiParameter("flow_id", str, many=True),
    OpenApiParameter("parent_task_run_id", str, many=True),
    OpenApiParameter("work_pool_id", str, many=True),
    OpenApiParameter("tag", str, many=True, description="runs carrying every given tag"),
    OpenApiParameter("created_after", str),
    OpenApiParameter("created_before", str),
    OpenApiParameter("expected_start_after", str),
    OpenApiParameter("expected_start_before", str),
]


class TransitionRefused(TetherError):
    status_code = 409
    code = "transition_refused"


def orchestration_response(result: OrchestrationResult) -> Response:
    """ACCEPT and WAIT answer 200; a refused transition (REJECT, ABORT) answers 409 with the result."""
    body = OrchestrationResultSerializer(result).data
    if result.status in (ResultStatus.REJECT, ResultStatus.ABORT):
        raise TransitionRefused(result.reason, details=dict(body))
    return Response(body)


class FlowRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Flow runs of the workspace."""

    serializer_class = FlowRunSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.RUNS_WRITE, "DELETE": Scope.RUNS_WRITE}
    action_scopes = {"set_state": Scope.RUNS_REPORT}

    def safely_get_queryset(self) -> QuerySet[FlowRun]:
        return flow_runs_filtered(self.request.query_params)

    @property
    def paginator(self) -> TetherCursorPagination:
        if not hasattr(self, "_paginator"):
            self._paginator = TetherCursorPagination()
            sort = self.request.query_params.get("sort", "-created")
            self._paginator.ordering = FLOW_RUN_ORDERINGS.get(sort, FLOW_RUN_ORDERINGS["-created"])
        return self._paginator

    @extend_schema(parameters=[*FILTERS, OpenApiParameter("sort", str, enum=list(FLOW_RUN_ORDERINGS))])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(flow_run_rows(self.get_queryset()))
        assert page is not None  # every list is paginated
        return self.get_paginated_response([flow_run_row_representation(row) for row in page])

    @extend_schema(request=FlowRunCreateSerializer, responses={201: FlowRunSerializer, 200: FlowRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Create a run from a deployment (`deployment_id`) or for a flow run outside one (`flow_name`).

        With an `idempotency_key`, repeating the same request answers 200 with the same run; the
        same key with a different body answers 422.
        """
        data = FlowRunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        deployment = None
        if "deployment_id" in values:
            deployment = workspace_row_with_parent(Deployment, "flow", values["deployment_id"])
            if deployment is None:
                raise NotFound("Deployment not found.")
        outcome = flow_run_create(
            workspace=self.access.workspace,
            actor=self.actor,
            request=FlowRunRequest(
                flow_name=values.get("flow_name", ""),
                deployment=deployment,
                name=values.get("name", ""),
                parameters=values["parameters"],
                tags=values["tags"],
                state=state_spec(values["state"]) if "state" in values else None,
                parent_task_run_id=values.get("parent_task_run_id"),
                job_variables=values["job_variables"],
                idempotency_key=values.get("idempotency_key") or None,
            ),
        )
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return Response(FlowRunSerializer(outcome.run).data, status=code)

    @extend_schema(request=SetStateSerializer, responses=OrchestrationResultSerializer)
    @action(detail=True, methods=["post"], url_path="set-state")
    def set_state(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Propose a state. `force` (workspace owners only) skips the rules that only pace runs."""
        run = self.get_object()
        data = SetStateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        force = data.validated_data["force"]
        if force and Scope.WORKSPACE_ADMIN not in self.access.scopes:
            raise Forbidden("Only workspace owners may force a state.")
        result = flow_run_set_state(
            run_id=run.pk,
            proposed=state_spec(data.validated_data["state"]),
            force=force,
            epoch=data.validated_data.get("epoch"),
        )
        return orchestration_response(result)

    @extend_schema(request=None, responses=OrchestrationResultSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel: CANCELLED at once if nothing runs yet, otherwise CANCELLING until the agent stops it."""
        return orchestration_response(flow_run_cancel(run_id=self.get_object().pk))

    @extend_schema(request=None, responses=OrchestrationResultSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Run a finished run again."""
        return orchestration_response(flow_run_retry(run_id=self.get_object().pk))

    @extend_schema(responses=StateHistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # the whole history, one plain list
    def states(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The run's full state history, oldest first."""
        run = self.get_object()
        return Response(StateHistorySerializer(run.states.order_by("id"), many=True).data)

    @extend_schema(parameters=FILTERS, responses={200: dict[str, int]})
    @action(detail=False, methods=["get"])
    def counts(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """How many runs are in each state type (with the same filters as the list)."""
        return Response(flow_run_counts_by_state(self.get_queryset()))

    @extend_schema(request=IdsSerializer, responses=BatchOutcomeSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="batch-cancel", pagination_class=None)
    def batch_cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = IdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(BatchOutcomeSerializer(flow_runs_cancel(run_ids=data.validated_data["ids"]), many=True).data)

    @extend_schema(request=IdsSerializer, responses=BatchOutcomeSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="batch-delete", pagination_class=None)
    def batch_delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete runs that are scheduled or finished; runs in flight are refused (cancel them first)."""
        data = IdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(BatchOutcomeSerializer(flow_runs_delete(run_ids=data.validated_data["ids"]), many=True).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        (outcome,) = flow_runs_delete(run_ids=[self.get_object().pk])
        if not outcome.ok:
            raise TransitionRefused(outcome.detail)
        return Response(status=status.HTTP_204_NO_CONTENT)
