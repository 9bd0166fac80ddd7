from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from controlplane.runs.models import FlowRun, FlowRunState, TaskRun, TaskRunState
from controlplane.runs.orchestration.context import OrchestrationResult, StateSpec
from controlplane.runs.selectors.runs import FLOW_RUN_ROW_COLUMNS
from controlplane.runs.states import NAMED_STATE_TYPES, StateType

STATE_DETAIL_KEYS = 50


class StateInputSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.ChoiceField(choices=StateType.choices)
    name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    message = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    details = serializers.DictField(required=False)
    timestamp = serializers.DateTimeField(required=False)

    def validate_details(self, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > STATE_DETAIL_KEYS:
            raise serializers.ValidationError(f"At most {STATE_DETAIL_KEYS} keys.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.get("name")
        expected = NAMED_STATE_TYPES.get(name or "")
        if expected is not None and expected != attrs["type"]:
            raise serializers.ValidationError({"name": [f"{name} is a {expected} state."]})
        return attrs


def state_spec(data: dict[str, Any]) -> StateSpec:
    return StateSpec(
        type=data["type"],
        name=data.get("name") or "",
        message=data.get("message", ""),
        details=data.get("details", {}),
        timestamp=data.get("timestamp"),
    )


class StateOutputSerializer(serializers.Serializer[StateSpec]):
    type = serializers.CharField()
    name = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class OrchestrationResultSerializer(serializers.Serializer[OrchestrationResult]):
    status = serializers.CharField()
    state = StateOutputSerializer()
    reason = serializers.CharField()
    delay_seconds = serializers.FloatField(allow_null=True)


class FlowRunSerializer(serializers.ModelSerializer[FlowRun]):
    flow_name = serializers.CharField(source="flow.name", read_only=True)
    deployment_name = serializers.CharField(source="deployment.name", read_only=True, default=None)
    state = serializers.SerializerMethodField()

    class Meta:
        model = FlowRun
        fields = (
            "id",
            "name",
            "flow_id",
            "flow_name",
            "deployment_id",
            "deployment_name",
            "state",
            "state_type",
            "state_name",
            "parameters",
            "tags",
            "idempotency_key",
            "parent_task_run_id",
            "work_pool_id",
            "work_queue_id",
            "job_variables",
            "expected_start_time",
            "next_scheduled_start_time",
            "start_time",
            "end_time",
            "total_run_time",
            "run_count",
            "max_retries",
            "epoch",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_state(self, run: FlowRun) -> dict[str, Any]:
        return {
            "type": run.state_type,
            "name": run.state_name,
            "timestamp": run.state_timestamp,
            "message": run.state_message,
            "details": run.state_details,
        }

    def to_representation(self, instance: FlowRun) -> dict[str, Any]:
        """The same dict as the declared fields give (a test holds them equal), built directly:
        runs are the hottest payload (every create, every list of 200), and DRF's per-field
        machinery costs more than the query that loaded them."""
        run = instance
        row = {column: getattr(run, column) for column in FLOW_RUN_ROW_COLUMNS}
        row["flow_name"] = run.flow.name
        row["deployment_name"] = run.deployment.name if run.deployment_id and run.deployment else None
        return flow_run_row_representation(row)


def flow_run_row_representation(row: Mapping[str, Any]) -> dict[str, Any]:
    """FlowRunSerializer's payload from a row of FLOW_RUN_ROW_COLUMNS, `flow_name` and `deployment_name`.

    Lists build it from `.values()` rows: a page of 200 runs spent a third of its time making
    model instances it only read attributes from.
    """
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "flow_id": _text(row["flow_id"]),
        "flow_name": row["flow_name"],
        "deployment_id": _text(row["deployment_id"]),
        "deployment_name": row["deployment_name"],
        "state": {
            "type": row["state_type"],
            "name": row["state_name"],
            "timestamp": row["state_timestamp"],
            "message": row["state_message"],
            "details": row["state_details"],
        },
        "state_type": row["state_type"],
        "state_name": row["state_name"],
        "parameters": row["parameters"],
        "tags": row["tags"],
        "idempotency_key": row["idempotency_key"],
        "parent_task_run_id": _text(row["parent_task_run_id"]),
        "work_pool_id": _text(row["work_pool_id"]),
        "work_queue_id": _text(row["work_queue_id"]),
        "job_variables": row["job_variables"],
        "expected_start_time": _instant(row["expected_start_time"]),
        "next_scheduled_start_time": _instant(row["next_scheduled_start_time"]),
        "start_time": _instant(row["start_time"]),
        "end_time": _instant(row["end_time"]),
        "total_run_time": row["total_run_time"],
        "run_count": row["run_count"],
        "max_retries": row["max_retries"],
        "epoch": row["epoch"],
        "created_at": _instant(row["created_at"]),
        "updated_at": _instant(row["updated_at"]),
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _instant(value: datetime | None) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in UTC, with a Z."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class FlowRunCreateSerializer(serializers.Serializer[dict[str, Any]]):
    deployment_id = serializers.UUIDField(required=False)
    flow_name = serializers.CharField(max_length=255, required=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    parameters = serializers.DictField(required=False, default=dict)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False, default=list
    )
    state = StateInputSerializer(required=False)
    parent_task_run_id = serializers.UUIDField(required=False, allow_null=True)
    job_variables = serializers.DictField(required=False, default=dict)
    idempotency_key = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("deployment_id" in attrs) == ("flow_name" in attrs):
            raise serializers.ValidationError("Give exactly one of deployment_id or flow_name.")
        return attrs


class SetStateSerializer(serializers.Serializer[dict[str, Any]]):
    state = StateInputSerializer()
    force = serializers.BooleanField(default=False)
    epoch = serializers.IntegerField(required=False, min_value=0)


class IdsSerializer(serializers.Serializer[dict[str, Any]]):
    ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)


class BatchOutcomeSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class StateHistorySerializer(serializers.ModelSerializer[FlowRunState]):
    class Meta:
        model = FlowRunState
        fields = ("id", "type", "name", "timestamp", "message", "details")
        read_only_fields = fields


class TaskRunStateHistorySerializer(serializers.ModelSerializer[TaskRunState]):
    class Meta:
        model = TaskRunState
        fields = ("id", "type", "name", "timestamp", "message", "details")
        read_only_fields = fields


class TaskRunSerializer(serializers.ModelSerializer[TaskRun]):
    class Meta:
        model = TaskRun
        fields = (
            "id",
            "flow_run_id",
            "name",
            "task_key",
            "dynamic_key",
            "cache_key",
            "tags",
            "state_type",
            "state_name",
            "state_timestamp",
            "state_message",
            "run_count",
            "max_retries",
            "start_time",
            "end_time",
            "total_run_time",
            "task_inputs",
            "background",
            "worker_name",
            "created_at",
        )
        read_only_fields = fields


class TaskRunReportSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField()
    flow_run_id = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    task_key = serializers.CharField(max_length=255, required=False, allow_blank=True)
    dynamic_key = serializers.CharField(max_length=255, required=False, allow_blank=True)
    cache_key = serializers.CharField(max_length=255, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), max_length=50, required=False)
    max_retries = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    task_inputs = serializers.DictField(required=False)
    state = StateInputSerializer()


class TaskRunBatchSerializer(serializers.Serializer[dict[str, Any]]):
    task_runs = TaskRunReportSerializer(many=True, max_length=1000)  # type: ignore[call-arg]
