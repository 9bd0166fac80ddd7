"""Background task runs (`task.delay()`) and the protocol task workers speak (docs/background-tasks.md).

- `background-tasks/`: create (a developer's or runner's key, `runs:write`), list and read
  (`workspace:read`); `{id}/set-state/` and `logs/` are the worker's reports (`runs:claim`).
- `task-workers/claim/` and `task-workers/heartbeat/`: a worker (worker-role key,
  `runs:claim`) takes due runs of the task keys it serves under a lease, and renews it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.errors import PayloadTooLarge
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.fields import StorableCharField
from controlplane.runs.api.flow_runs import orchestration_response
from controlplane.runs.api.serializers import OrchestrationResultSerializer, StateInputSerializer, state_spec
from controlplane.runs.models import Log, TaskRun
from controlplane.runs.selectors.background import seconds_until_next_due
from controlplane.runs.services.background import (
    CLAIM_CAPACITY_MAX,
    BackgroundLogLine,
    BackgroundTaskRequest,
    background_task_create,
    background_task_logs_ingest,
    background_task_set_state,
    background_tasks_claim_waiting,
    background_tasks_heartbeat,
)
from controlplane.runs.services.logs import LOG_BATCH_MAX_LINES, LOG_LEVEL_MAX, LOG_LEVEL_MIN
from controlplane.workpools.dispatch.timings import MAX_WAIT_SECONDS, dispatch_timings

TASK_KEYS_MAX = 100
HEARTBEAT_RUNS_MAX = 10_000
LOG_READ_MAX = 1_000
_SEQ_MAX = 2**63 - 1


class BackgroundTaskSerializer(serializers.ModelSerializer[TaskRun]):
    state = serializers.SerializerMethodField()

    class Meta:
        model = TaskRun
        fields = (
            "id",
            "name",
            "task_key",
            "background",
            "state",
            "state_type",
            "state_name",
            "parameters",
            "parameters_ref",
            "result_storage",
            "tags",
            "idempotency_key",
            "worker_name",
            "epoch",
            "run_count",
            "max_retries",
            "expected_start_time",
            "next_scheduled_start_time",
            "start_time",
            "end_time",
            "total_run_time",
            "created_at",
        )
        read_only_fields = fields

    def get_state(self, run: TaskRun) -> dict[str, Any]:
        return {
            "type": run.state_type,
            "name": run.state_name,
            "timestamp": run.state_timestamp,
            "message": run.state_message,
            "details": run.state_details,
        }


class BackgroundTaskCreateSerializer(serializers.Serializer[dict[str, Any]]):
    task_key = StorableCharField(max_length=255)
    name = StorableCharField(max_length=255, required=False, allow_blank=True, default="")
    parameters = serializers.DictField(
        required=False, default=dict, help_text="Small JSON arguments the caller chose to show (≤ 512 KiB)."
    )
    parameters_ref = StorableCharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="The key of the arguments in the caller's result storage; the values never reach the server.",
    )
    result_storage = StorableCharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the worker reads the arguments and writes the result (a path or fsspec URL).",
    )
    tags = serializers.ListField(child=StorableCharField(max_length=100), max_length=50, required=False, default=list)
    max_retries = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=0)
    scheduled_time = serializers.DateTimeField(required=False)
    idempotency_key = StorableCharField(max_length=255, required=False, allow_blank=True, default="")


class BackgroundSetStateSerializer(serializers.Serializer[dict[str, Any]]):
    worker_id = serializers.UUIDField()
    epoch = serializers.IntegerField(min_value=0)
    state = StateInputSerializer()


class BackgroundLogLineSerializer(serializers.Serializer[dict[str, Any]]):
    task_run_id = serializers.UUIDField()
    source = StorableCharField(  # type: ignore[assignment]  # a field named like Field.source
        max_length=64, required=False, default="task-worker"
    )
    seq = serializers.IntegerField(min_value=0, max_value=_SEQ_MAX)
    level = serializers.IntegerField(min_value=LOG_LEVEL_MIN, max_value=LOG_LEVEL_MAX)
    name = StorableCharField(max_length=255, required=False, allow_blank=True, default="")
    message = StorableCharField(allow_blank=True, trim_whitespace=False)
    timestamp = serializers.DateTimeField()


class BackgroundLogSerializer(serializers.ModelSerializer[Log]):
    class Meta:
        model = Log
        fields = ("id", "task_run_id", "source", "seq", "level", "name", "message", "timestamp")
        read_only_fields = fields


class BackgroundTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkspaceViewSet):
    """Background task runs: queued by `task.delay()`, run by `tether task-worker serve`."""

    serializer_class = BackgroundTaskSerializer
    scope_map = {"GET": Scope.WORKSPACE_READ, "POST": Scope.RUNS_WRITE}
    action_scopes = {"set_state": Scope.RUNS_CLAIM, "report_logs": Scope.RUNS_CLAIM}

    def safely_get_queryset(self) -> QuerySet[TaskRun]:
        return TaskRun.objects.filter(background=True).order_by("-created_at", "-id")

    @extend_schema(request=BackgroundTaskCreateSerializer, responses={201: BackgroundTaskSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue a task run for the task workers serving `task_key` (201; 200 for a repeated idempotency key).

        Arguments travel by reference (`parameters_ref`, a key in the caller's `result_storage`)
        or, when the caller marks them as metadata, as small JSON `parameters`.
        """
        data = BackgroundTaskCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        outcome = background_task_create(
            workspace=self.access.workspace,
            request=BackgroundTaskRequest(
                task_key=values["task_key"],
                name=values["name"],
                parameters=values["parameters"],
                parameters_ref=values["parameters_ref"],
                result_storage=values["result_storage"],
                tags=values["tags"],
                max_retries=values["max_retries"],
                scheduled_time=values.get("scheduled_time"),
                idempotency_key=values["idempotency_key"] or None,
            ),
        )
        code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        return Response(BackgroundTaskSerializer(outcome.run).data, status=code)

    @extend_schema(request=BackgroundSetStateSerializer, responses=OrchestrationResultSerializer)
    @action(detail=True, methods=["post"], url_path="set-state")
    def set_state(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A task worker's report: only the lease holder at the current epoch may report (409 otherwise)."""
        run = self.get_object()
        data = BackgroundSetStateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = background_task_set_state(
            run_id=run.pk, worker_id=values["worker_id"], epoch=values["epoch"], proposed=state_spec(values["state"])
        )
        return orchestration_response(result)

    @extend_schema(request=BackgroundLogLineSerializer(many=True), responses={201: None})
    @action(detail=False, methods=["post"], url_path="logs", pagination_class=None)
    def report_logs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Store a batch of log lines (a JSON array) of background task runs; re-sent lines are stored once."""
        body = request.data
        if not isinstance(body, list):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON array of log lines."]})
        if len(body) > LOG_BATCH_MAX_LINES:
            raise PayloadTooLarge(
                f"A log batch holds at most {LOG_BATCH_MAX_LINES} lines; this one has {len(body)}. Split it.",
                details={"limit_lines": LOG_BATCH_MAX_LINES, "lines": len(body)},
            )
        data = BackgroundLogLineSerializer(data=body, many=True)
        data.is_valid(raise_exception=True)
        lines = [BackgroundLogLine(**values) for values in data.validated_data]
        background_task_logs_ingest(workspace=self.access.workspace, lines=lines)
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(responses=BackgroundLogSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def logs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The run's log lines, oldest first (the first 1,000)."""
        run = self.get_object()
        lines = Log.objects.filter(flow_run__isnull=True, task_run_id=run.pk).order_by("timestamp", "id")
        return Response(BackgroundLogSerializer(lines[:LOG_READ_MAX], many=True).data)


class TaskWorkerClaimSerializer(serializers.Serializer[dict[str, Any]]):
    worker_id = serializers.UUIDField(help_text="Chosen by the worker at start; it holds the leases.")
    worker_name = StorableCharField(max_length=100)
    task_keys = serializers.ListField(child=StorableCharField(max_length=255), min_length=1, max_length=TASK_KEYS_MAX)
    capacity = serializers.IntegerField(min_value=0, max_value=CLAIM_CAPACITY_MAX, required=False, default=1)
    wait_seconds = serializers.FloatField(min_value=0, max_value=MAX_WAIT_SECONDS, required=False, default=0)


class ClaimedTaskRunSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    task_key = serializers.CharField()
    parameters = serializers.DictField()
    parameters_ref = serializers.CharField(allow_blank=True)
    result_storage = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    epoch = serializers.IntegerField()
    run_count = serializers.IntegerField()
    max_retries = serializers.IntegerField()
    lease_expires_at = serializers.DateTimeField()


class TaskWorkerTimingsSerializer(serializers.Serializer[Any]):
    heartbeat_seconds = serializers.IntegerField()
    lease_seconds = serializers.IntegerField()


class TaskWorkerClaimResultSerializer(serializers.Serializer[Any]):
    next_due_seconds = serializers.FloatField(
        allow_null=True,
        help_text="When nothing was claimed: seconds until a queued run falls due; null if none is queued.",
    )
    task_runs = ClaimedTaskRunSerializer(many=True)
    timings = TaskWorkerTimingsSerializer()
    retry_after_seconds = serializers.FloatField(
        help_text="0, or, when the server refused this long-poll its wait (too many waiting) and it claimed "
        "nothing: how long to wait before the next claim."
    )


class TaskWorkerHeartbeatRunSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField()
    epoch = serializers.IntegerField(min_value=0)


class TaskWorkerHeartbeatSerializer(serializers.Serializer[dict[str, Any]]):
    worker_id = serializers.UUIDField()
    runs = serializers.ListField(
        child=TaskWorkerHeartbeatRunSerializer(), required=False, default=list, max_length=HEARTBEAT_RUNS_MAX
    )


class TaskWorkerHeartbeatResultSerializer(serializers.Serializer[Any]):
    renewed = serializers.ListField(child=serializers.UUIDField())
    lost = serializers.ListField(child=serializers.UUIDField())


class TaskWorkerViewSet(WorkspaceViewSet):
    """The task-worker protocol: claim due background task runs under a lease, renew it."""

    scope_map = {"POST": Scope.RUNS_CLAIM}

    def safely_get_queryset(self) -> QuerySet[TaskRun]:
        return TaskRun.objects.none()

    @extend_schema(request=TaskWorkerClaimSerializer, responses=TaskWorkerClaimResultSerializer)
    @action(detail=False, methods=["post"], pagination_class=None)
    def claim(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Take up to `capacity` due runs of `task_keys`, each with a lease and a new epoch.

        With `wait_seconds` (≤ 30) and nothing due, the request waits until a run is queued or
        falls due, or the time is up (a long-poll). The answer carries the lease timings and,
        when nothing was claimed, `next_due_seconds`: how long until a queued run falls due
        (null if none is queued), for workers that wait on pushed wake-ups instead. A server
        holds only so many waiting claims at once: beyond that a long-poll answers at once, and
        when it claimed nothing `retry_after_seconds` (> 0) says how long to wait before claiming again.
        """
        data = TaskWorkerClaimSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        answer = background_tasks_claim_waiting(
            worker_id=values["worker_id"],
            worker_name=values["worker_name"],
            task_keys=values["task_keys"],
            capacity=values["capacity"],
            wait_seconds=values["wait_seconds"],
        )
        claimed = answer.task_runs
        timings = dispatch_timings()
        next_due = None if claimed else seconds_until_next_due(values["task_keys"])
        return Response(
            {
                "next_due_seconds": next_due,
                "retry_after_seconds": answer.retry_after_seconds,
                "task_runs": [
                    {
                        "id": str(item.run.id),
                        "name": item.run.name,
                        "task_key": item.run.task_key,
                        "parameters": item.run.parameters,
                        "parameters_ref": item.run.parameters_ref,
                        "result_storage": item.run.result_storage,
                        "tags": item.run.tags,
                        "epoch": item.run.epoch,
                        "run_count": item.run.run_count,
                        "max_retries": item.run.max_retries,
                        "lease_expires_at": item.lease_expires_at.isoformat().replace("+00:00", "Z"),
                    }
                    for item in claimed
                ],
                "timings": {"heartbeat_seconds": timings.heartbeat_seconds, "lease_seconds": timings.lease_seconds},
            }
        )

    @extend_schema(request=TaskWorkerHeartbeatSerializer, responses=TaskWorkerHeartbeatResultSerializer)
    @action(detail=False, methods=["post"], pagination_class=None)
    def heartbeat(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Renew every lease the worker holds at the reported epoch; lists the runs it lost."""
        data = TaskWorkerHeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = background_tasks_heartbeat(
            worker_id=values["worker_id"], runs=[(r["id"], r["epoch"]) for r in values["runs"]]
        )
        return Response({"renewed": [str(i) for i in result.renewed], "lost": [str(i) for i in result.lost]})
