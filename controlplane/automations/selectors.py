"""Reads for automations and their firings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from controlplane.automations.models import ActionRun, Automation, Firing
from controlplane.core.query_params import uuid_params


def automations_list() -> QuerySet[Automation]:
    return Automation.objects.order_by("name", "pk")


def firings_list(params: Mapping[str, Any]) -> QuerySet[Firing]:
    """Firings, newest first, with their action runs and delivery attempts; `automation_id` narrows."""
    firings = Firing.objects.select_related("automation").prefetch_related(
        Prefetch("action_runs", queryset=ActionRun.objects.order_by("index").prefetch_related("deliveries"))
    )
    automation_id = params.get("automation_id")
    if automation_id:
        firings = firings.filter(automation_id__in=uuid_params("automation_id", [automation_id]))
    return firings
