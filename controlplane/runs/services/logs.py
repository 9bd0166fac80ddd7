"""Log ingestion: a batch of lines from the engine or agent, stored in one INSERT, re-sendable.

The sender numbers its lines (`seq`, per flow run and `source`); a batch re-sent after a
timeout or a network partition stores nothing twice and gets the same answer, so clients
retry freely (RELIABILITY 37). Limits are module constants, documented in docs/api.md and
docs/decisions/0008-log-limits.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db import connection, transaction

from controlplane.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from controlplane.orgs.models import Workspace
from controlplane.realtime.live import logs_added_on_commit
from controlplane.runs.models import FlowRun, Log, LogLevel

LOG_BATCH_MAX_LINES = 1_000
LOG_BATCH_MAX_MESSAGE_BYTES = 1024 * 1024  # the sum of the batch's messages, UTF-8 encoded
LOG_MESSAGE_MAX_BYTES = 32 * 1024  # one message, UTF-8 encoded
LOG_SOURCE_DEFAULT = "engine"
LOG_LEVEL_MIN = LogLevel.DEBUG.value
LOG_LEVEL_MAX = LogLevel.CRITICAL.value


@dataclass(frozen=True)
class LogLine:
    """One line as a sender reports it (validated for shape by the API)."""

    flow_run_id: uuid.UUID
    seq: int
    level: int
    message: str
    timestamp: datetime
    task_run_id: uuid.UUID | None = None
    source: str = LOG_SOURCE_DEFAULT
    name: str = ""


@dataclass(frozen=True)
class LogBatchResult:
    accepted: int  # lines stored by this call
    duplicates: int  # lines already stored (same flow run, source and seq): a re-send


def _check_limits(lines: Sequence[LogLine]) -> None:
    if len(lines) > LOG_BATCH_MAX_LINES:
        raise PayloadTooLarge(
            f"A log batch holds at most {LOG_BATCH_MAX_LINES} lines; this one has {len(lines)}. Split it.",
            details={"limit_lines": LOG_BATCH_MAX_LINES, "lines": len(lines)},
        )
    total = 0
    for index, line in enumerate(lines):
        size = len(line.message.encode())
        if size > LOG_MESSAGE_MAX_BYTES:
            raise ValidationFailed(
                f"Log line {index}: a message is limited to {LOG_MESSAGE_MAX_BYTES} bytes (UTF-8); "
                f"this one is {size}. Truncate it before sending.",
                details={"index": index, "limit_bytes": LOG_MESSAGE_MAX_BYTES, "message_bytes": size},
            )
        total += size
    if total > LOG_BATCH_MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"A log batch holds at most {LOG_BATCH_MAX_MESSAGE_BYTES} bytes of messages (UTF-8); "
            f"this one has {total}. Split it.",
            details={"limit_bytes": LOG_BATCH_MAX_MESSAGE_BYTES, "message_bytes": total},
        )


def _check_flow_runs(workspace: Workspace, lines: Sequence[LogLine]) -> None:
    wanted = {line.flow_run_id for line in lines}
    # Another tenant's run is simply not found: the same answer as for an id that does not exist.
    found = set(FlowRun.objects.filter(workspace=workspace, id__in=wanted).values_list("id", flat=True))
    unknown = wanted - found
    if unknown:
        raise NotFound(
            "Flow run not found in this workspace; no line of the batch was stored.",
            details={"flow_run_ids": sorted(str(run_id) for run_id in unknown)},
        )


# unnest() turns one array per column into rows: one statement and ten parameters, whatever
# the batch size. ON CONFLICT DO NOTHING skips lines already stored (and repeats inside the batch).
_INSERT = f"""
INSERT INTO "{Log._meta.db_table}"
    ("workspace_id", "flow_run_id", "task_run_id", "source", "seq", "level", "name", "message", "timestamp")
SELECT %s::uuid, *
FROM unnest(
    %s::uuid[], %s::uuid[], %s::varchar[], %s::bigint[], %s::smallint[], %s::varchar[], %s::text[], %s::timestamptz[]
)
ON CONFLICT ("flow_run_id", "source", "seq") DO NOTHING
"""  # noqa: S608 - the only interpolation is the model's own table name


@transaction.atomic
def logs_ingest(*, workspace: Workspace, lines: Sequence[LogLine]) -> LogBatchResult:
    """Store a batch of log lines of the workspace's flow runs, all or none, in one INSERT.

    Raises PayloadTooLarge (413) over the line or byte limits, ValidationFailed (422) for a
    message over its limit, NotFound (404) when a flow run is not in the workspace.
    """
    _check_limits(lines)
    if not lines:
        return LogBatchResult(accepted=0, duplicates=0)
    _check_flow_runs(workspace, lines)
    logs_added_on_commit(workspace_id=workspace.id, flow_run_ids={line.flow_run_id for line in lines})
    rows = [
        (line.flow_run_id, line.task_run_id, line.source, line.seq, line.level, line.name, line.message, line.timestamp)
        for line in lines
    ]
    if connection.vendor != "postgresql":
        return _ingest_portably(workspace, lines)
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [workspace.id, *columns])
        accepted = cursor.rowcount
    return LogBatchResult(accepted=accepted, duplicates=len(lines) - accepted)


def _ingest_portably(workspace: Workspace, lines: Sequence[LogLine]) -> LogBatchResult:
    """The embedded mode's SQLite: the same de-duplication, counted before a plain bulk insert.

    Correct there because SQLite runs one writer at a time (IMMEDIATE transactions).
    """
    keys = {(line.flow_run_id, line.source, line.seq) for line in lines}
    stored = set(
        Log.objects.filter(flow_run_id__in={key[0] for key in keys}, seq__in={key[2] for key in keys}).values_list(
            "flow_run_id", "source", "seq"
        )
    )
    fresh: dict[tuple[object, str, int], LogLine] = {}
    for line in lines:
        key = (line.flow_run_id, line.source, line.seq)
        if key not in stored:
            fresh.setdefault(key, line)
    Log.objects.bulk_create(log_row(workspace, line, flow_run_id=line.flow_run_id) for line in fresh.values())
    return LogBatchResult(accepted=len(fresh), duplicates=len(lines) - len(fresh))


class LineFields(Protocol):
    """What a row needs from a line: flow-run lines and background task-run lines both have it."""

    @property
    def task_run_id(self) -> uuid.UUID | None: ...
    @property
    def source(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def level(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...


def log_row(workspace: Workspace, line: LineFields, *, flow_run_id: uuid.UUID | None) -> Log:
    """The row for a validated line (background task runs have no flow run)."""
    return Log(
        workspace=workspace,
        flow_run_id=flow_run_id,
        task_run_id=line.task_run_id,
        source=line.source,
        seq=line.seq,
        level=line.level,
        name=line.name,
        message=line.message,
        timestamp=line.timestamp,
    )
