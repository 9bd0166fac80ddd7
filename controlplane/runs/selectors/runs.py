"""Reads for flow runs and task runs: filters, ordering and counts the API and UI share."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, F, QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

from controlplane.core.errors import ValidationFailed
from controlplane.core.json_filters import having_all_tags
from controlplane.runs.models import FlowRun, TaskRun
from controlplane.runs.states import StateType

FLOW_RUN_ORDERINGS = {"-created": ("-created_at", "-id"), "created": ("created_at", "id")}

# What a run's payload is made of: its columns as `.values()` gives them, plus two names.
FLOW_RUN_ROW_COLUMNS = (
    "id",
    "name",
    "flow_id",
    "deployment_id",
    "state_type",
    "state_name",
    "state_timestamp",
    "state_message",
    "state_details",
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


def _datetime(params: QueryDict, name: str) -> Any:
    raw = params.get(name)
    if raw is None:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValidationFailed(f"{name} is not an ISO 8601 date-time.", details={name: raw})
    return value


def _uuids(param: str, values: list[str]) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(value) for value in values]
    except ValueError:
        raise ValidationFailed(f"{param} must be UUIDs.", details={param: values}) from None


def flow_run_rows(runs: QuerySet[FlowRun]) -> QuerySet[FlowRun, dict[str, Any]]:
    """Runs as FLOW_RUN_ROW_COLUMNS rows with their flow's and deployment's names (what lists show)."""
    rows: QuerySet[FlowRun, dict[str, Any]] = runs.values(
        *FLOW_RUN_ROW_COLUMNS, flow_name=F("flow__name"), deployment_name=F("deployment__name")
    )
    return rows


def flow_runs_filtered(params: QueryDict) -> QuerySet[FlowRun]:
    """The current workspace's flow runs narrowed by query parameters (unknown values are a 422)."""
    runs = FlowRun.objects.select_related("flow", "deployment")
    state_types = [value for value in params.getlist("state_type") for value in value.split(",") if value]
    unknown = set(state_types) - set(StateType.values)
    if unknown:
        raise ValidationFailed("Unknown state types.", details={"state_type": sorted(unknown)})
    if state_types:
        runs = runs.filter(state_type__in=state_types)
    if names := [value for value in params.getlist("state_name") if value]:
        runs = runs.filter(state_name__in=names)
    for field, param in (
        ("deployment_id", "deployment_id"),
        ("flow_id", "flow_id"),
        ("parent_task_run_id", "parent_task_run_id"),
        ("work_pool_id", "work_pool_id"),
    ):
        if values := params.getlist(param):
            runs = runs.filter(**{f"{field}__in": _uuids(param, values)})
    runs = having_all_tags(runs, "tags", params.getlist("tag"))
    for param, lookup in (
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lt"),
        ("expected_start_after", "expected_start_time__gte"),
        ("expected_start_before", "expected_start_time__lt"),
    ):
        if (value := _datetime(params, param)) is not None:
            runs = runs.filter(**{lookup: value})
    return runs


def flow_run_counts_by_state(runs: QuerySet[FlowRun]) -> dict[str, int]:
    counts = {state: 0 for state in StateType.values}
    for row in runs.order_by().values("state_type").annotate(total=Count("id")):
        counts[row["state_type"]] = row["total"]
    return counts


def task_runs_for(params: QueryDict) -> QuerySet[TaskRun]:
    runs = TaskRun.objects.all()
    if flow_run_ids := params.getlist("flow_run_id"):
        runs = runs.filter(flow_run_id__in=_uuids("flow_run_id", flow_run_ids))
    if state_types := params.getlist("state_type"):
        runs = runs.filter(state_type__in=state_types)
    background = params.get("background")
    if background is not None:
        if background not in ("true", "false"):
            raise ValidationFailed("background must be true or false.", details={"background": background})
        runs = runs.filter(background=background == "true")
    if task_key := params.get("task_key"):
        runs = runs.filter(task_key=task_key)
    if task_name := params.get("task_name", "").strip():
        runs = runs.filter(name__icontains=task_name)
    return runs
