from __future__ import annotations

from django.db.models import QuerySet

from controlplane.audit.models import AuditEntry


def audit_entries(*, action_prefix: str | None = None) -> QuerySet[AuditEntry]:
    """The current organisation's audit entries, newest first."""
    entries = AuditEntry.objects.select_related("workspace").order_by("-created_at", "-id")
    if action_prefix:
        entries = entries.filter(action__startswith=action_prefix)
    return entries
