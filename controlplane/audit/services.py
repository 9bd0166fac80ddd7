"""Recording audit entries. Callers pass no secrets: `changes` holds names, roles and ids."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.db import models

from controlplane.audit.models import AuditEntry
from controlplane.orgs.models import Organization, Workspace
from controlplane.orgs.principals import Actor


def audit_record(
    *,
    actor: Actor,
    action: str,
    organization: Organization,
    target: models.Model,
    target_label: str = "",
    workspace: Workspace | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    principal = actor.principal
    entry = AuditEntry(
        organization=organization,
        workspace=workspace,
        actor_type=principal.kind,
        actor_id=principal.id,
        actor_label=principal.label,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=target_label or str(target),
        changes=changes or {},
        client_ip=actor.client_ip,
    )
    entry.save()
    return entry


def audit_workspace_record(
    *,
    actor: Actor,
    action: str,
    target: Any,
    target_label: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record a change to a workspace-owned object (pool, queue, deployment, block…)."""
    workspace: Workspace = target.workspace
    return audit_record(
        actor=actor,
        action=action,
        organization=workspace.organization,
        workspace=workspace,
        target=target,
        target_label=target_label[:255],
        changes=changes,
    )


def audit_diff(changes: Mapping[str, tuple[Any, Any]], *, shown: Collection[str]) -> dict[str, Any]:
    """`{field: [before, after]}` for fields in `shown`, `"changed"` for the rest (JSON that may hold secrets)."""
    return {
        field: [before, after] if field in shown else "changed"
        for field, (before, after) in changes.items()
        if before != after
    }
