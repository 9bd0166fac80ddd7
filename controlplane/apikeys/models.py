"""API keys for users (`tether_pat_…`) and service accounts (`tether_sa_…`)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from controlplane.core.models import OrganizationOwnedModel, WorkspaceOwnedModel


class ApiKey(OrganizationOwnedModel):
    """A key works only inside its organisation, and only in `workspace` when that is set.

    Its effective scopes are its own `scopes` (all of the principal's when null) intersected
    with the principal's role where it is used.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    service_account = models.ForeignKey(
        "orgs.ServiceAccount", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    workspace = models.ForeignKey("orgs.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    scopes = models.JSONField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(OrganizationOwnedModel.Meta):
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, service_account__isnull=True)
                | Q(user__isnull=True, service_account__isnull=False),
                name="api_key_one_principal",
            )
        ]

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix}… {self.name!r}>"

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class RunToken(WorkspaceOwnedModel):
    """The credential of one flow run's process (`tether_run_…`), minted when an agent claims it.

    It works only in its workspace, only for its run (and that run's subflows), and only while
    the claim that minted it holds: the run's epoch and lease owner still match, the lease
    (plus a grace) has not ended, and the run is not finished. Nothing refreshes the token
    itself: validity is read from the run, so a lost lease or a final state ends it at once.
    """

    prefix = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=64)
    flow_run = models.ForeignKey("runs.FlowRun", on_delete=models.CASCADE, related_name="+")
    epoch = models.PositiveIntegerField()
    agent = models.ForeignKey("workpools.Agent", null=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __repr__(self) -> str:
        return f"<RunToken {self.prefix}… run={self.flow_run_id} epoch={self.epoch}>"
