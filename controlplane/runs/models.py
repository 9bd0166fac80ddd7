"""Flow runs, task runs, their state histories, logs and artifacts."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from controlplane.core.managers import WorkspaceScopedManager
from controlplane.core.models import WorkspaceOwnedModel
from controlplane.runs.states import StateType


class RunStateFields(models.Model):
    """The current state, denormalised onto the run so lists and claims never join the history."""

    state_type = models.CharField(max_length=16, choices=StateType.choices, default=StateType.SCHEDULED)
    state_name = models.CharField(max_length=64, default="Scheduled")
    state_timestamp = models.DateTimeField(null=True, blank=True)
    state_message = models.TextField(blank=True)
    state_details = models.JSONField(default=dict, blank=True)
    run_count = models.PositiveIntegerField(default=0)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    total_run_time = models.FloatField(default=0.0)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True


class FlowRun(WorkspaceOwnedModel, RunStateFields):
    flow = models.ForeignKey("flows.Flow", on_delete=models.CASCADE, related_name="runs")
    deployment = models.ForeignKey(
        "flows.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    name = models.CharField(max_length=255)
    parameters = models.JSONField(default=dict, blank=True)
    # NULL, not "", for "no key": the unique constraint must ignore runs without one.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    idempotency_fingerprint = models.CharField(max_length=64, blank=True)
    parent_task_run = models.ForeignKey(
        "runs.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="subflow_runs"
    )
    work_pool = models.ForeignKey(
        "workpools.WorkPool", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    work_queue = models.ForeignKey(
        "workpools.WorkQueue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    job_variables = models.JSONField(default=dict, blank=True)
    expected_start_time = models.DateTimeField(null=True, blank=True)
    next_scheduled_start_time = models.DateTimeField(null=True, blank=True)
    max_retries = models.PositiveIntegerField(default=0)
    retry_delay_seconds = models.PositiveIntegerField(default=0)
    auto_scheduled = models.BooleanField(default=False)
    schedule = models.ForeignKey(
        "flows.DeploymentSchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    infrastructure_pid = models.CharField(max_length=255, blank=True)
    # Dispatch (the agent issue builds on these): who holds the run, until when, and the
    # fencing token that every report must carry.
    lease_owner = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    epoch = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            # Several schedulers at once never create the same scheduled run twice.
            models.UniqueConstraint(
                fields=["schedule", "expected_start_time"],
                condition=Q(auto_scheduled=True),
                name="flow_run_unique_per_schedule_slot",
            ),
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="flow_run_idempotency_key_unique_in_workspace",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="flow_run_recent"),
            models.Index(fields=["workspace", "state_type", "-created_at"], name="flow_run_by_state"),
            models.Index(fields=["deployment", "state_type"], name="flow_run_deployment_state"),
            models.Index(
                fields=["work_queue", "next_scheduled_start_time"],
                condition=Q(state_type="SCHEDULED"),
                name="flow_run_due",
            ),
            # The due-run waker and the late-runs service scan SCHEDULED runs by time, across workspaces.
            models.Index(
                fields=["next_scheduled_start_time"], condition=Q(state_type="SCHEDULED"), name="flow_run_due_any_queue"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TaskRun(WorkspaceOwnedModel, RunStateFields):
    """A task's run. Its id is chosen by the client, so task runs are reported in batches."""

    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.CASCADE, related_name="task_runs")
    name = models.CharField(max_length=255)
    task_key = models.CharField(max_length=255)
    dynamic_key = models.CharField(max_length=255, blank=True)
    cache_key = models.CharField(max_length=255, blank=True)
    max_retries = models.PositiveIntegerField(default=0)
    task_inputs = models.JSONField(default=dict, blank=True)
    expected_start_time = models.DateTimeField(null=True, blank=True)
    next_scheduled_start_time = models.DateTimeField(null=True, blank=True)
    # Background task runs (`task.delay()`, docs/background-tasks.md): no flow run, executed by
    # `tether task-worker serve`. The arguments stay in the caller's storage: the server keeps
    # their key there (`parameters_ref`) unless the caller sent small JSON `parameters` instead.
    background = models.BooleanField(default=False)
    parameters = models.JSONField(default=dict, blank=True)
    parameters_ref = models.CharField(max_length=255, blank=True)
    result_storage = models.CharField(max_length=1024, blank=True)
    # NULL, not "", for "no key": the unique constraint must ignore runs without one.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    idempotency_fingerprint = models.CharField(max_length=64, blank=True)
    # Dispatch to task workers, as for flow runs: the holder, until when, and the fencing epoch.
    lease_owner = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    epoch = models.PositiveIntegerField(default=0)
    worker_name = models.CharField(max_length=100, blank=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="task_run_idempotency_key_unique_in_workspace",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["flow_run", "created_at"], name="task_run_by_flow_run"),
            models.Index(
                fields=["workspace", "task_key", "next_scheduled_start_time"],
                condition=Q(background=True, state_type="SCHEDULED"),
                name="task_run_background_due",
            ),
            models.Index(
                fields=["lease_expires_at"], condition=Q(lease_expires_at__isnull=False), name="task_run_leased"
            ),
            models.Index(
                fields=["workspace", "-created_at"], condition=Q(background=True), name="task_run_background_recent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RunState(models.Model):
    """One entry of a run's state history (append-only)."""

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=16, choices=StateType.choices)
    name = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class FlowRunState(RunState):
    flow_run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="states")

    class Meta:
        ordering = ("id",)  # a history reads oldest first
        indexes: ClassVar = [models.Index(fields=["flow_run", "id"], name="flow_run_state_history")]


