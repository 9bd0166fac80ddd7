"""Run logs: batched ingestion by the engine and agent, and per-run reading for the UI and CLI."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.core.errors import PayloadTooLarge
from controlplane.orgs.api.base import WorkspaceViewSet
from controlplane.orgs.roles import Scope
from controlplane.runs.api.fields import StorableCharField
from controlplane.runs.api.pagination import TimeKeysetPagination
from controlplane.runs.models import Log
from controlplane.runs.selectors.logs import flow_run_in_workspace, logs_of_flow_run
from controlplane.runs.services.logs import (
    LOG_BATCH_MAX_LINES,
    LOG_LEVEL_MAX,
    LOG_LEVEL_MIN,
    LOG_SOURCE_DEFAULT,
    LogLine,
    logs_ingest,
)

LOG_PAGE_SIZE = 200
LOG_MAX_PAGE_SIZE = 1_000  # one ingestion batch's worth: a follower catches up in one request
LOG_SEARCH_MAX_LENGTH = 200
_SEQ_MAX = 2**63 - 1


class LogLineInputSerializer(serializers.Serializer[dict[str, Any]]):
    flow_run_id = serializers.UUIDField()
    task_run_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    source = StorableCharField(  # type: ignore[assignment]  # a field named like Field.source
        max_length=64, required=False, default=LOG_SOURCE_DEFAULT
    )
    seq = serializers.IntegerField(min_value=0, max_value=_SEQ_MAX)
    level = serializers.IntegerField(min_value=LOG_LEVEL_MIN, max_value=LOG_LEVEL_MAX)
    name = StorableCharField(max_length=255, required=False, allow_blank=True, default="")
    # The byte limit is the service's (a 422 naming it); this only keeps text storable.
    message = StorableCharField(allow_blank=True, trim_whitespace=False)
    timestamp = serializers.DateTimeField()


class LogBatchResultSerializer(serializers.Serializer[Any]):
    accepted = serializers.IntegerField(help_text="Lines stored by this request.")
    duplicates = serializers.IntegerField(help_text="Lines already stored (a re-sent batch): not stored again.")


class LogSerializer(serializers.ModelSerializer[Log]):
    class Meta:
        model = Log
        fields = ("id", "flow_run_id", "task_run_id", "source", "seq", "level", "name", "message", "timestamp")
        read_only_fields = fields


class LogFilterSerializer(serializers.Serializer[dict[str, Any]]):
    level = serializers.IntegerField(required=False, min_value=0, max_value=LOG_LEVEL_MAX)
    task_run_id = serializers.UUIDField(required=False)
    q = StorableCharField(required=False, max_length=LOG_SEARCH_MAX_LENGTH, trim_whitespace=False)


class LogPagination(TimeKeysetPagination):
    page_size = LOG_PAGE_SIZE
    max_page_size = LOG_MAX_PAGE_SIZE


class LogViewSet(WorkspaceViewSet):
    """Log ingestion: the engine and agent send a run's lines in batches."""

    serializer_class = LogSerializer
    scope_map = {"POST": Scope.RUNS_REPORT}

    def safely_get_queryset(self) -> QuerySet[Log]:
        return Log.objects.none()

    @extend_schema(request=LogLineInputSerializer(many=True), responses={201: LogBatchResultSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Store a batch of log lines (a JSON array), all or none.

        At most 1,000 lines and 1 MiB of messages per batch (413 naming the limit), 32 KiB
        per message (422 naming the limit and the line's index). Every `flow_run_id` must be
        a flow run of this workspace (404, nothing stored). Lines are identified by
        (`flow_run_id`, `source`, `seq`): re-sending a batch stores nothing twice and answers
        201 again, with the re-sent lines counted as `duplicates`.
        """
        body = request.data
        if not isinstance(body, list):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON array of log lines."]}, code="not_a_list"
            )
        if len(body) > LOG_BATCH_MAX_LINES:
            # Before validating anything: a million-line body is refused without a million serializers.
            raise PayloadTooLarge(
                f"A log batch holds at most {LOG_BATCH_MAX_LINES} lines; this one has {len(body)}. Split it.",
                details={"limit_lines": LOG_BATCH_MAX_LINES, "lines": len(body)},
            )
        data = LogLineInputSerializer(data=body, many=True)
        if not data.is_valid():
            # Only the lines in error, by index, whichever of its two shapes DRF reports them in.
            found = data.errors
            pairs = found.items() if isinstance(found, dict) else enumerate(found)
            raise serializers.ValidationError({"lines": {str(index): error for index, error in pairs if error}})
        lines = [LogLine(**values) for values in data.validated_data]
        result = logs_ingest(workspace=self.access.workspace, lines=lines)
        body_out = LogBatchResultSerializer({"accepted": result.accepted, "duplicates": result.duplicates}).data
        return Response(body_out, status=status.HTTP_201_CREATED)


class FlowRunLogViewSet(WorkspaceViewSet):
    """A flow run's log lines, oldest first, with cursor paging."""

    serializer_class = LogSerializer
    pagination_class = LogPagination
    scope_map = {"GET": Scope.WORKSPACE_READ}

    def safely_get_queryset(self) -> QuerySet[Log]:
        flow_run = flow_run_in_workspace(workspace=self.access.workspace, flow_run_id=self.kwargs["flow_run_id"])
        filters = LogFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        return logs_of_flow_run(
            flow_run=flow_run,
            min_level=values.get("level"),
            task_run_id=values.get("task_run_id"),
            search=values.get("q"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("level", int, description="Minimum level (10 DEBUG … 50 CRITICAL)."),
            OpenApiParameter("task_run_id", str, description="Only this task run's lines."),
            OpenApiParameter("q", str, description="Case-insensitive substring of the message."),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Lines per page: {LOG_PAGE_SIZE} by default, at most {LOG_MAX_PAGE_SIZE}.",
            ),
            OpenApiParameter("cursor", str, description="From a `next` or `previous` link."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Log lines of a flow run, oldest first (by timestamp, then arrival).

        `next` is null only on an empty page: following the last `next` later returns the
        lines that arrived since, so a client pages and tails with one loop.
        """
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LogSerializer(page, many=True).data)
