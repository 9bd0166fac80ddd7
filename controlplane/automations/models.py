"""Automations (a trigger and actions), their per-bucket trigger state, firings, action runs and
delivery attempts; SLAs on deployments compile to automations."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from controlplane.core.models import WorkspaceOwnedModel


class Automation(WorkspaceOwnedModel):
    """`trigger` and `actions` are JSON documents validated by `automations.triggers`/`actions`."""

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    trigger = models.JSONField()
    actions = models.JSONField(default=list)
    # Set when an SLA owns this automation: it is edited through the SLA, not directly.
    sla = models.OneToOneField(
        "automations.DeploymentSla", null=True, blank=True, on_delete=models.CASCADE, related_name="automation"
    )

    def __str__(self) -> str:
        return self.name


class TriggerBucket(WorkspaceOwnedModel):
    """The state of one trigger (by its `path` in the trigger tree) for one `for_each` key.

    Rows are locked (`select_for_update`) while an event or a deadline updates them, so
    several workers agree on counts, and a restart finds the state where it was committed.
    """

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="buckets")
    path = models.CharField(max_length=64)
    key = models.CharField(max_length=1024)
    armed = models.BooleanField(default=False)
    count = models.IntegerField(default=0)
    window_start = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)  # compound/sequence progress, last event

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["automation", "path", "key"], name="trigger_bucket_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["deadline"], name="bucket_due", condition=models.Q(armed=True)),
        ]


class Firing(WorkspaceOwnedModel):
    """One time an automation's trigger fired. `key` makes re-evaluating the same cause a no-op."""

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="firings")
    key = models.CharField(max_length=512)
    triggering_event = models.JSONField(null=True, blank=True)  # the event that fired it (reactive)
    reason = models.CharField(max_length=1000, blank=True, default="")

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["automation", "key"], name="firing_key_unique"),
        ]


class ActionStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ActionRun(WorkspaceOwnedModel):
    """One action of one firing: executed after the firing commits, retried with backoff until done."""

    firing = models.ForeignKey(Firing, on_delete=models.CASCADE, related_name="action_runs")
    index = models.PositiveSmallIntegerField()
    action = models.JSONField()  # the action as it was when the automation fired
    status = models.CharField(max_length=16, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["firing", "index"], name="action_run_unique"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["next_attempt_at"], name="action_run_due", condition=models.Q(status="pending")),
        ]


class DeliveryOutcome(models.TextChoices):
    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"


class DeliveryAttempt(WorkspaceOwnedModel):
    """One outgoing HTTP or SMTP attempt of an action: its target (no path: paths may be secret) and outcome."""

    action_run = models.ForeignKey(ActionRun, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    target = models.CharField(max_length=512)
    outcome = models.CharField(max_length=16, choices=DeliveryOutcome.choices)
    status_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.IntegerField(default=0)


class SlaKind(models.TextChoices):
    START_WITHIN = "start_within"
    COMPLETE_WITHIN = "complete_within"
    FRESHNESS = "freshness"


class DeploymentSla(WorkspaceOwnedModel):
    """A friendly form over a proactive automation (see automations.slas)."""

    deployment = models.ForeignKey("flows.Deployment", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, choices=SlaKind.choices)
    seconds = models.PositiveIntegerField(null=True, blank=True)
    time_of_day = models.TimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    actions = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["deployment", "name"], name="deployment_sla_name_unique"),
        ]
