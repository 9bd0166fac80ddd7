"""Reads for run logs: one flow run's lines, oldest first, narrowed by level, task run and text.

(A module beside `selectors.py` rather than `selectors/logs.py` while `selectors.py` is a module.)
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from controlplane.core.errors import NotFound
from controlplane.orgs.models import Workspace
from controlplane.runs.models import FlowRun, Log

LOG_ORDERING = ("timestamp", "id")


def flow_run_in_workspace(*, workspace: Workspace, flow_run_id: uuid.UUID) -> FlowRun:
    """The flow run named in a URL or body; another tenant's run answers 404 like a missing one."""
    flow_run: FlowRun | None = FlowRun.objects.filter(workspace=workspace, id=flow_run_id).first()
    if flow_run is None:
        raise NotFound("Flow run not found.")
    return flow_run


def logs_of_flow_run(
    *,
    flow_run: FlowRun,
    min_level: int | None = None,
    task_run_id: uuid.UUID | None = None,
    search: str | None = None,
) -> QuerySet[Log]:
    """A flow run's log lines, oldest first (`timestamp`, then arrival order for equal times).

    `min_level` keeps lines at or above a level; `search` is a case-insensitive substring
    of the message.
    """
    logs = Log.objects.filter(workspace_id=flow_run.workspace_id, flow_run=flow_run)
    if min_level is not None:
        logs = logs.filter(level__gte=min_level)
    if task_run_id is not None:
        logs = logs.filter(task_run_id=task_run_id)
    if search:
        logs = logs.filter(message__icontains=search)
    return logs.order_by(*LOG_ORDERING)
