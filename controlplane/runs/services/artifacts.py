"""Artifacts: small user-facing summaries a run publishes (markdown, a table, a link).

They are metadata, like logs: results never live on the server, so the data is capped.
A keyed artifact keeps every version; the newest of a key is its current one.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction

from controlplane.core.errors import ValidationFailed
from controlplane.orgs.models import Workspace
from controlplane.runs.models import Artifact, ArtifactType
from controlplane.runs.selectors.logs import flow_run_in_workspace

ARTIFACT_DATA_MAX_BYTES = 1024 * 1024  # `data` as compact JSON, UTF-8
ARTIFACT_LINK_MAX_LENGTH = 2_048
ARTIFACT_KEY_PATTERN = re.compile(r"\A[a-z0-9][a-z0-9-]*\Z")  # as Prefect: lowercase letters, digits, dashes
ARTIFACT_KEY_MAX_LENGTH = 255

_CELL_TYPES = (str, int, float, bool, type(None))
_link_validator = URLValidator(schemes=["http", "https"])


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"data": [message]})


def _check_markdown(data: Any) -> None:
    if not isinstance(data, str):
        raise _invalid("A markdown artifact's data is a string of markdown.")


def _check_link(data: Any) -> None:
    if not isinstance(data, str) or len(data) > ARTIFACT_LINK_MAX_LENGTH:
        raise _invalid(f"A link artifact's data is a URL of at most {ARTIFACT_LINK_MAX_LENGTH} characters.")
    try:
        _link_validator(data)
    except DjangoValidationError:
        raise _invalid("A link artifact's data must be an http:// or https:// URL.") from None


def _check_table(data: Any) -> None:
    shape = "A table artifact's data is a list of rows: all objects ({column: value}) or all lists of values."
    if not isinstance(data, list):
        raise _invalid(shape)
    if all(isinstance(row, dict) for row in data):
        cells = [cell for row in data for cell in row.values()]
    elif all(isinstance(row, list) for row in data):
        cells = [cell for row in data for cell in row]
    else:
        raise _invalid(shape)
    if not all(isinstance(cell, _CELL_TYPES) for cell in cells):
        raise _invalid("A table's cells are strings, numbers, booleans or null.")


_CHECKS = {ArtifactType.MARKDOWN: _check_markdown, ArtifactType.TABLE: _check_table, ArtifactType.LINK: _check_link}


def _check_size(data: Any) -> None:
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    if size > ARTIFACT_DATA_MAX_BYTES:
        raise ValidationFailed(
            f"An artifact's data is limited to {ARTIFACT_DATA_MAX_BYTES} bytes of JSON; this one is {size}. "
            "Artifacts are summaries: keep results in your own storage and link to them.",
            details={"limit_bytes": ARTIFACT_DATA_MAX_BYTES, "data_bytes": size},
        )


@transaction.atomic
def artifact_create(
    *,
    workspace: Workspace,
    type: str,
    data: Any,
    key: str | None = None,
    description: str = "",
    flow_run_id: uuid.UUID | None = None,
    task_run_id: uuid.UUID | None = None,
) -> Artifact:
    """A new artifact (or a new version of `key`). 422 for data that does not fit its type or limit."""
    if type not in _CHECKS:
        raise ValidationFailed(f"Unknown artifact type {type!r}.", details={"type": sorted(_CHECKS)})
    if key is not None and (len(key) > ARTIFACT_KEY_MAX_LENGTH or not ARTIFACT_KEY_PATTERN.match(key)):
        raise ValidationFailed("An artifact key is lowercase letters, digits and dashes.", details={"key": [key]})
    _check_size(data)
    _CHECKS[ArtifactType(type)](data)
    flow_run = flow_run_in_workspace(workspace=workspace, flow_run_id=flow_run_id) if flow_run_id else None
    artifact: Artifact = Artifact.objects.create(
        workspace=workspace,
        key=key,
        type=type,
        description=description,
        data=data,
        flow_run=flow_run,
        task_run_id=task_run_id,
    )
    return artifact


@transaction.atomic
def artifact_delete(*, artifact: Artifact) -> None:
    """Delete one version (the previous version of its key becomes the latest)."""
    artifact.delete()
