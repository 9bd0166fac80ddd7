"""Flows, deployments, schedules and workspace variables."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import RegexValidator
from django.db import models

from controlplane.core.models import WorkspaceOwnedModel

variable_name_validator = RegexValidator(
    r"^[a-z0-9_][a-z0-9_-]{0,254}$", "Use lowercase letters, digits, underscores and hyphens (at most 255)."
)


class Variable(WorkspaceOwnedModel):
    """A named JSON value flows read at run time (`tether.variables.get("name")`)."""

    name = models.CharField(max_length=255, validators=[variable_name_validator])
    value = models.JSONField()
    tags = models.JSONField(default=list, blank=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="variable_name_unique_in_workspace")
        ]