class TaskRunState(RunState):
    task_run = models.ForeignKey(TaskRun, on_delete=models.CASCADE, related_name="states")

    class Meta:
        ordering = ("id",)
        indexes: ClassVar = [models.Index(fields=["task_run", "id"], name="task_run_state_history")]


class LogLevel(models.IntegerChoices):
    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40
    CRITICAL = 50


class Log(models.Model):
    """A log line of a run. `seq` is the sender's sequence number: a re-sent batch is not stored twice."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey("orgs.Workspace", on_delete=models.CASCADE, related_name="+")
    # NULL only for a background task run's lines (they belong to no flow run).
    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.CASCADE, related_name="logs")
    task_run_id = models.UUIDField(null=True, blank=True)
    source = models.CharField(max_length=64, default="engine")
    seq = models.BigIntegerField()
    level = models.PositiveSmallIntegerField(default=LogLevel.INFO)
    name = models.CharField(max_length=255, blank=True)
    message = models.TextField()
    timestamp = models.DateTimeField()

    objects: ClassVar[WorkspaceScopedManager[Any]] = WorkspaceScopedManager()
    dangerously_unscoped: ClassVar[models.Manager[Any]] = models.Manager()

    class Meta:
        default_manager_name = "objects"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["flow_run", "source", "seq"], name="log_sequence_unique_per_source"),
            models.UniqueConstraint(
                fields=["task_run_id", "source", "seq"],
                condition=Q(flow_run__isnull=True),
                name="log_background_sequence_unique_per_source",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["flow_run", "timestamp", "id"], name="log_by_run_time"),
            models.Index(
                fields=["task_run_id", "timestamp", "id"],
                condition=Q(flow_run__isnull=True),
                name="log_background_by_task_run",
            ),
        ]

    def __str__(self) -> str:
        return self.message[:80]


class ArtifactType(models.TextChoices):
    MARKDOWN = "markdown"
    TABLE = "table"
    LINK = "link"


class Artifact(WorkspaceOwnedModel):
    """A keyed artifact keeps every version; the newest of a key is the current one."""

    key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 - unkeyed artifacts are NULL
    type = models.CharField(max_length=16, choices=ArtifactType.choices)
    description = models.TextField(blank=True)
    data = models.JSONField()
    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.CASCADE, related_name="artifacts")
    task_run_id = models.UUIDField(null=True, blank=True)

    class Meta(WorkspaceOwnedModel.Meta):
        indexes: ClassVar = [models.Index(fields=["workspace", "key", "-created_at"], name="artifact_by_key")]

    def __str__(self) -> str:
        return self.key or f"{self.type} artifact"


class FlowRunInput(WorkspaceOwnedModel):
    """A value given to a flow run while it runs, by key: e.g. the input a paused run was resumed with.

    Small JSON metadata (the same 512 KiB limit as parameters); the run's process reads it back.
    """

    flow_run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="inputs")
    key = models.CharField(max_length=255)
    value = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["flow_run", "key"], name="flow_run_input_key_unique_per_run")
        ]

    def __str__(self) -> str:
        return self.key
