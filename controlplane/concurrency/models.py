"""Global concurrency limits: named slot pools that flows and tasks occupy through leases."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from controlplane.core.models import WorkspaceOwnedModel


class ConcurrencyLimit(WorkspaceOwnedModel):
    """`limit` slots. With `slot_decay_per_second` > 0 it is a rate limit: slots free themselves
    over time (occupancy decays) instead of on release."""

    name = models.CharField(max_length=255)
    limit = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    slot_decay_per_second = models.FloatField(default=0.0)
    # Rate limits only: occupancy as of `decayed_at`.
    decaying_slots = models.FloatField(default=0.0)
    decayed_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceOwnedModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["workspace", "name"], name="concurrency_limit_name_unique_in_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.limit})"


class ConcurrencyLease(WorkspaceOwnedModel):
    """Slots held until released or until `expires_at` — a holder that dies frees them by expiring."""

    limits = models.ManyToManyField(ConcurrencyLimit, related_name="leases")
    slots = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField(db_index=True)
    holder = models.CharField(max_length=255, blank=True)
    # Set when a run token acquired the lease: that run (and only it) may renew and release it.
    # A plain id, not a foreign key: the lease outlives nothing and expires on its own.
    flow_run_id = models.UUIDField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lease of {self.slots} until {self.expires_at:%H:%M:%S}"
