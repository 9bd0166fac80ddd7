"""Work pools (where runs execute) and their queues (how claims are ordered)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from controlplane.core.models import WorkspaceOwnedModel


class WorkPoolType(models.TextChoices):
    PROCESS = "process"
    DOCKER = "docker"
    KUBERNETES = "kubernetes"
    ECS = "ecs"
    CLOUD_RUN = "cloud-run"
    ACI = "aci"


class WorkPool(WorkspaceOwnedModel):
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=32, choices=WorkPoolType.choices, default=WorkPoolType.PROCESS)
    description = models.CharField(max_length=500, blank=True)
    base_job_template = models.JSONField(default=dict, blank=True)
    concurrency_limit = models.PositiveIntegerField(null=True, blank=True)
    paused = models.BooleanField(default=False)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="work_pool_name_unique_in_workspace")
        ]

    def __str__(self) -> str:
        return self.name


class WorkQueue(WorkspaceOwnedModel):
    """Claims take runs from higher-priority queues first (1 is the highest)."""

    pool = models.ForeignKey(WorkPool, on_delete=models.CASCADE, related_name="queues")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    priority = models.PositiveIntegerField(default=1)
    concurrency_limit = models.PositiveIntegerField(null=True, blank=True)
    paused = models.BooleanField(default=False)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["pool", "name"], name="work_queue_name_unique_in_pool")
        ]

    def __str__(self) -> str:
        return f"{self.pool.name}/{self.name}"


class Agent(WorkspaceOwnedModel):
    """A process that claims and executes a pool's runs. It says hello with a name; saying
    hello again with the same name and pool reuses the row, so restarts keep one identity."""

    name = models.CharField(max_length=100)
    pool = models.ForeignKey(WorkPool, on_delete=models.CASCADE, related_name="agents")
    # Queue names served; empty means every queue of the pool.
    queues = models.JSONField(default=list, blank=True)
    capacity = models.PositiveIntegerField(default=1)
    version = models.CharField(max_length=64, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [models.UniqueConstraint(fields=["pool", "name"], name="agent_name_unique_in_pool")]

    def __str__(self) -> str:
        return self.name
