"""Writes for flows, deployments and variables."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from controlplane.core.errors import ValidationFailed, unique_or_conflict
from controlplane.flows.models import Variable
from controlplane.orgs.models import Workspace

VARIABLE_VALUE_MAX_BYTES = 64 * 1024


def _check_value_size(value: Any) -> None:
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > VARIABLE_VALUE_MAX_BYTES:
        raise ValidationFailed(
            f"A variable's value is limited to {VARIABLE_VALUE_MAX_BYTES} bytes of JSON; this one is {size}.",
            details={"limit_bytes": VARIABLE_VALUE_MAX_BYTES},
        )


@transaction.atomic
def variable_create(*, workspace: Workspace, name: str, value: Any, tags: list[str]) -> Variable:
    _check_value_size(value)
    with unique_or_conflict(f"A variable named {name!r} already exists.", field="name"):
        variable: Variable = Variable.objects.create(workspace=workspace, name=name, value=value, tags=tags)
    return variable


@transaction.atomic
def variable_update(*, variable: Variable, **changes: Any) -> Variable:
    if "value" in changes:
        _check_value_size(changes["value"])
    for field, value in changes.items():
        setattr(variable, field, value)
    with unique_or_conflict(f"A variable named {variable.name!r} already exists.", field="name"):
        variable.save(update_fields=[*changes, "updated_at"])
    return variable


@transaction.atomic
def variable_delete(*, variable: Variable) -> None:
    variable.delete()
