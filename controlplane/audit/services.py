"""Recording audit entries. Callers pass no secrets: `changes` holds names, roles and ids."""

from __future__ import annotations

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
