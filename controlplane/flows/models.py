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


class Flow(WorkspaceOwnedModel):
    name = models.CharField(max_length=255)
    tags = models.JSONField(default=list, blank=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="flow_name_unique_in_workspace")
        ]

    def __str__(self) -> str:
        return self.name


class CollisionStrategy(models.TextChoices):
    ENQUEUE = "ENQUEUE"
    CANCEL_NEW = "CANCEL_NEW"


class Deployment(WorkspaceOwnedModel):
    """How to run a flow: where its code is, with which parameters, on which pool."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="deployments")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    version = models.CharField(max_length=100, blank=True)
    entrypoint = models.CharField(max_length=1000)
    source = models.JSONField(default=dict, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    parameter_schema = models.JSONField(default=dict, blank=True)
    enforce_parameter_schema = models.BooleanField(default=True)
    work_pool = models.ForeignKey(
        "workpools.WorkPool", null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    work_queue = models.ForeignKey(
        "workpools.WorkQueue", null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    tags = models.JSONField(default=list, blank=True)
    job_variables = models.JSONField(default=dict, blank=True)
    paused = models.BooleanField(default=False)
    concurrency_limit = models.PositiveIntegerField(null=True, blank=True)
    collision_strategy = models.CharField(
        max_length=16, choices=CollisionStrategy.choices, default=CollisionStrategy.ENQUEUE
    )
    retries = models.PositiveIntegerField(default=0)
    retry_delay_seconds = models.PositiveIntegerField(default=0)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["flow", "name"], name="deployment_name_unique_in_flow")
        ]

    def __str__(self) -> str:
        return f"{self.flow.name}/{self.name}"


class ScheduleKind(models.TextChoices):
    CRON = "cron"
    INTERVAL = "interval"
    RRULE = "rrule"


class DeploymentSchedule(WorkspaceOwnedModel):
    """One of a deployment's schedules; the scheduler keeps a horizon of runs for each active one."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="schedules")
    kind = models.CharField(max_length=16, choices=ScheduleKind.choices)
    cron = models.CharField(max_length=255, blank=True)
    day_or = models.BooleanField(default=True)
    interval_seconds = models.FloatField(default=0)
    anchor = models.DateTimeField(null=True, blank=True)
    rrule = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    active = models.BooleanField(default=True)
    parameters = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} schedule of {self.deployment_id}"
