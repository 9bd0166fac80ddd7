"""Reads for artifacts: versions of a key, the latest of each key, filters.

(A module beside `selectors.py` rather than `selectors/artifacts.py` while `selectors.py` is a module.)
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from controlplane.core.errors import NotFound
from controlplane.orgs.models import Workspace
from controlplane.runs.models import Artifact

# Newest first; the id breaks ties between versions created in the same microsecond.
ARTIFACT_NEWEST_FIRST = ("-created_at", "-id")


def artifacts_filtered(
    *,
    workspace: Workspace,
    key: str | None = None,
    flow_run_id: uuid.UUID | None = None,
    task_run_id: uuid.UUID | None = None,
    type: str | None = None,
) -> QuerySet[Artifact]:
    """The workspace's artifacts, newest first (every version of a key when `key` is given)."""
    artifacts = Artifact.objects.filter(workspace=workspace)
    if key is not None:
        artifacts = artifacts.filter(key=key)
    if flow_run_id is not None:
        artifacts = artifacts.filter(flow_run_id=flow_run_id)
    if task_run_id is not None:
        artifacts = artifacts.filter(task_run_id=task_run_id)
    if type is not None:
        artifacts = artifacts.filter(type=type)
    return artifacts.order_by(*ARTIFACT_NEWEST_FIRST)


def artifact_latest(*, workspace: Workspace, key: str) -> Artifact:
    """The newest version of `key`; 404 when the key has none."""
    artifact: Artifact | None = artifacts_filtered(workspace=workspace, key=key).first()
    if artifact is None:
        raise NotFound("No artifact with this key.")
    return artifact


def artifact_keys_latest(*, workspace: Workspace) -> QuerySet[Artifact]:
    """The newest version of every key, ordered by key: one query (DISTINCT ON in a subquery).

    The DISTINCT ON sits in a subquery so that callers may order and page the outer query
    freely (a cursor reversing the order of a bare DISTINCT ON would pick the oldest version).
    """
    keyed = Artifact.objects.filter(workspace=workspace, key__isnull=False)
    if connection.vendor == "postgresql":
        newest_of_each_key = keyed.order_by("key", *ARTIFACT_NEWEST_FIRST).distinct("key").values("id")
    else:
        # SQLite (the embedded mode) has no DISTINCT ON: the newest id per key by a correlated subquery.
        newest = keyed.filter(key=OuterRef("key")).order_by(*ARTIFACT_NEWEST_FIRST).values("id")[:1]
        newest_of_each_key = keyed.filter(id=Subquery(newest)).values("id")
    return Artifact.objects.filter(workspace=workspace, id__in=newest_of_each_key).order_by("key")
